import UpdatePolicy

enum RuleDocs {
    /// `updatectl lint --explain CODE`.
    static func explain(_ rule: Rule) -> String {
        """
        \(rule.id) \(rule.name) (\(rule.severity.rawValue), \(rule.area.lowercased()))

        \(rule.summary)

        Why: \(rule.rationale)

        Fix: \(rule.fix)

        Example:
        \(rule.example.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n"))

        Silence it on one line with:  # updatectl: disable=\(rule.id)

        """
    }
}
