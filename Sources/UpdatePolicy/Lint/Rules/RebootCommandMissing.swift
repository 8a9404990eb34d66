/// `reboot: auto` with a command backend that has no `reboot` command.
enum RebootCommandMissing: PolicyRule {
    static let rule = Rule(
        "UPD409", "reboot-command-missing", .error,
        summary: "`reboot: auto` with a `command` backend that has no `reboot` command.",
        rationale: "The update is activated but the node never reboots into it.",
        fix: "Add `reboot: [/usr/sbin/reboot]` to the backend, or set `reboot: manual`.",
        example: "updates:\n  reboot: auto\n  backend:\n    type: command\n    stage: [/usr/bin/dd, \"if=${IMAGE}\", \"of=${SLOT}\"]\n"
            + "    activate: [/usr/local/sbin/ab-switch, \"${SLOT}\"]\n    rollback: [/usr/local/sbin/ab-switch, --back]\n    booted_slot: [/usr/local/sbin/ab-switch, --booted]"
    )

    static func check(_ checks: inout CrossChecks) {
        let policy = checks.policy
        guard case .command(let backend) = policy.backend, policy.reboot.value == .auto, backend.commands["reboot"] == nil,
            let mark = policy.reboot.origin.mark
        else { return }
        checks.findings.append(
            Finding(
                .rebootCommandMissing,
                "reboot is auto, but the command backend has no `reboot` command: the update is activated and the node "
                    + "never reboots into it",
                start: mark, end: checks.end(of: mark), help: "add `reboot: [/usr/sbin/reboot]` to the backend, or set `reboot: manual`"))
    }
}

extension RuleID {
    public static let rebootCommandMissing = RebootCommandMissing.rule.id
}
