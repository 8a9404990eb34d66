/// A probe whose own timeout is longer than the whole verification run.
enum ProbeTimeoutOverRun: PolicyRule {
    static let rule = Rule(
        "UPD402", "probe-timeout-over-run", .warning,
        summary: "A probe's timeout is longer than the whole verification run's timeout.",
        rationale: "The run's deadline cuts the probe off first, so the probe's own timeout never applies.",
        fix: "Shorten the probe's timeout or lengthen `healthcheck.timeout`.",
        example: "updates:\n  healthcheck:\n    timeout: 1m\n    probes:\n      - exec: {command: [/bin/true], timeout: 5m}")

    static func check(_ checks: inout CrossChecks) {
        let health = checks.policy.healthcheck, timeout = health.timeout
        guard !timeout.origin.isInvalid else { return }
        // Read in place: a policy may list tens of thousands of probes, and few are reported.
        let long = health.probes.withUnsafeBufferPointer { probes in
            probes.indices.filter { !probes[$0].timeout.origin.isInvalid && probes[$0].timeout.value > timeout.value }
        }
        for index in long {
            let probe = health.probes[index]
            // The value that makes the conflict: the probe's timeout when written, else the run's
            // (a default probe timeout, as the always-on probe's, is nowhere in the policy).
            let at =
                !probe.timeout.origin.isDefault
                ? probe.timeout.origin
                : !timeout.origin.isDefault ? timeout.origin : checks.origin(of: probe.source)
            checks.findings.append(
                Finding(
                    .probeTimeoutOverRun,
                    "probe `\(probe.name.value)` may take \(checks.format(probe.timeout.value))\(checks.said(probe.timeout.origin)), "
                        + "longer than the whole verification run (healthcheck.timeout \(checks.format(timeout.value))"
                        + "\(checks.said(timeout.origin))): the run's deadline cuts it off first",
                    start: checks.at(at), end: checks.end(of: at.mark),
                    help: "shorten the probe's timeout or lengthen healthcheck.timeout"))
        }
    }
}

extension RuleID {
    public static let probeTimeoutOverRun = ProbeTimeoutOverRun.rule.id
}
