/// `type: kubesolo`: a KubeSolo OS node: GRUB's environment block and the A/B partitions found by
/// label (docs/bootloaders.md); downloads go to the data partition.
public struct KubeSoloBackend: BackendDecoding {
    public var grubenv: Located<String>
    public var labelA: Located<String>
    public var labelB: Located<String>
    public var dataLabel: Located<String>
    public var mountDir: Located<String>
    public var bootTries: Located<Int>
    public var slotParam: Located<String>
    public var versionFile: Located<String>
    public var reboot: Located<[String]>

    public static let type = "kubesolo"

    public static let table = Table(
        "kubesolo backend",
        summary: "A KubeSolo OS node: GRUB's environment block and the A/B partitions "
            + "found by label (docs/bootloaders.md).",
        example: """
            backend:
              type: kubesolo
              grubenv: /boot/grub/grubenv
              label_a: KSOLOA
              label_b: KSOLOB
              data_label: KSOLODATA
              mount_dir: /run/updatectl/slot
              boot_tries: 3
              slot_param: kubesolo.slot
              version_file: version
              reboot: [/sbin/reboot]
            """,
        [
            Key("type", .choice(PolicySchema.backendTypes), default: "directory", "Which backend."),
            Key(
                "grubenv", .path, default: "/boot/grub/grubenv",
                "GRUB's environment block: `active_slot`, `boot_counter`, "
                    + "`boot_success`."),
            Key("label_a", .string(PolicySchema.labelRule), default: "KSOLOA", "File system label of slot A."),
            Key("label_b", .string(PolicySchema.labelRule), default: "KSOLOB", "File system label of slot B."),
            Key(
                "data_label", .string(PolicySchema.labelRule), default: "KSOLODATA", "The data partition's label: never written as a slot."),
            Key(
                "mount_dir", .path, default: "/run/updatectl/slot",
                "Where a slot that is not mounted is mounted while it is "
                    + "read or written."),
            Key(
                "boot_tries", .integer(min: 1, max: 9), default: "3",
                "`boot_counter` after activation: unverified boots before GRUB falls back."),
            Key(
                "slot_param", .string(nil), default: "kubesolo.slot",
                "A kernel command-line parameter naming the booted slot "
                    + "(`A`/`B`), when GRUB passes one; without it the slot comes from GRUB's environment."),
            Key("version_file", .string(nil), default: "version", "The file in a slot's root that holds its version."),
            Key("reboot", .command(variables: []), default: "[/sbin/reboot]", "Reboots the node (with `reboot: auto`)."),
        ])

    static func decode(_ f: Fields) -> Backend {
        .kubesolo(
            KubeSoloBackend(
                grubenv: f.text("grubenv"), labelA: f.text("label_a"), labelB: f.text("label_b"), dataLabel: f.text("data_label"),
                mountDir: f.text("mount_dir"), bootTries: f.integer("boot_tries"), slotParam: f.text("slot_param"),
                versionFile: f.text("version_file"), reboot: f.command("reboot") ?? Located(["/sbin/reboot"], .defaulted)))
    }

    public var header: String { "kubesolo, slots \(labelA.value)/\(labelB.value), GRUB environment " + grubenv.value }
    public var downloadDestination: String { "the data partition (data_dir/update)" }

    public func summary(of operation: String) -> String {
        switch operation {
        case "stage":
            "mount the passive slot (\(labelA.value) or \(labelB.value)) and write vmlinuz, "
                + "kubesolo-os.gz and its version durably (temporary names, fsync, rename); the active slot is not touched"
        case "activate":
            "GRUB environment: active_slot = the passive slot, boot_counter = \(bootTries.value), "
                + "boot_success = 0 (GRUB falls back after \(bootTries.value) unverified boots)"
        case "commit": "GRUB environment: boot_success = 1, boot_counter = \(bootTries.value)"
        case "rollback":
            "GRUB environment: active_slot = the previous slot, boot_counter = \(bootTries.value), "
                + "boot_success = 1"
        default: "run \(reboot.value.joined(separator: " "))"
        }
    }

    public func origin(of operation: String) -> Origin { operation == "reboot" ? reboot.origin : grubenv.origin }

    public func parameters(of operation: String) -> [Parameter] {
        switch operation {
        case "stage":
            [
                Parameter("label_a", .text(labelA.value), labelA.origin),
                Parameter("label_b", .text(labelB.value), labelB.origin),
                Parameter("mount_dir", .text(mountDir.value), mountDir.origin),
            ]
        case "reboot": [Parameter("reboot", .list(reboot.value), reboot.origin)]
        default: [Parameter("grubenv", .text(grubenv.value), grubenv.origin)]
        }
    }
}
