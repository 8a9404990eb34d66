/// `channel`: the release is for the channel this node follows (KubeSolo OS's channel gate). On
/// in every policy, first among the gates; a release that names no channel passes.
public struct ChannelGate: SwitchedGate {
    public var enabled: Located<Bool>

    public static let entry = EntryKind.gate(
        "channel", example: "- channel: true", timeout: "1s", scalarKey: "enabled",
        "Refuses a release whose metadata names another channel than the policy's `channel` (a release that names none "
            + "passes). On in every policy, first among the gates, unless `- channel: false` turns it off.",
        [
            enabledKey("`false` installs releases of any channel.")
        ], type: ChannelGate.self)

    init(enabled: Located<Bool>) { self.enabled = enabled }

    public var summary: String { "the release's channel, when it names one, is the policy's channel" }
    public var parameters: [Parameter] { [] }

    public static let refuses = true
    public static let withoutIt: String? = ": releases of any channel are installed"
}
