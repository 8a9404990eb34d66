/// `type: command`: the operator's own commands, each an argv list (no shell), drive a real
/// bootloader (grub-editenv, U-Boot's fw_setenv, RAUC).
public struct CommandBackend: BackendDecoding {
    /// argv templates by operation (`stage`, `activate`, `rollback`, `commit`, `reboot`, `booted_slot`).
    public var commands: [String: Located<[String]>]
    public var timeout: Located<Duration>

    public static let type = "command"

    public static let table = Table(
        "command backend", summary: "The operator's commands drive a real bootloader (argv lists, no shell).",
        example: """
            backend:
              type: command
              stage: [/usr/bin/dd, "if=${IMAGE}", "of=/dev/disk/by-partlabel/root-${SLOT}", bs=4M, conv=fsync]
              activate: [/usr/bin/grub-editenv, /boot/grub/grubenv, set, "boot_once=${SLOT}"]
              rollback: [/usr/bin/grub-editenv, /boot/grub/grubenv, unset, boot_once]
              commit: [/usr/bin/grub-editenv, /boot/grub/grubenv, set, "boot_slot=${SLOT}"]
              reboot: [/usr/bin/systemctl, reboot]
              booted_slot: [/usr/local/sbin/booted-slot]
              running_version: [/usr/local/sbin/os-version]
              timeout: 10m
            """,
        [
            Key("type", .choice(PolicySchema.backendTypes), default: "directory", "Which backend."),
            Key(
                "stage", .command(variables: PolicySchema.backendVariables), required: true,
                "Writes the release to slot `${SLOT}`: `${VMLINUZ}` and `${INITRAMFS}` (KubeSolo OS's pair) or `${IMAGE}` "
                    + "(the one-image form), all in `${FILES}`."),
            Key("activate", .command(variables: PolicySchema.backendVariables), required: true, "Makes `${SLOT}` boot next."),
            Key("rollback", .command(variables: PolicySchema.backendVariables), required: true, "Makes the previous slot boot next."),
            Key("commit", .command(variables: PolicySchema.backendVariables), "Marks the booted slot good."),
            Key("reboot", .command(variables: PolicySchema.backendVariables), "Reboots the node (needed with `reboot: auto`)."),
            Key("booted_slot", .command(variables: PolicySchema.backendVariables), required: true, "Prints `a` or `b`."),
            Key(
                "running_version", .command(variables: PolicySchema.backendVariables),
                "Prints the running version; without it, `VERSION_ID` of /etc/os-release is used."),
            Key("timeout", .duration, default: "5m", "Deadline of each command."),
        ])

    static func decode(_ f: Fields) -> Backend {
        var commands: [String: Located<[String]>] = [:]
        for operation in PolicySchema.commandOperations {
            if let command = f.command(operation) { commands[operation] = command }
        }
        return .command(CommandBackend(commands: commands, timeout: f.duration("timeout")))
    }

    public var header: String { "command (" + commands.keys.sorted().joined(separator: ", ") + ")" }
    public var downloadDestination: String { "data_dir/update/incoming-SLOT, for the stage command" }

    public func summary(of operation: String) -> String {
        if let argv = commands[operation] { return "run \(argv.value.joined(separator: " "))" }
        return "no `\(operation)` command: nothing to run"
    }

    public func origin(of operation: String) -> Origin { commands[operation]?.origin ?? .defaulted }

    public func parameters(of operation: String) -> [Parameter] {
        var out: [Parameter] = []
        if let argv = commands[operation] { out.append(Parameter(operation, .list(argv.value), argv.origin)) }
        out.append(Parameter("timeout", .duration(timeout.value), timeout.origin))
        return out
    }
}
