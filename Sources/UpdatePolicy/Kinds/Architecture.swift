/// `architecture`: the release is built for this machine (KubeSolo OS's architecture gate, in
/// Go's names: `amd64`, `arm64`…). On in every policy; a release that names none passes.
public struct ArchitectureGate: SwitchedGate {
    public var enabled: Located<Bool>

    public static let entry = EntryKind.gate(
        "architecture", example: "- architecture: true", timeout: "1s", scalarKey: "enabled",
        "Refuses a release whose metadata names another architecture than this machine's, in Go's names (`amd64`, "
            + "`arm64`, `arm`, `386`, `riscv64`…); a release that names none passes. On in every policy unless "
            + "`- architecture: false` turns it off.",
        [
            enabledKey("`false` installs releases built for any architecture.")
        ], type: ArchitectureGate.self)

    init(enabled: Located<Bool>) { self.enabled = enabled }

    public var summary: String { "the release's architecture, when it names one, is this machine's" }
    public var parameters: [Parameter] { [] }

    public static let refuses = true
    public static let withoutIt: String? = ": releases built for another architecture are installed"
    public static let facts = [Key("architecture", .string(nil), default: "amd64", "This machine's architecture, in Go's names.")]
}
