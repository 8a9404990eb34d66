/// A settle that is not shorter than the verification timeout that includes it.
enum SettleNotUnderTimeout: PolicyRule {
    static let rule = Rule(
        "UPD401", "settle-not-under-timeout", .error,
        summary: "A settle time is not shorter than the verification run's timeout.",
        rationale: "The run ends before the settle is over, so verification can never pass and every update "
            + "counts as failed.",
        fix: "Make `healthcheck.timeout` longer than every settle, with room for a probe round.",
        example: "updates:\n  kube_system_settle: 5m\n  healthcheck: {timeout: 5m}")

    static func check(_ checks: inout CrossChecks) {
        let health = checks.policy.healthcheck, timeout = health.timeout, settle = health.settle
        guard !timeout.origin.isInvalid, !settle.origin.isInvalid, settle.value > .zero, settle.value >= timeout.value else { return }
        checks.findings.append(
            Finding(
                .settleNotUnderTimeout,
                "healthcheck.settle \(checks.format(settle.value)) is not shorter than healthcheck.timeout "
                    + "\(checks.format(timeout.value))\(checks.said(timeout.origin)), which includes it: no probe round can run "
                    + "before the deadline, so verification can never pass",
                start: checks.at(settle.origin), end: checks.end(of: settle.origin.mark),
                help: "make healthcheck.timeout longer than the settle, with room for probe rounds"))
    }
}

extension RuleID {
    public static let settleNotUnderTimeout = SettleNotUnderTimeout.rule.id
}
