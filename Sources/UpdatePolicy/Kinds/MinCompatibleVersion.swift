/// `min_compatible_version`: the running version is new enough to update to the release
/// directly (KubeSolo OS's min-version gate). On in every policy; a release that names no
/// minimum passes.
public struct MinCompatibleVersionGate: SwitchedGate {
    public var enabled: Located<Bool>

    public static let entry = EntryKind.gate(
        "min_compatible_version", example: "- min_compatible_version: true", timeout: "1s", scalarKey: "enabled",
        "Refuses a release whose `min_compatible_version` is newer than the running version (versions compared by their "
            + "three numbers, a leading `v` optional); a release that names none passes. On in every policy unless turned "
            + "off.",
        [
            enabledKey("`false` installs releases that need a newer starting version.")
        ], type: MinCompatibleVersionGate.self)

    init(enabled: Located<Bool>) { self.enabled = enabled }

    public var summary: String { "the running version is at least the release's min_compatible_version" }
    public var parameters: [Parameter] { [] }

    public static let refuses = true
    public static let withoutIt: String? = ": releases that need a newer starting version are installed"
}
