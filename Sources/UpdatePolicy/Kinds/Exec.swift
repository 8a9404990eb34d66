/// What the gate and the probe `exec` share: one option, one plan text, one check (the agent's
/// `CommandCheck`). Only their defaults and examples differ.
public protocol ExecEntry: EntryKindDescription {
    var command: Located<[String]> { get }
}

extension ExecEntry {
    static var summaryText: String {
        "Passes when the command exits 0 within its timeout. No shell; the whole process group is killed on timeout."
    }

    static var keys: [Key] {
        [Key("command", .command(variables: PolicySchema.checkVariables), required: true, "argv list; the first item an absolute path.")]
    }

    public var summary: String { "\(command.value.joined(separator: " ")) exits 0" }
    public var parameters: [Parameter] { [Parameter("command", .list(command.value), command.origin)] }
    public var commands: [Located<[String]>] { [command] }
}

/// `exec` as a gate: the operator's command exits 0 within its timeout.
public struct ExecGate: DecodableGate, ExecEntry {
    public var command: Located<[String]>

    public static let entry = EntryKind.gate(
        "exec", example: #"- exec: {name: on-mains, command: [/usr/local/bin/on-mains-power, "${VERSION}"], timeout: 10s}"#,
        timeout: "60s", summaryText, keys, type: ExecGate.self)

    init?(_ options: Fields, _ context: inout KindContext) {
        guard let command = options.command("command") else { return nil }
        self.command = command
    }
}

/// `exec` as a probe: the operator's command exits 0 within its timeout.
public struct ExecProbe: DecodableProbe, ExecEntry {
    public var command: Located<[String]>

    public static let entry = EntryKind.probe(
        "exec", example: #"- exec: {name: containerd, command: [/usr/bin/systemctl, is-active, --quiet, containerd]}"#,
        timeout: "30s", summaryText, keys, type: ExecProbe.self)

    init?(_ options: Fields, _ context: inout KindContext) {
        guard let command = options.command("command") else { return nil }
        self.command = command
    }
}
