/// A probe interval longer than the verification timeout: one round only.
enum IntervalOverTimeout: PolicyRule {
    static let rule = Rule(
        "UPD403", "interval-over-timeout", .warning,
        summary: "The probe interval is longer than the verification run's timeout.",
        rationale: "Only one probe round can run, so one slow start fails the update.",
        fix: "Make `healthcheck.interval` a fraction of `healthcheck.timeout`.",
        example: "updates:\n  healthcheck: {timeout: 1m, interval: 2m}", fixes: .unsafe)

    static func check(_ checks: inout CrossChecks) {
        let health = checks.policy.healthcheck, interval = health.interval, timeout = health.timeout
        guard !timeout.origin.isInvalid, !interval.origin.isInvalid, interval.value > timeout.value else { return }
        var finding = Finding(
            .intervalOverTimeout,
            "healthcheck.interval \(checks.format(interval.value)) is longer than healthcheck.timeout "
                + "\(checks.format(timeout.value))\(checks.said(timeout.origin)): only one probe round can run, so one slow "
                + "start fails the update",
            start: checks.at(interval.origin), end: checks.end(of: interval.origin.mark),
            help: "make the interval a fraction of the timeout, e.g. 10s")
        // 10s is a choice made for the author, offered only where it is a fraction of the timeout.
        if timeout.value > .seconds(10), let mark = interval.origin.mark, let end = checks.end(of: mark) {
            finding.propose(.yaml("10s", "write `10s`", .unsafe), replacing: mark, end)
        }
        checks.findings.append(finding)
    }
}

extension RuleID {
    public static let intervalOverTimeout = IntervalOverTimeout.rule.id
}
