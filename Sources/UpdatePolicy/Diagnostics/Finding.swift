public import YAMLTree

/// One problem in one file: a stable rule, a severity, where it is, what is wrong and how to fix it.
///
/// Positions are `Mark`s: 1-based line, 1-based column in Unicode scalars, 0-based byte offset.
public struct Finding: Sendable, Hashable, Codable {
    /// A secondary location that explains the finding ("first given here"); the same value the
    /// YAML layer uses for its own notes.
    public typealias Note = YAMLProblem.Note

    public var rule: RuleID
    public var severity: Severity
    public var start: Mark
    public var end: Mark
    public var message: String
    /// What to do about it, when there is something to say.
    public var help: String?
    public var notes: [Note]
    /// Changes that resolve it, each declared by the rule (`Rule.fixes`); `lint --fix` applies them.
    public var fixes: [Fix]

    public init(
        _ rule: RuleID, _ message: String, start: Mark, end: Mark? = nil, help: String? = nil,
        notes: [Note] = [], severity: Severity? = nil, fixes: [Fix] = []
    ) {
        self.rule = rule
        self.severity = severity ?? Rules.rule(rule).severity
        self.start = start
        self.end = max(end ?? start, start)
        self.message = message
        self.help = help
        self.notes = notes
        self.fixes = fixes
    }

    /// A finding that spans a node.
    public init(_ rule: RuleID, _ message: String, at node: Node, help: String? = nil, notes: [Note] = []) {
        self.init(rule, message, start: node.start, end: node.end, help: help, notes: notes)
    }
}
