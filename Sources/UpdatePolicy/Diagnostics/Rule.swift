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
    /// Which fixes its findings may carry for `lint --fix`.
    public var fixes: FixAvailability

    public init(
        _ id: String, _ name: String, _ severity: Severity, summary: String, rationale: String, fix: String,
        example: String, fixes: FixAvailability = .none
    ) {
        self.id = RuleID(id)
        self.name = name
        self.severity = severity
        self.summary = summary
        self.rationale = rationale
        self.fix = fix
        self.example = example
        self.fixes = fixes
    }

    /// The rule's section of the reference in updatectl's source tree: the heading
    /// `### UPD201 unknown-key` has the anchor `upd201-unknown-key`. There is no published site, so
    /// reports name this path (and `lint --explain`) instead of a URL.
    public var documentationPath: String { "docs/lint-rules.md#\(id.rawValue.lowercased())-\(name)" }

    /// Where to read more, as reports say it.
    public var documentationPointer: String { "`updatectl lint --explain \(id)`, or \(documentationPath) in updatectl's source" }

    /// The category GitLab's Code Quality report files the rule under (Code Climate's list):
    /// trust, signatures and what an attacker could use are Security; values that YAML 1.1 and 1.2
    /// read differently are Compatibility; suppression hygiene is Style; everything else, unknown
    /// keys included (a setting the author believes in effect is not), is Bug Risk.
    public var codeQualityCategory: String {
        switch id.rawValue {
        case "UPD313", "UPD406", "UPD410", "UPD411", "UPD414", "UPD416", "UPD417", "UPD501", "UPD503", "UPD506", "UPD507":
            "Security"
        case "UPD309", "UPD310": "Compatibility"
        case "UPD001", "UPD002": "Style"
        default: "Bug Risk"
        }
    }

    /// The rule's documentation as Markdown (SARIF's `help.markdown`, shown by code scanning).
    public var markdown: String {
        "**\(id) \(name)** (\(severity.rawValue)): \(summary)\n\n**Why:** \(rationale)\n\n**Fix:** \(fix)\n\n"
            + (fixes.explanation.map { "**Automatic fix:** \($0).\n\n" } ?? "")
            + "```yaml\n\(example)\n```\n\nSilence one finding with `# updatectl: disable=\(id)`. More: \(documentationPointer)."
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
