/// `rollout`: a stable hash of the machine id, a salt and the version falls under the share.
public struct RolloutGate: CheckedGate {
    public var percent: Located<Double>
    public var salt: Located<String>

    public static let entry = EntryKind.gate(
        "rollout", example: "- rollout: {percent: 25, salt: wave-1}", timeout: "1s",
        "Passes when a stable hash of `/etc/machine-id`, `salt` and the offered version falls under `percent`: staged "
            + "rollouts from a plain static server. When the release's signed metadata also carries a rollout wave, both "
            + "must admit the node (`rollout_wave`).",
        [
            Key("percent", .percentage, required: true, "Share of nodes that take the update."),
            Key("salt", .string(nil), default: "\"\"", "Changes which nodes fall in the share."),
        ], type: RolloutGate.self)

    init?(_ options: Fields, _ context: inout KindContext) {
        guard case .percentage? = options.mapping["percent"]?.value else { return nil }
        percent = options.percentage("percent")
        salt = options.text("salt")
    }

    public var summary: String { "this node falls in the first \(PlanValue.percentage(percent.value).display) of the fleet" }

    public var parameters: [Parameter] {
        [Parameter("percent", .percentage(percent.value), percent.origin), Parameter("salt", .text(salt.value), salt.origin)]
    }

    public static let skippedByForce = true
    public static let withoutIt: String? = ": every node takes the update at once"
    public static let facts = [Key.machineIDFact]

    public func changes(from old: RolloutGate, step: String) -> (messages: [String], covered: Set<String>) {
        guard old.percent.value != percent.value else { return ([], []) }
        let before = PlanValue.percentage(old.percent.value).display
        let after = PlanValue.percentage(percent.value).display
        return (
            [
                "`\(step)`: percent \(before) → \(after): \(percent.value > old.percent.value ? "more" : "fewer") nodes take "
                    + "each update"
            ], ["percent"]
        )
    }

    public static let rules = [rolloutZero]

    static let rolloutZero = Rule(
        "UPD408", "rollout-zero", .warning,
        summary: "`rollout: {percent: 0}`: no node ever takes the update.",
        rationale: "A zero rollout is a pause written as a rollout; it is easy to ship by mistake.",
        fix: "Raise the percentage, or say what is meant by removing the server or the gate.",
        example: "updates:\n  preflight:\n    - rollout: {percent: 0}")

    func check(_ gate: Gate, _ checks: inout CrossChecks) {
        guard percent.value == 0, let mark = percent.origin.mark else { return }
        checks.findings.append(
            Finding(
                .rolloutZero, "rollout percent is 0: no node ever takes the update", start: mark, end: checks.end(of: mark),
                help: "raise the percentage; to pause updates, say so by removing the server or the gate"))
    }
}

extension RuleID {
    public static let rolloutZero = RolloutGate.rolloutZero.id
}
