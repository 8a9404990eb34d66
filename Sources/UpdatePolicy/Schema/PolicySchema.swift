/// The policy's key tables: the one source of truth that drives decoding, unknown-key hints, the
/// JSON Schema (`updatectl schema`) and the key reference in docs/policy.md.
public enum PolicySchema {
    /// Variables that gate and probe commands may use.
    public static let checkVariables = ["VERSION", "FROM_VERSION", "CHANNEL", "DATA_DIR"]
    /// Variables that backend commands may use.
    public static let backendVariables = ["IMAGE", "SLOT", "VERSION", "FROM_VERSION"]

    static let channelRule = StringRule(
        description: "lower-case letters, digits, `.`, `_` and `-`",
        pattern: "^[a-z0-9._-]+$",
        check: { text in
            !text.isEmpty && text.utf8.allSatisfy { byte in
                (byte >= 97 && byte <= 122) || (byte >= 48 && byte <= 57) || byte == 46 || byte == 95 || byte == 45
            }
        })

    static let nameRule = StringRule(
        description: "letters, digits, `.`, `_` and `-`, starting with a letter or digit",
        pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$",
        check: { text in
            guard let first = text.utf8.first, isAlnum(first) else { return false }
            return text.utf8.allSatisfy { isAlnum($0) || $0 == 46 || $0 == 95 || $0 == 45 }
        })

    private static func isAlnum(_ byte: UInt8) -> Bool {
        (byte >= 97 && byte <= 122) || (byte >= 65 && byte <= 90) || (byte >= 48 && byte <= 57)
    }

    private static func common(_ noun: String, timeout: String) -> [Key] {
        [
            Key("name", .string(nameRule), default: "the kind", "Unique name of the \(noun) in plans, logs and `status`; "
                + "a second unnamed \(noun) of a kind gets `-2`, and so on."),
            Key("timeout", .duration, default: timeout, "How long the \(noun) may take before it counts as failed."),
        ]
    }

    private static func gate(_ name: String, example: String, timeout: String, scalarKey: String? = nil, _ summary: String,
                             _ keys: [Key]) -> EntryKind {
        EntryKind(name, scalarKey: scalarKey, Table("\(name) gate", summary: summary, example: "preflight:\n  " + example,
                                                    keys + common("gate", timeout: timeout)))
    }

    private static func probe(_ name: String, example: String, timeout: String, _ summary: String, _ keys: [Key]) -> EntryKind {
        EntryKind(name, Table("\(name) probe", summary: summary, example: "healthcheck:\n  probes:\n    " + example,
                              keys + common("probe", timeout: timeout)))
    }

    public static let gates: [EntryKind] = [
        gate("free_space", example: "- free_space: {name: room, headroom: 15%, path: /var/lib/updatectl, timeout: 5s}", timeout: "10s", "Passes when the free bytes on `path` are at least the image size plus the headroom (statfs).", [
            Key("headroom", .percentage, default: "10%", "Extra space needed beyond the image size."),
            Key("path", .path, default: "the passive slot", "The file system to measure."),
        ]),
        gate("node_not_blocked", example: "- node_not_blocked: {label: example.com/hold, node: edge-7, kubeconfig: /etc/kubernetes/admin.conf, timeout: 20s}", timeout: "30s", "Passes when the local Kubernetes node does not carry `LABEL=true` "
             + "(kubectl). With no kubeconfig reachable it passes and says so. `--force` skips it.", [
            Key("label", .string(nil), default: "updates.kubesolo.io/block", "The node label that blocks updates when `true`."),
            Key("node", .string(nil), default: "the host name", "The Kubernetes node to look up."),
            Key("kubeconfig", .path, default: "KUBECONFIG, then /etc/rancher/k3s/k3s.yaml and /var/lib/kubesolo/pki/admin/admin.kubeconfig",
                "The kubeconfig kubectl uses."),
        ]),
        gate("maintenance_window", example: #"- maintenance_window: {days: [sat, sun], start: "22:00", end: "04:00", timezone: Europe/Berlin}"#, timeout: "1s", "Passes when now is inside the window. An `end` before `start` crosses midnight.", [
            Key("days", .days, default: "every day", "Days on which the window opens (the day it starts)."),
            Key("start", .timeOfDay, required: true, "When the window opens, `HH:MM`."),
            Key("end", .timeOfDay, required: true, "When the window closes, `HH:MM`."),
            Key("timezone", .timeZone, default: "UTC", "IANA time zone of `start` and `end`."),
        ]),
        gate("max_attempts", example: "- max_attempts: 3", timeout: "1s", scalarKey: "max", "Passes while the state's `attempt_count` for the offered version is "
             + "below `max`. `- max_attempts: 3` is short for `{max: 3}`.", [
            Key("max", .integer(min: 1, max: nil), required: true, "Attempts allowed per target version."),
        ]),
        gate("no_downgrade", example: "- no_downgrade: true", timeout: "1s", scalarKey: "enabled", "Passes when the offered version is newer than the "
             + "running one and the last committed one (semantic versions). On in every policy, first among the gates, "
             + "unless `- no_downgrade: false` turns it off; write it to place it elsewhere.", [
            Key("enabled", .boolean, default: "true", "`false` allows downgrades (a lint warning)."),
        ]),
        gate("rollout", example: "- rollout: {percent: 25, salt: wave-1}", timeout: "1s", "Passes when a stable hash of `/etc/machine-id`, `salt` and the offered version falls "
             + "under `percent`: staged rollouts from a plain static server.", [
            Key("percent", .percentage, required: true, "Share of nodes that take the update."),
            Key("salt", .string(nil), default: "\"\"", "Changes which nodes fall in the share."),
        ]),
        gate("exec", example: #"- exec: {name: on-mains, command: [/usr/local/bin/on-mains-power, "${VERSION}"], timeout: 10s}"#, timeout: "60s", "Passes when the command exits 0 within its timeout. No shell; "
             + "the whole process group is killed on timeout.", [
            Key("command", .command(variables: checkVariables), required: true, "argv list; the first item an absolute path."),
        ]),
        gate("http", example: #"- http: {name: fleet-ok, url: "https://fleet.example.com/go", status: 204, timeout: 5s}"#, timeout: "10s", "Passes when an HTTP GET answers `status`.", [
            Key("url", .url(schemes: ["http", "https"]), required: true, "The URL to GET."),
            Key("status", .integer(min: 100, max: 599), default: "200", "The status that passes."),
        ]),
    ]

    public static let probes: [EntryKind] = [
        probe("http", example: #"- http: {name: kubelet, url: "http://127.0.0.1:10248/healthz", status: 200, timeout: 3s}"#, timeout: "5s", "Passes when an HTTP GET answers `status` (redirects and body bounded).", [
            Key("url", .url(schemes: ["http", "https"]), required: true, "The URL to GET."),
            Key("status", .integer(min: 100, max: 599), default: "200", "The status that passes."),
        ]),
        probe("tcp", example: #"- tcp: {name: apiserver, address: "127.0.0.1:6443", timeout: 2s}"#, timeout: "5s", "Passes when a TCP connection to `address` opens.", [
            Key("address", .hostPort, required: true, "`host:port`, `[v6]:port` for IPv6."),
        ]),
        probe("exec", example: #"- exec: {name: containerd, command: [/usr/bin/systemctl, is-active, --quiet, containerd]}"#, timeout: "30s", "Passes when the command exits 0 within its timeout. No shell; "
              + "the whole process group is killed on timeout.", [
            Key("command", .command(variables: checkVariables), required: true, "argv list; the first item an absolute path."),
        ]),
        probe("disk_writable", example: #"- disk_writable: {name: scratch, path: /var/scratch}"#, timeout: "10s", "Passes when a small file under `path` can be written, fsynced, read back "
              + "and removed. One on `data_dir` always runs.", [
            Key("path", .path, default: "data_dir", "The directory to write in."),
        ]),
        probe("kube_system_ready", example: #"- kube_system_ready: {settle: 60s, timeout: 20s}"#, timeout: "30s", "Passes when every kube-system pod has been Running for at least "
              + "`settle` (kubectl). With no cluster reachable it passes and says so.", [
            Key("settle", .duration, default: "30s", "How long every pod must have held Running."),
        ]),
    ]

    public static let gateFamily = EntryFamily(
        noun: "gate", kinds: gates, otherNoun: "probe", otherKinds: probes.map(\.name), otherPlace: "healthcheck.probes")
    public static let probeFamily = EntryFamily(
        noun: "probe", kinds: probes, otherNoun: "gate", otherKinds: gates.map(\.name), otherPlace: "preflight")

    public static let healthcheck = Table("healthcheck", summary: "Post-boot verification.", example: """
        healthcheck:
          timeout: 10m
          interval: 15s
          settle: 30s
          probes:
            - tcp: {address: "127.0.0.1:6443"}
        """, [
        Key("timeout", .duration, default: "5m", "Deadline of one verification run, settle included."),
        Key("interval", .duration, default: "10s", "Pause between probe rounds."),
        Key("settle", .duration, default: "0s", "Wait after boot before the first probe round."),
        Key("probes", .entries(probeFamily), default: "[]", "Probes; all must pass in the same round."),
    ])

    public static let download = Table("download", summary: "How images are downloaded.", example: """
        download:
          min_rate: 64KiB/s
        """, [
        Key("min_rate", .rate, default: "32KiB/s", "Slowest acceptable transfer: a download slower than this for a minute "
            + "is stopped, and one that takes longer than its size at this rate plus a minute fails; `0` turns both off."),
    ])

    public static let commandOperations = ["stage", "activate", "rollback", "commit", "reboot", "booted_slot", "running_version"]

    public static let backend = TaggedTable(
        name: "backend", tagKey: "type",
        variants: [
            ("directory", Table("directory backend", summary: "Slot images and boot markers in a directory; needs no root.",
                                example: "backend: {type: directory, root: /var/lib/updatectl/slots, initial_version: 1.0.0}", [
                Key("type", .choice(["directory", "command"]), default: "directory", "Which backend."),
                Key("root", .path, default: "/var/lib/updatectl/slots", "Holds the slot images and markers."),
                Key("initial_version", .string(nil), default: "0.0.0", "Version recorded for slot `a` when the root is new."),
            ])),
            ("command", Table("command backend", summary: "The operator's commands drive a real bootloader (argv lists, no shell).",
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
                              """, [
                Key("type", .choice(["directory", "command"]), default: "directory", "Which backend."),
                Key("stage", .command(variables: backendVariables), required: true, "Writes `${IMAGE}` to slot `${SLOT}`."),
                Key("activate", .command(variables: backendVariables), required: true, "Makes `${SLOT}` boot next."),
                Key("rollback", .command(variables: backendVariables), required: true, "Makes the previous slot boot next."),
                Key("commit", .command(variables: backendVariables), "Marks the booted slot good."),
                Key("reboot", .command(variables: backendVariables), "Reboots the node (needed with `reboot: auto`)."),
                Key("booted_slot", .command(variables: backendVariables), required: true, "Prints `a` or `b`."),
                Key("running_version", .command(variables: backendVariables),
                    "Prints the running version; without it, `VERSION_ID` of /etc/os-release is used."),
                Key("timeout", .duration, default: "5m", "Deadline of each command."),
            ])),
        ],
        defaultTag: "directory")

    public static let updates = Table("updates", summary: "The policy: the mapping under the top-level `updates:` key.", example: """
        server: https://updates.example.com/kubesolo
        channel: stable
        public_key: ed25519:Hn1+J4gUuOPxSNmoJfiFmdZ3Rvb4vnwYrH7s+dqvFiU=
        preflight:
          - free_space: {headroom: 10%}
        healthcheck_url: http://127.0.0.1:10248/healthz
        kube_system_settle: 30s
        healthcheck: {timeout: 5m}
        auto_rollback_after: 3
        reboot: auto
        data_dir: /var/lib/kubesolo
        backend: {type: directory}
        download: {min_rate: 64KiB/s}
        """, [
        Key("server", .url(schemes: ["https", "http", "file"]), required: true, "Base URL of the update server."),
        Key("channel", .string(channelRule), default: "stable", "Metadata is read from `<server>/<channel>/latest.json`."),
        Key("public_key", .publicKey, "Verifies `latest.json.sig`: `ed25519:<base64>` or a key file's path."),
        Key("preflight", .entries(gateFamily), default: "[no_downgrade: true, free_space: {headroom: 10%}, node_not_blocked: {}]",
            "Gates, run in the listed order before anything is downloaded; `no_downgrade` is added first unless "
                + "listed or turned off."),
        Key("healthcheck_url", .url(schemes: ["http", "https"]), "Upstream shorthand: one `http` probe, 200 = pass."),
        Key("kube_system_settle", .duration, default: "30s",
            "Upstream shorthand: a `kube_system_ready` probe with this settle; `0` turns it off."),
        Key("healthcheck", .table(healthcheck), "Post-boot verification."),
        Key("auto_rollback_after", .integer(min: 0, max: nil), default: "0",
            "Consecutive failed verification runs that roll back; `0` turns automatic rollback off."),
        Key("reboot", .choice(["manual", "auto"]), default: "manual",
            "After activation, reboot through the backend (`auto`) or leave it to the operator (`manual`)."),
        Key("data_dir", .path, default: "/var/lib/kubesolo", "Holds `update/state.json`; the always-on disk probe writes here."),
        Key("backend", .tagged(backend), default: "{type: directory, root: /var/lib/updatectl/slots}",
            "How actions touch the system."),
        Key("download", .table(download), "How images are downloaded (the slowest link tolerated)."),
    ])
}
