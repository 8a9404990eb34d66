import YAMLTree

/// A finding's words before it has a place: its rule, its message and what to do. Each rule's
/// messages are written once, in `Diagnostics/Messages/` by area (structure, values, YAML), as
/// static members of this type; the code that finds a problem picks one by name and cannot pair
/// words with the wrong rule.
public struct Message: Sendable, Hashable {
    public var rule: RuleID
    public var text: String
    public var help: String?
    /// The fix the help names, made into edits where the finding is placed.
    public var fix: FixProposal?

    init(_ rule: RuleID, _ text: String, help: String? = nil, fix: FixProposal? = nil) {
        self.rule = rule
        self.text = text
        self.help = help
        self.fix = fix
    }
}

extension Finding {
    /// A finding of `message` that spans a node.
    init(_ message: Message, at node: Node, notes: [Note] = []) {
        self.init(message.rule, message.text, start: node.start, end: node.end, help: message.help, notes: notes)
        if let fix = message.fix?.fix(for: node) { fixes = [fix] }
    }

    /// A finding of `message` between two marks; `severity` when it is not the rule's own.
    init(_ message: Message, start: Mark, end: Mark? = nil, notes: [Note] = [], severity: Severity? = nil) {
        self.init(message.rule, message.text, start: start, end: end, help: message.help, notes: notes, severity: severity)
        if let proposal = message.fix, case .yaml(let text) = proposal.change, let end, end.offset > start.offset {
            fixes = [Fix(proposal.title, proposal.safety, replacing: start.offset, end.offset, with: text)]
        }
    }
}

extension Finding {
    /// Adds `proposal` as a fix of the bytes between two marks, its text written as it is (for
    /// text that is not YAML, such as update.conf's lines, and findings placed apart from their node).
    mutating func propose(_ proposal: FixProposal?, replacing start: Mark, _ end: Mark) {
        guard let proposal, end.offset >= start.offset else { return }
        let text: String
        switch proposal.change {
        case .yaml(let yaml): text = yaml
        case .value(let value): text = value
        case .quote: return
        }
        fixes.append(Fix(proposal.title, proposal.safety, replacing: start.offset, end.offset, with: text))
    }

    /// Adds `proposal` as a fix of `node`, where the finding stands elsewhere (at the node's start only).
    mutating func propose(_ proposal: FixProposal?, at node: Node) {
        if let fix = proposal?.fix(for: node) { fixes.append(fix) }
    }
}
