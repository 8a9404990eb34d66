/// Probe rounds less than a second apart.
enum ShortInterval: PolicyRule {
    static let rule = Rule(
        "UPD412", "short-interval", .warning,
        summary: "`healthcheck.interval` is under a second.",
        rationale: "Each round runs every probe; rounds back to back load a node that is just booting and rarely "
            + "see a different answer. updatectl waits at least 100ms between rounds whatever the policy says.",
        fix: "Use an interval of a few seconds, e.g. 10s.",
        example: "updates:\n  healthcheck: {interval: 200ms}", fixes: .unsafe)

    static func check(_ checks: inout CrossChecks) {
        let health = checks.policy.healthcheck, interval = health.interval
        guard !health.timeout.origin.isInvalid, !interval.origin.isInvalid, interval.value < .seconds(1), let mark = interval.origin.mark
        else { return }
        var finding = Finding(
            .shortInterval,
            "healthcheck.interval \(checks.format(interval.value)) is under a second: probe rounds would run back to back "
                + "(updatectl waits at least 100ms between them)",
            start: mark, end: checks.end(of: mark), help: "use a few seconds, e.g. 10s")
        // 10s is a choice made for the author, and slows verification down.
        if let end = checks.end(of: mark) { finding.propose(.yaml("10s", "write `10s`", .unsafe), replacing: mark, end) }
        checks.findings.append(finding)
    }
}

extension RuleID {
    public static let shortInterval = ShortInterval.rule.id
}
