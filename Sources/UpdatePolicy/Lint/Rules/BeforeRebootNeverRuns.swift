/// `hooks.before_reboot` with `reboot: manual`: updatectl never reboots, so the commands never run.
enum BeforeRebootNeverRuns: PolicyRule {
    static let rule = Rule(
        "UPD420", "before-reboot-never-runs", .warning,
        summary: "`hooks.before_reboot` with `reboot: manual`.",
        rationale: "The commands run before updatectl reboots the node into an update; with `reboot: manual` it never "
            + "does, so they never run and the operator reboots a node whose workloads were not stopped.",
        fix: "Set `reboot: auto`, or run the commands before rebooting by hand and drop them from `hooks`.",
        example: "updates:\n  reboot: manual\n  hooks:\n    before_reboot:\n      - [/usr/local/bin/drain-workloads]")

    static func check(_ checks: inout CrossChecks) {
        let policy = checks.policy
        guard policy.reboot.value == .manual, let first = policy.hooks[.beforeReboot].first, let mark = first.origin.mark else {
            return
        }
        checks.findings.append(
            Finding(
                .beforeRebootNeverRuns,
                "reboot is \(policy.reboot.value.rawValue)\(checks.said(policy.reboot.origin)), so updatectl never reboots "
                    + "and the before_reboot commands never run",
                start: mark, help: "set `reboot: auto`, or drop the commands and run them before rebooting by hand"))
    }
}

extension RuleID {
    public static let beforeRebootNeverRuns = BeforeRebootNeverRuns.rule.id
}
