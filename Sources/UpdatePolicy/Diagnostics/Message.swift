import YAMLTree

/// A finding's words before it has a place: its rule, its message and what to do. Each rule's
/// messages are written once, in `Diagnostics/Messages/` by area (structure, values, YAML), as
/// static members of this type; the code that finds a problem picks one by name and cannot pair
/// words with the wrong rule.
public struct Message: Sendable, Hashable {
    public var rule: RuleID
    public var text: String
    public var help: String?

    init(_ rule: RuleID, _ text: String, help: String? = nil) {
        self.rule = rule
        self.text = text
        self.help = help
    }
}

extension Finding {
    /// A finding of `message` that spans a node.
    init(_ message: Message, at node: Node, notes: [Note] = []) {
        self.init(message.rule, message.text, start: node.start, end: node.end, help: message.help, notes: notes)
    }

    /// A finding of `message` between two marks; `severity` when it is not the rule's own.
    init(_ message: Message, start: Mark, end: Mark? = nil, notes: [Note] = [], severity: Severity? = nil) {
        self.init(message.rule, message.text, start: start, end: end, help: message.help, notes: notes, severity: severity)
    }
}
