import UpdatePolicy

enum RuleDocs {
    /// `updatectl lint --explain` without a code: every rule, one line each.
    static func list() -> String {
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(1, width - text.count)) }
        return Rules.all.map {
            pad($0.id.rawValue, 8) + pad($0.name, 30) + pad($0.severity.rawValue, 9) + pad($0.fixes == .none ? "" : "[*]", 4) + $0.summary
        }
        .joined(separator: "\n")
            + "\n\n[*]: `updatectl lint --fix` fixes findings of the rule (`--explain CODE` says which).\n"
            + "`updatectl lint --explain CODE` prints one rule.\n"
    }

    /// `updatectl lint --explain CODE`.
    static func explain(_ rule: Rule) -> String {
        """
        \(rule.id) \(rule.name) (\(rule.severity.rawValue), \(rule.area.lowercased()))

        \(rule.summary)

        Why: \(rule.rationale)

        Fix: \(rule.fix)
        \(rule.fixes.explanation.map { "\nAutomatic fix: \($0).\n" } ?? "")
        Example:
        \(rule.example.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n"))

        Silence it on one line with:  # updatectl: disable=\(rule.id)

        """
    }
}
