import YAMLTree

/// `no_downgrade`: the offered version is newer than the running and the last committed one.
/// On in every policy unless `- no_downgrade: false` turns it off: an old release that is still
/// validly signed must not install when a mirror replays it.
public struct NoDowngradeGate: SwitchedGate {
    public var enabled: Located<Bool>

    public static let entry = EntryKind.gate(
        "no_downgrade", example: "- no_downgrade: true", timeout: "1s", scalarKey: "enabled",
        "Passes when the offered version is newer than the running one and the last committed one (semantic versions). "
            + "On in every policy, first among the gates, unless `- no_downgrade: false` turns it off; write it to place it "
            + "elsewhere.",
        [
            enabledKey("`false` allows downgrades (a lint warning).")
        ], type: NoDowngradeGate.self)

    init(enabled: Located<Bool>) { self.enabled = enabled }

    public var summary: String { "the offered version is newer than the running and the last committed one" }
    public var parameters: [Parameter] { [] }

    public static let withoutIt: String? = ": downgrades are no longer refused"

    public static let rules = [downgradesAllowed]

    static let downgradesAllowed = Rule(
        "UPD410", "downgrades-allowed", .warning,
        summary: "`- no_downgrade: false` turns off the check that refuses older releases.",
        rationale: "An old release that is still validly signed can then be replayed by a mirror or a man in the "
            + "middle and installed, bringing back fixed vulnerabilities.",
        fix: "Remove the entry (downgrades are refused by default); to go back a version, publish it with a higher "
            + "version number.",
        example: "updates:\n  preflight:\n    - no_downgrade: false", fixes: .unsafe)

    static func checkPolicy(_ checks: inout CrossChecks) {
        for gate in checks.policy.disabledGates {
            guard let off = gate.kind as? NoDowngradeGate, let mark = off.enabled.origin.mark else { continue }
            checks.findings.append(
                Finding(
                    .downgradesAllowed,
                    "downgrades are allowed: an older release that is still validly signed can be replayed and installed",
                    start: mark, end: checks.end(of: mark), help: "remove `- no_downgrade: false`; publish a rollback as a higher version",
                    fixes: removal(at: mark, checks)))
        }
    }
}

extension NoDowngradeGate {
    /// Removing the entry turns the check back on: downgrades the author allowed are refused again.
    static func removal(at mark: Mark, _ checks: CrossChecks) -> [Fix] {
        guard let (item, sequence) = checks.entry(entry.name, holding: mark) else { return [] }
        return Fix.removing(item: item, of: sequence, in: checks.source, "remove `- no_downgrade: false`", .unsafe).map { [$0] } ?? []
    }
}

extension RuleID {
    public static let downgradesAllowed = NoDowngradeGate.downgradesAllowed.id
}
