/// A stable rule code such as `UPD201`.
public struct RuleID: RawRepresentable, Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
    public static func < (lhs: RuleID, rhs: RuleID) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A lint rule's documentation: what it finds, why it matters, how to fix it.
public struct Rule: Sendable, Hashable {
    public var id: RuleID
    /// A kebab-case name, stable like the id.
    public var name: String
    public var severity: Severity
    /// One line: what the rule finds.
    public var summary: String
    /// Why it matters.
    public var rationale: String
    /// How to fix it.
    public var fix: String
    /// A short policy fragment that triggers the rule.
    public var example: String

    public init(
        _ id: String, _ name: String, _ severity: Severity, summary: String, rationale: String, fix: String,
        example: String
    ) {
        self.id = RuleID(id)
        self.name = name
        self.severity = severity
        self.summary = summary
        self.rationale = rationale
        self.fix = fix
        self.example = example
    }

    /// Where the rule's section of docs/lint-rules.md is published: reports link there
    /// (SARIF's `helpUri`). The heading `### UPD201 unknown-key` has the anchor `upd201-unknown-key`.
    public static let documentationBase = "https://updatectl.dev/docs/lint-rules"

    public var documentationURI: String { "\(Self.documentationBase)#\(id.rawValue.lowercased())-\(name)" }

    /// The rule's documentation as Markdown (SARIF's `help.markdown`, shown by code scanning).
    public var markdown: String {
        "**\(id) \(name)** (\(severity.rawValue)): \(summary)\n\n**Why:** \(rationale)\n\n**Fix:** \(fix)\n\n"
            + "```yaml\n\(example)\n```\n\nSilence one finding with `# updatectl: disable=\(id)`."
    }

    /// The area a rule belongs to, from the hundreds digit of its code.
    public var area: String {
        switch id.rawValue.dropFirst(3).first {
        case "0": "Inline suppressions"
        case "1": "YAML"
        case "2": "Structure"
        case "3": "Values"
        case "4": "Cross-field rules"
        case "5": "Checks on the host (--on-host)"
        default: "Other"
        }
    }
}
