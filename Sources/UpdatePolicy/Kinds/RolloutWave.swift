/// `rollout_wave`: a rollout wave that the release's signed metadata carries (`"rollout"` in
/// `latest.json`, annotations on a registry manifest) admits this node. The share of nodes
/// admitted grows from the wave's start percentage to 100 % over its duration; a node is admitted
/// once the share passes its place, its `rollout` bucket moved earlier or later by the policy's
/// `rollout_wariness`. On in every policy unless `- rollout_wave: false` turns it off; a release
/// without a wave passes.
public struct RolloutWaveGate: DecodableGate {
    public var enabled: Located<Bool>
    /// `rollout_wariness`: 0 goes first, 1 last, 0.5 at the node's bucket.
    public var wariness: Located<Double>

    public static let entry = EntryKind.gate(
        "rollout_wave", example: "- rollout_wave: true", timeout: "1s", scalarKey: "enabled",
        "Defers the update until a rollout wave in the release's signed metadata admits this node: the admitted share "
            + "grows from the wave's start percentage to 100% over its duration, and the node is admitted once the share "
            + "passes its place (its `rollout` bucket, moved earlier or later by `rollout_wariness`). A release without a "
            + "wave passes; a wave in unsigned metadata is ignored. On in every policy unless `- rollout_wave: false` "
            + "turns it off.",
        [
            Key("enabled", .boolean, default: "true", "`false` ignores the release's rollout wave: the node takes it at once.")
        ], type: RolloutWaveGate.self)

    init?(_ options: Fields, _ context: inout KindContext) {
        enabled = options.boolean("enabled")
        wariness = context.updates.fraction("rollout_wariness")
    }

    public var summary: String {
        "a rollout wave in the release's signed metadata admits this node (read from the release at run time)"
    }

    public var parameters: [Parameter] {
        [Parameter("rollout_wariness", .text(Self.show(wariness.value)), wariness.origin)]
    }

    public func changes(from old: RolloutWaveGate, step: String) -> (messages: [String], covered: Set<String>) {
        guard old.wariness.value != wariness.value else { return ([], []) }
        return (
            [
                "`\(step)`: rollout_wariness \(Self.show(old.wariness.value)) → \(Self.show(wariness.value)): this node is "
                    + "admitted \(wariness.value < old.wariness.value ? "earlier" : "later") in each rollout wave"
            ], ["rollout_wariness"]
        )
    }

    public static let facts = [Key.machineIDFact]
    static let alwaysOn = true
    static let defaultText = "rollout_wave: true"
    var isOff: Bool { !enabled.value }
    public static let skippedByForce = true
    public static let withoutIt: String? = ": a rollout wave in the release's metadata is ignored; the node takes it at once"

    /// `0.25`, `1`.
    public static func show(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
