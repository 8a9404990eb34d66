import JSONValue

/// The policy's key tables: the one source of truth that drives decoding, unknown-key hints, the
/// JSON Schema (`updatectl schema`) and the key reference in docs/policy.md.
public enum PolicySchema {
    /// Variables that gate and probe commands may use.
    public static let checkVariables = ["VERSION", "FROM_VERSION", "CHANNEL", "DATA_DIR"]
    /// Variables that backend commands may use.
    public static let backendVariables = ["IMAGE", "VMLINUZ", "INITRAMFS", "FILES", "SLOT", "VERSION", "FROM_VERSION"]

    /// `host[:port]/path`, optionally `http://` or `https://` first, optionally `@sha256:<hex>` last.
    static let registryRule = StringRule(
        description: "`host[:port]/path`, optionally after `http://` or `https://`, optionally pinned by `@sha256:<64 hex digits>`",
        pattern: "^(https?://)?[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[a-z0-9._/-]+)+(@sha256:[0-9a-f]{64})?$",
        check: { RegistryReference.parse($0) != nil })

    /// An OCI tag (letters, digits, `_`, `.` and `-`, at most 128, not starting with `.` or `-`),
    /// or a digest that pins the index or manifest: `sha256:` and 64 lower-case hex digits.
    static let tagRule = StringRule(
        description: "an OCI tag (letters, digits, `_`, `.`, `-`; at most 128) or a digest `sha256:<64 lower-case hex digits>`",
        pattern: "^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|sha256:[0-9a-f]{64})$",
        check: { RegistryReference.isTag($0) || RegistryReference.isDigest($0) })

    static let channelRule = StringRule(
        description: "lower-case letters, digits, `.`, `_` and `-`",
        pattern: "^[a-z0-9._-]+$",
        check: { text in
            !text.isEmpty
                && text.utf8.allSatisfy { byte in
                    (byte >= 97 && byte <= 122) || (byte >= 48 && byte <= 57) || byte == 46 || byte == 95 || byte == 45
                }
        })

    static let nameRule = StringRule(
        description: "letters, digits, `.`, `_` and `-`, starting with a letter or digit",
        pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$",
        check: { text in
            func check<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
                guard let first = bytes.first, isAlnum(first) else { return false }
                return bytes.allSatisfy { isAlnum($0) || $0 == 46 || $0 == 95 || $0 == 45 }
            }
            // Every entry's name is checked: read the bytes in place where the string has them.
            return text.utf8.withContiguousStorageIfAvailable(check) ?? check(text.utf8)
        })

    private static func isAlnum(_ byte: UInt8) -> Bool {
        (byte >= 97 && byte <= 122) || (byte >= 65 && byte <= 90) || (byte >= 48 && byte <= 57)
    }

    /// The gate and probe kinds' entries (`Kinds/`), in their documented order.
    public static let gates: [EntryKind] = PolicyKinds.gates.map { $0.entry }
    public static let probes: [EntryKind] = PolicyKinds.probes.map { $0.entry }

    /// The default gates as a policy would write them, always-on ones first.
    static var defaultPreflightText: String {
        let alwaysOn = PolicyKinds.decodableGates.filter { $0.alwaysOn }.map { $0.defaultText }
        let listed = PolicyKinds.decodableGates.compactMap { kind in kind.defaultOrder.map { ($0, kind.defaultText) } }
            .sorted { $0.0 < $1.0 }.map(\.1)
        return "[" + (alwaysOn + listed).joined(separator: ", ") + "]"
    }

    static var alwaysOnGates: String {
        PolicyKinds.decodableGates.filter { $0.alwaysOn }.map { "`\($0.entry.name)`" }.joined(separator: ", ")
    }

    public static let gateFamily = EntryFamily(
        noun: "gate", kinds: gates, otherNoun: "probe", otherKinds: probes.map(\.name), otherPlace: "healthcheck.probes")
    public static let probeFamily = EntryFamily(
        noun: "probe", kinds: probes, otherNoun: "gate", otherKinds: gates.map(\.name), otherPlace: "preflight")

    public static let healthcheck = Table(
        "healthcheck", summary: "Post-boot verification.",
        example: """
            healthcheck:
              timeout: 10m
              interval: 15s
              settle: 30s
              retry_every: 2m
              probes:
                \(RuleExamples.probeExample)
            """,
        [
            Key("timeout", .duration, default: "5m", "Deadline of one verification run, settle included."),
            Key("interval", .duration, default: "10s", "Pause between probe rounds."),
            Key("settle", .duration, default: "0s", "Wait after boot before the first probe round."),
            Key(
                "retry_every", .duration, default: "1m",
                "Pause between verification runs while the new version is unverified: `updatectl agent` runs them until "
                    + "the version is committed or `auto_rollback_after` failed runs roll it back."),
            Key("probes", .entries(probeFamily), default: "[]", "Probes; all must pass in the same round."),
        ])

    public static let agent = Table(
        "agent", summary: "When `updatectl agent` checks for updates.",
        example: """
            agent:
              check_every: 1h
              jitter: 10m
            """,
        [
            Key(
                "check_every", .duration, default: "1h",
                "Time between update checks (each one an `apply` through the gates); a maintenance window that is closed "
                    + "then is waited for instead."),
            Key(
                "jitter", .duration, default: "10m",
                "A random extra wait of up to this much before each check, so that a fleet does not ask at once."),
        ])

    public static let download = Table(
        "download", summary: "How images are downloaded.",
        example: """
            download:
              min_rate: 64KiB/s
              max_rate: 2MiB/s
              retries: 8
              max_release_size: 2GiB
              proxy: http://proxy.example.com:3128
              no_proxy: 10.0.0.0/8,.cluster.local
            """,
        [
            Key(
                "min_rate", .rate, default: "32KiB/s",
                "Slowest acceptable transfer: a download slower than this for a minute "
                    + "is stopped, and a file that takes longer than its size at this rate plus a minute, across all its tries, "
                    + "fails; `0` turns both off."),
            Key(
                "max_rate", .rate, default: "0",
                "Fastest transfer: downloads are held to this rate so they do not fill a "
                    + "metered or shared link; `0` for no cap."),
            Key(
                "retries", .integer(min: 0, max: 1000), default: "8",
                "Failed tries in a row, none of which got past the furthest byte reached before, "
                    + "after which a download gives up for this run. A try that drops the connection, times out or gets a 5xx "
                    + "is retried after a random wait of up to 1 s, 2 s, 4 s … (at most 5 minutes), and goes on from the byte it "
                    + "reached; a try that got further starts the count again."),
            Key(
                "max_release_size", .size, default: "4GiB",
                "The largest file of a release accepted when the metadata does not give its size (KubeSolo OS's "
                    + "`latest.json` gives none unless it has `vmlinuz_size` and `initramfs_size`): a server that says more, "
                    + "or sends more, is refused at the first byte past it."),
            Key(
                "proxy", .url(schemes: ["http", "https"]),
                "The proxy for every request to the update server, the registry and the "
                    + "fleet lock; without it the `https_proxy`, `http_proxy` and `no_proxy` environment variables apply."),
            Key(
                "no_proxy", .string(nil),
                "Hosts reached without `proxy`: a comma list of names, domains (`.corp`) and "
                    + "addresses, as the `no_proxy` variable takes them."),
        ])

    public static let hooks = Table(
        "hooks", summary: "The operator's commands at points of the lifecycle (docs/hooks.md).",
        example: """
            hooks:
              timeout: 10m
              before_reboot:
                - [/usr/local/bin/drain-workloads, --to, "${VERSION}"]
              after_commit:
                - [/usr/local/bin/notify, committed]
              after_rollback:
                - [/usr/local/bin/notify, rolled-back]
            """,
        [
            Key(
                "timeout", .duration, default: "5m",
                "The limit of each command: past it, its whole process group is killed and the command counts as failed."),
            Key(
                "before_reboot", .list(.command(variables: checkVariables)), default: "[]",
                "Run in order before the new release is activated for the reboot (`reboot: auto`; in `updatectl activate` "
                    + "with `activation: separate`). One that fails or times out defers the run (exit 3): the release stays "
                    + "staged and the next run goes on from it without downloading it again."),
            Key(
                "after_commit", .list(.command(variables: checkVariables)), default: "[]",
                "Run in order after a verification run committed the update. A failure is a warning; the update stays committed."),
            Key(
                "after_rollback", .list(.command(variables: checkVariables)), default: "[]",
                "Run in order after a rollback (automatic, by hand, or the bootloader's fallback) is recorded, before the "
                    + "reboot into the previous slot. A failure is a warning; the rollback stands."),
        ])

    public static let commandOperations = ["stage", "activate", "rollback", "commit", "reboot", "booted_slot", "running_version"]

    public static let backend = TaggedTable(
        name: "backend", tagKey: "type", variants: Backends.all.map { ($0.type, $0.table) }, defaultTag: "kubesolo")

    static var backendTypes: [String] { Backends.all.map { $0.type } }

    /// An ext4 file system label: at most 16 bytes, no `/` or white space.
    static let labelRule = StringRule(
        description: "a file system label (at most 16 characters, no `/` or spaces)",
        pattern: "^[^/\\s]{1,16}$",
        check: { label in !label.isEmpty && label.utf8.count <= 16 && !label.contains { $0 == "/" || $0.isWhitespace } })

    public static let updates = Table(
        "updates", summary: "The policy: the mapping under the top-level `updates:` key.",
        example: """
            server: https://updates.example.com/kubesolo
            # or, from an OCI registry instead: registry: registry.example.com/kubesolo/os
            tag: stable
            registry_auth: /etc/updatectl/registry-auth
            channel: stable
            layout: kubesolo
            public_key: ed25519:Hn1+J4gUuOPxSNmoJfiFmdZ3Rvb4vnwYrH7s+dqvFiU=
            require_signed_metadata: true
            follow_metadata_sig_url: false
            max_metadata_age: 336h
            allow_older_metadata: false
            ca_file: /etc/updatectl/ca.pem
            maintenance_window: "22:00-04:00"
            preflight:
              \(RuleExamples.defaultGate)
            rollout_wariness: 0.5
            healthcheck_url: http://127.0.0.1:10248/healthz
            kube_system_settle: 30s
            healthcheck: {timeout: 5m}
            auto_rollback_after: 3
            activation: auto
            reboot: auto
            data_dir: /var/lib/kubesolo
            backend: {type: directory}
            download: {min_rate: 64KiB/s}
            agent: {check_every: 1h}
            hooks: {before_reboot: [[/usr/local/bin/drain-workloads]]}
            network: {when: [boot, hotplug]}
            """,
        [
            Key(
                "server", .url(schemes: ["https", "http", "file"]), required: true,
                "Base URL of the update server (or, instead, `registry`)."),
            Key(
                "registry", .string(registryRule), insteadOf: "server",
                "Instead of `server`: the OCI repository releases are pulled from, `host[:port]/path` (https; `http://` "
                    + "first for a plain-HTTP registry); `@sha256:<hex>` last pins an index or manifest by digest (then `tag` "
                    + "is not used)."),
            Key(
                "tag", .string(tagRule), default: "the channel",
                "With `registry`: the tag to pull (`stable`, `v0.3.0`), or `sha256:<hex>` to pin an index or manifest by digest."),
            Key(
                "registry_auth", .path,
                "With `registry`: a file holding `user:password` for basic credentials or the registry's token service."),
            Key(
                "channel", .string(channelRule), default: "stable",
                "The channel this node follows: the release's `channel` must be it (the `channel` gate); with "
                    + "`layout: per_channel` it is also a path segment."),
            Key(
                "layout", .choice(["kubesolo", "per_channel"]), default: "kubesolo",
                "Where the metadata is: `kubesolo` reads `<server>/latest.json` (KubeSolo OS's layout, the channel inside "
                    + "the document); `per_channel` reads `<server>/<channel>/latest.json`."),
            Key(
                "public_key", .publicKey,
                "Verifies the release's signatures: `ed25519:<base64>`, or a key file's path (64 hex characters, as KubeSolo "
                    + "OS writes it, or base64, or PEM), or a list of these, any one of which verifies (key rotation)."),
            Key(
                "require_signed_metadata", .boolean, default: "true",
                "With a `public_key`: the metadata's own signature (`latest.json.sig` beside it) is required. `false` "
                    + "accepts unsigned metadata when every file it names is signed; its version, channel and other fields "
                    + "are then not authenticated (lint warns)."),
            Key(
                "follow_metadata_sig_url", .boolean, default: "false",
                "Also look for the metadata's signature where its `metadata_sig_url` points, when none is beside it. "
                    + "The signature must verify over the metadata's exact bytes either way."),
            Key(
                "max_metadata_age", .duration, default: "0s",
                "With a `public_key`: the oldest signed metadata accepted, judged by its signed `release_date` (metadata "
                    + "without one is refused); publishers re-sign within it, so a frozen mirror is noticed. `0s` turns "
                    + "it off."),
            Key(
                "allow_older_metadata", .boolean, default: "false",
                "Accept signed metadata older than the newest accepted before (a lower version, or the same version "
                    + "with an earlier `release_date`): a publisher's deliberate step back. Off, a replayed document is "
                    + "refused (`apply --force` accepts it once)."),
            Key(
                "ca_file", .path,
                "Certificate authorities (PEM) for the update server and the registry, instead of the system's bundle."),
            Key(
                "pubkey", .path, insteadOf: "public_key",
                "KubeSolo OS's spelling: the path of the public key file; the same as `public_key: PATH`."),
            Key(
                "maintenance_window", .timeRange,
                "KubeSolo OS's spelling, `\"HH:MM-HH:MM\"` (UTC; may cross midnight; empty = always open): one "
                    + "`maintenance_window` gate, first among the written gates."),
            Key(
                "preflight", .entries(gateFamily), default: defaultPreflightText,
                "Gates, run in the listed order before anything is downloaded; \(alwaysOnGates) is added first unless "
                    + "listed or turned off."),
            Key(
                "rollout_wariness", .fraction, default: "0.5",
                "Where this node sits in a rollout wave that the release's signed metadata carries (the `rollout_wave` "
                    + "gate): `0` is admitted when the wave starts, `1` when it ends, `0.5` at its stable bucket."),
            Key("healthcheck_url", .url(schemes: ["http", "https"]), "Upstream shorthand: one `http` probe, 200 = pass."),
            Key(
                "kube_system_settle", .duration, default: "30s",
                "Upstream shorthand: a kube-system probe (every kube-system pod running this long) with this settle; `0` turns "
                    + "it off."),
            Key("healthcheck", .table(healthcheck), "Post-boot verification."),
            Key(
                "auto_rollback_after", .integer(min: 0, max: nil), default: "0",
                "Consecutive failed verification runs that roll back; `0` turns automatic rollback off."),
            Key(
                "activation", .choice(["auto", "separate"]), default: "auto",
                "`auto`: `apply` downloads, stages and activates in one run; `separate`: `apply` stops at `staged`, as "
                    + "KubeSolo OS's agent does, and `updatectl activate` goes on."),
            Key(
                "reboot", .choice(["manual", "auto"]), default: "manual",
                "After activation, reboot through the backend (`auto`) or leave it to the operator (`manual`)."),
            Key("data_dir", .path, default: "/var/lib/kubesolo", "Holds `update/state.json`; the always-on disk probe writes here."),
            Key(
                "backend", .tagged(backend), default: "{type: kubesolo}",
                "How actions touch the system: `kubesolo` (a KubeSolo OS node's GRUB and slot partitions, the default), "
                    + "`command` (your own commands for another boot scheme) or `directory` (marker files for demos and tests: "
                    + "it changes no real system, so it is used only when written)."),
            Key("download", .table(download), "How images are downloaded (the slowest link tolerated)."),
            Key("agent", .table(agent), "When `updatectl agent` checks for updates."),
            Key(
                "hooks", .table(hooks),
                "The operator's commands before the reboot into an update, after its commit and after a rollback: argv "
                    + "lists run as an exec gate runs its command (docs/hooks.md)."),
            Key(
                "network", .table(cloudInitNetwork),
                "cloud-init's own key, not updatectl's: the events on which standard cloud-init applies the network "
                    + "configuration again. Checked as cloud-init checks it, then left to cloud-init."),
        ])

    /// cloud-init's `updates.network` (its schema's `cc_install_hotplug`): one required key, `when`.
    public static let cloudInitNetwork = Table(
        "network", summary: "cloud-init's network update events (read by cloud-init, not by updatectl).",
        example: """
            network:
              when: [boot, hotplug]
            """,
        [
            Key(
                "when", .list(.choice(["boot-new-instance", "boot-legacy", "boot", "hotplug"])), required: true,
                "The events on which cloud-init applies the network configuration again.")
        ])
}
