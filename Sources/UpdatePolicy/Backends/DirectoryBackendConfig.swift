/// `type: directory`: slot images and boot markers in a directory; needs no root and no real
/// disk. What the demo and the end-to-end tests run on.
public struct DirectoryBackendConfig: BackendDecoding {
    public var root: Located<String>
    public var initialVersion: Located<String>

    public static let type = "directory"

    public static let table = Table(
        "directory backend", summary: "Slot images and boot markers in a directory; needs no root.",
        example: "backend: {type: directory, root: /var/lib/updatectl/slots, initial_version: 1.0.0}",
        [
            Key("type", .choice(PolicySchema.backendTypes), default: "directory", "Which backend."),
            Key("root", .path, default: "/var/lib/updatectl/slots", "Holds the slot images and markers."),
            Key("initial_version", .string(nil), default: "0.0.0", "Version recorded for slot `a` when the root is new."),
        ])

    static func decode(_ f: Fields) -> Backend { .directory(root: f.text("root"), initialVersion: f.text("initial_version")) }

    public var header: String { "directory, root \(root.value)" + (root.origin.isDefault ? " [default]" : "") }
    public var downloadDestination: String { "the passive slot" }

    public func summary(of operation: String) -> String {
        switch operation {
        case "stage": "move the release's files into the passive slot's folder in \(root.value)"
        case "activate": "move the next-boot marker in \(root.value) to the passive slot"
        case "commit": "write the committed marker in \(root.value)"
        case "rollback": "move the next-boot marker in \(root.value) back to the previous slot"
        default: "\"reboot\": the next-boot marker becomes the booted slot"
        }
    }

    public func origin(of operation: String) -> Origin { root.origin }

    public func parameters(of operation: String) -> [Parameter] { [Parameter("root", .text(root.value), root.origin)] }
}
