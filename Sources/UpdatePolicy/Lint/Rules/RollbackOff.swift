import YAMLTree

/// Probes configured while failed verification never rolls back.
enum RollbackOff: PolicyRule {
    static let rule = Rule(
        "UPD404", "rollback-off", .warning,
        summary: "`auto_rollback_after: 0` while probes are configured.",
        rationale: "Failed verification is counted but never rolls back: a bad update stays on the node "
            + "until someone acts.",
        fix: "Set `auto_rollback_after` to the number of failed runs that should roll back (3 is common).",
        example: "updates:\n  auto_rollback_after: 0\n  healthcheck:\n    probes:\n      \(RuleExamples.probe())",
        fixes: .unsafe)

    static func check(_ checks: inout CrossChecks) {
        let policy = checks.policy, probes = policy.healthcheck.probes
        let explicitProbes = probes.contains { if case .defaulted = $0.source { return false } else { return true } }
        if case .policy(let mark) = policy.autoRollbackAfter.origin, policy.autoRollbackAfter.value == 0, explicitProbes {
            var finding = Finding(
                .rollbackOff,
                "auto_rollback_after is 0 while probes are configured: failed verification is counted but never rolls "
                    + "back, so a bad update stays on the node until someone acts",
                start: mark, end: checks.end(of: mark), help: "set auto_rollback_after to the failed runs that should roll back, e.g. 3")
            // Rolling back is a change of behaviour, and 3 a count chosen for the author.
            if let end = checks.end(of: mark) { finding.propose(.value("3", .unsafe), replacing: mark, end) }
            checks.findings.append(finding)
        } else if policy.autoRollbackAfter.origin.isDefault,
            probes.contains(where: { if case .entry = $0.source { return true } else { return false } })
        {
            checks.findings.append(
                Finding(
                    .rollbackOff,
                    "probes are configured but auto_rollback_after is not set, so it is 0: failed verification never rolls back",
                    start: checks.anchor.start, help: "add `auto_rollback_after: 3` (or the count you want)",
                    fixes: addition(checks)))
        }
    }
}

extension RollbackOff {
    /// `auto_rollback_after: 3` added to the policy's mapping, above `healthcheck` (or its first
    /// key): rolling back is a change of behaviour, and 3 a count chosen for the author.
    static func addition(_ checks: CrossChecks) -> [Fix] {
        guard let updates = checks.root?.mapping?.first(where: { $0.key.start == checks.anchor.start })?.value,
            updates.start.offset >= checks.anchor.end.offset, let pairs = updates.mapping, let first = pairs.first
        else { return [] }
        let before = pairs.first { $0.key.isScalar("healthcheck") } ?? first
        return Fix.inserting(
            pair: "auto_rollback_after: 3", before: before, of: updates, in: checks.source, "add `auto_rollback_after: 3`", .unsafe
        ).map { [$0] } ?? []
    }
}

extension RuleID {
    public static let rollbackOff = RollbackOff.rule.id
}
