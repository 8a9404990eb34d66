import JSONValue
import YAMLTree

/// `fleet_lock`: a reboot slot of the node's group, from a FleetLock server (Zincati's protocol:
/// Airlock, fleetlock for Kubernetes) or from etcd directly in Airlock's layout. Taken after the
/// release is staged, held across the reboot, given back when the node is steady (docs/fleet.md).
public struct FleetLockGate: CheckedGate {
    public enum Engine: String, Sendable, CaseIterable {
        case fleetlock, etcd
    }

    public var engine: Located<Engine>
    /// The FleetLock server's base URL (`fleetlock`).
    public var url: Located<PolicyURL>?
    /// etcd's client URLs (`etcd`), tried in turn.
    public var endpoints: Located<[PolicyURL]>?
    public var group: Located<String>
    /// etcd: the semaphore's `total_slots` when updatectl creates it.
    public var slots: Located<Int>
    /// The node's identity; nil: derived from /etc/machine-id (or read from `id_file`).
    public var id: Located<String>?
    public var idFile: Located<String>?
    public var caFile: Located<String>?
    public var certFile: Located<String>?
    public var keyFile: Located<String>?
    /// etcd: how long this node's report outlives it (its lease); nil: `reportTTL(agent:)`'s default.
    public var reportTTLOption: Located<Duration>?

    /// FleetLock's group rule, which Airlock's etcd key also relies on.
    static let groupRule = StringRule(
        description: "letters, digits, `.` and `-` (FleetLock's group rule)", pattern: "^[a-zA-Z0-9.-]+$",
        check: {
            !$0.isEmpty
                && $0.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2E || $0 == 0x2D }
        })
    public static let idRule = StringRule(
        description: "printable ASCII without spaces (`!` to `~`), at most 256 characters", pattern: "^[!-~]{1,256}$",
        check: { !$0.isEmpty && $0.utf8.count <= 256 && $0.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F } })

    public static let entry = EntryKind.gate(
        "fleet_lock",
        example: "- fleet_lock: {engine: etcd, endpoints: [\"https://etcd-1.example.com:2379\", \"https://etcd-2.example.com:2379\"], "
            + "group: workers, slots: 2, ca_file: /etc/updatectl/etcd-ca.pem, cert_file: /etc/updatectl/etcd-client.pem, "
            + "key_file: /etc/updatectl/etcd-client.key, id_file: /etc/updatectl/node-id, report_ttl: 4h, timeout: 30s}\n"
            + "  - fleet_lock: {name: site, engine: fleetlock, url: \"https://airlock.example.com/\", group: site-7, id: edge-0042}",
        timeout: "30s",
        "Takes one of the group's reboot slots after the release is downloaded, verified and staged, just before activation, "
            + "and holds it across the reboot; gives it back after a committing verification, after a rollback, and at the start "
            + "of any run with no update in flight. Without a slot the run is deferred with the release staged. `engine: "
            + "fleetlock` asks a FleetLock server (`POST url/v1/pre-reboot`, `/v1/steady-state`); `engine: etcd` keeps Airlock's "
            + "semaphore (`com.coreos.airlock/groups/GROUP/v1/semaphore`) in etcd itself, every change a compare-and-swap. "
            + "`--force` does not skip it; `--skip-fleet-lock` does. docs/fleet.md.",
        [
            Key(
                "engine", .choice(Engine.allCases.map(\.rawValue)), required: true,
                "`fleetlock` (a FleetLock server) or `etcd` (etcd's v3 JSON gateway, Airlock's layout)."),
            Key("url", .url(schemes: ["http", "https"]), "fleetlock: the server's base URL."),
            Key("endpoints", .list(.url(schemes: ["http", "https"])), "etcd: client URLs, tried in turn."),
            Key("group", .string(groupRule), default: "default", "The reboot group."),
            Key(
                "slots", .integer(min: 1, max: 1000), default: "1",
                "etcd: how many nodes of the group may hold a slot, when updatectl creates the semaphore (an existing one keeps "
                    + "its own)."),
            Key(
                "id", .string(idRule), default: "from /etc/machine-id",
                "This node's identity (default: an application-specific id derived from /etc/machine-id, as Zincati does)."),
            Key("id_file", .path, "A file whose first line is this node's identity."),
            Key("ca_file", .path, "PEM certificate authorities for the server's certificate (default: the system's)."),
            Key("cert_file", .path, "PEM client certificate (etcd with client-certificate authentication)."),
            Key("key_file", .path, "PEM key of the client certificate."),
            Key(
                "report_ttl", .duration, default: "3 × (agent.check_every + agent.jitter)",
                "etcd: how long this node's report (`/updatectl/v1/nodes/GROUP/ID`, written after every run) outlives its last "
                    + "run: the lease it is written with. A node that stops running drops out of `updatectl fleet status` then."),
        ], type: FleetLockGate.self)

    init?(_ options: Fields, _ context: inout KindContext) {
        guard case .text(let text)? = options.mapping["engine"]?.value, let engine = Engine(rawValue: text) else { return nil }
        self.engine = Located(engine, options.origin("engine"))
        url = options.url("url")
        endpoints = options.urls("endpoints")
        group = options.text("group")
        slots = options.integer("slots")
        id = options.optionalText("id")
        idFile = options.optionalText("id_file")
        caFile = options.optionalText("ca_file")
        certFile = options.optionalText("cert_file")
        keyFile = options.optionalText("key_file")
        reportTTLOption = options.optionalDuration("report_ttl")
    }

    /// The lease of this node's report: `report_ttl`, or three run intervals (a node that missed
    /// three runs in a row has gone).
    public func reportTTL(agent: AgentSchedule) -> Duration { reportTTLOption?.value ?? agent.runInterval * 3 }

    public static let placement = GatePlacement.heldAcrossReboot

    public var files: [Located<String>] { [idFile, caFile, certFile, keyFile].compactMap { $0 } }

    /// Where the engine is: the FleetLock URL or the etcd endpoints.
    public var address: String {
        switch engine.value {
        case .fleetlock: url?.value.text ?? "(no url)"
        case .etcd: (endpoints?.value.map(\.text) ?? []).joined(separator: ", ")
        }
    }

    public var summary: String {
        switch engine.value {
        case .fleetlock:
            "take a reboot slot of group \(group.value) from the FleetLock server \(address) (POST /v1/pre-reboot); without "
                + "one, defer with the release staged"
        case .etcd:
            "take a reboot slot of group \(group.value) in etcd (\(address)): add this node to Airlock's semaphore by "
                + "compare-and-swap; without one, defer with the release staged"
        }
    }

    public var parameters: [Parameter] {
        var out = [Parameter("engine", .text(engine.value.rawValue), engine.origin)]
        if let url { out.append(Parameter("url", .text(url.value.text), url.origin)) }
        if let endpoints { out.append(Parameter("endpoints", .list(endpoints.value.map(\.text)), endpoints.origin)) }
        out.append(Parameter("group", .text(group.value), group.origin))
        if engine.value == .etcd { out.append(Parameter("slots", .integer(slots.value), slots.origin)) }
        if let id {
            out.append(Parameter("id", .text(id.value), id.origin))
        } else if let idFile {
            out.append(Parameter("id_file", .text(idFile.value), idFile.origin))
        } else {
            out.append(Parameter("id", .text("from /etc/machine-id"), .defaulted))
        }
        for (name, file) in [("ca_file", caFile), ("cert_file", certFile), ("key_file", keyFile)] {
            if let file { out.append(Parameter(name, .text(file.value), file.origin)) }
        }
        if engine.value == .etcd, let reportTTLOption {
            out.append(Parameter("report_ttl", .duration(reportTTLOption.value), reportTTLOption.origin))
        }
        return out
    }

    /// What `plan` says when the node gives its slot back.
    public var releaseSummary: String? {
        switch engine.value {
        case .fleetlock: "give back this node's reboot slot of group \(group.value) (POST \(address)/v1/steady-state)"
        case .etcd: "give back this node's reboot slot of group \(group.value): remove it from the semaphore by compare-and-swap"
        }
    }

    public static let withoutIt: String? = ": nodes of the group no longer wait for a reboot slot; any number reboot at once"

    public func changes(from old: FleetLockGate, step: String) -> (messages: [String], covered: Set<String>) {
        var messages: [String] = []
        if old.group.value != group.value {
            messages.append("`\(step)`: group \(old.group.value) → \(group.value): this node takes its slots from another group")
        }
        if old.engine.value != engine.value {
            messages.append("`\(step)`: engine \(old.engine.value.rawValue) → \(engine.value.rawValue)")
        }
        return (messages, messages.isEmpty ? [] : ["group", "engine"])
    }

    public static let facts = [
        Key(
            "fleet_lock", .list(.string(ScenarioFleetRule.rule)), default: "[granted]",
            "Per apply run, what the fleet lock answers: `granted`, `denied` or `down`, each optionally `xN`; the last repeats. "
                + "A run denied a slot is retried after `run_every`, continuing from the staged release.")
    ]

    public static let rules = [fleetLockAddress, fleetLockPlaintext, fleetLockUnusedKey, fleetReportTTLShort, severalFleetLocks]

    static let fleetLockAddress = Rule(
        "UPD413", "fleet-lock-address", .error,
        summary: "A `fleet_lock` gate without the address its engine needs, or with an address that is not a base URL "
            + "(a query, a fragment or user information).",
        rationale: "`engine: fleetlock` talks to a FleetLock server at `url`; `engine: etcd` to etcd's `endpoints`. A "
            + "gate that cannot reach its engine defers every update forever. The protocol's paths (`/v1/pre-reboot`, "
            + "`/v3/kv/range`) are appended to the address: after a `?` or `#` they would become part of the query or "
            + "fragment, and the request would go to the wrong place.",
        fix: "Give `url` for `fleetlock`, `endpoints` for `etcd`, each as `scheme://host[:port][/path]`.",
        example: "updates:\n  preflight:\n    - fleet_lock: {engine: etcd, url: \"https://airlock.example.com\"}")

    static let fleetLockPlaintext = Rule(
        "UPD414", "fleet-lock-plaintext", .warning,
        summary: "A `fleet_lock` engine reached over plain HTTP, off this machine.",
        rationale: "Anyone on the path can then take or give back slots for the whole group, and read node ids.",
        fix: "Use HTTPS (with `ca_file`, and `cert_file`/`key_file` where etcd asks for client certificates).",
        example: "updates:\n  preflight:\n    - fleet_lock: {engine: fleetlock, url: \"http://airlock.example.com\"}")

    static let fleetLockUnusedKey = Rule(
        "UPD415", "fleet-lock-unused-key", .warning,
        summary: "A `fleet_lock` key its engine does not use (`url` with etcd, `endpoints`, `slots` or `report_ttl` with a "
            + "FleetLock server), or `id_file` beside `id`.",
        rationale: "The key is ignored: whoever reads the policy may believe it takes effect.",
        fix: "Remove the key, or set the engine it belongs to.",
        example: "updates:\n  preflight:\n    - fleet_lock: {engine: fleetlock, url: \"https://airlock.example.com\", slots: 2}",
        fixes: .safeOrUnsafe)

    static let severalFleetLocks = Rule(
        "UPD419", "several-fleet-locks", .warning,
        summary: "More than one `fleet_lock` gate in a policy.",
        rationale: "Each gate is a lock of its own, asked one after the other: two locks are not one grant. updatectl "
            + "takes them all or none (a run that one of them defers gives back the slots the others granted it), so "
            + "nodes asking in opposite orders do not wait for each other for ever; but a node then activates only "
            + "when every lock has a free slot at the same moment, and takes and gives back slots on every run until "
            + "it does.",
        fix: "Keep one `fleet_lock` gate: one group whose slots say how many nodes may reboot at once. Where two are "
            + "needed, list them in the same order in every node's policy.",
        example: "updates:\n  preflight:\n    - fleet_lock: {engine: fleetlock, url: \"https://airlock.example.com\", group: rack-4}\n"
            + "    - fleet_lock: {name: site, engine: fleetlock, url: \"https://airlock.example.com\", group: site-7}")

    static let fleetReportTTLShort = Rule(
        "UPD418", "fleet-report-ttl-short", .warning,
        summary: "A `fleet_lock` `report_ttl` no longer than the time between two of the node's runs.",
        rationale: "A node's report in etcd is written with a lease of `report_ttl` after every run. When the lease ends "
            + "before the next run (`agent.check_every` plus `agent.jitter`), a healthy node keeps dropping out of "
            + "`updatectl fleet status`, and a holder of a slot shows as one that stopped reporting.",
        fix: "Leave `report_ttl` out (three run intervals), or make it longer than `agent.check_every` plus `agent.jitter`.",
        example: "updates:\n  agent: {check_every: 1h}\n  preflight:\n    - fleet_lock: {engine: etcd, endpoints: "
            + "[\"https://etcd-1:2379\"], report_ttl: 10m}", fixes: .unsafe)

    func check(_ gate: Gate, _ checks: inout CrossChecks) {
        let at = engine.origin.mark ?? gate.source.mark ?? checks.policy.start
        let locks = checks.policy.preflight.filter { $0.kind is FleetLockGate }
        if locks.count > 1, locks[1].name.value == gate.name.value, let mark = gate.source.mark {
            checks.findings.append(
                Finding(
                    .severalFleetLocks,
                    "a second `fleet_lock` gate (`\(gate.name.value)`, after `\(locks[0].name.value)`): a node activates only "
                        + "when every one grants it a slot, and a run that one defers gives back the slots the others granted",
                    start: mark, end: checks.end(of: mark),
                    help: "keep one fleet_lock gate; if both are needed, list them in the same order on every node"))
        }
        // The key is ignored, so removing it changes nothing; which of `id` and `id_file` to keep is the author's choice.
        // `url` and `endpoints` are addresses: where the other engine's is missing, the engine may be the mistake, and
        // removing the only address would lose it, so their removal is unsafe.
        func unused(_ key: String, _ message: String, _ mark: Mark?, help: String, _ safety: Fix.Safety = .safe) {
            guard let mark else { return }
            checks.findings.append(
                Finding(
                    .fleetLockUnusedKey, message, start: mark, end: checks.end(of: mark), help: help,
                    fixes: checks.removal(ofPairAt: mark, "remove `\(key)`", safety)))
        }
        switch engine.value {
        case .fleetlock:
            if url == nil {
                checks.findings.append(
                    Finding(
                        .fleetLockAddress, "`engine: fleetlock` needs `url`, the FleetLock server's base URL",
                        start: at, end: checks.end(of: at),
                        help: "add `url: https://…` (the base the server's /v1/pre-reboot is under)"))
            }
            unused(
                "endpoints", "`endpoints` is for `engine: etcd`; a FleetLock server is reached at `url`, and `endpoints` is ignored",
                endpoints?.origin.mark, help: "remove `endpoints`, or set `engine: etcd`", .unsafe)
            unused(
                "slots", "`slots` is for `engine: etcd`; a FleetLock server decides its slots, and `slots` is ignored", slots.origin.mark,
                help: "remove `slots`")
            unused(
                "report_ttl", "`report_ttl` is for `engine: etcd`; nodes report their status to etcd only, and `report_ttl` is ignored",
                reportTTLOption?.origin.mark, help: "remove `report_ttl`")
        case .etcd:
            if endpoints?.value.isEmpty ?? true {
                let mark = endpoints?.origin.mark ?? at
                checks.findings.append(
                    Finding(
                        .fleetLockAddress, "`engine: etcd` needs `endpoints`, etcd's client URLs",
                        start: mark, end: checks.end(of: mark),
                        help: "add `endpoints: [\"https://etcd-1:2379\"]`"))
            }
            unused(
                "url", "`url` is for `engine: fleetlock`; etcd is reached at `endpoints`, and `url` is ignored", url?.origin.mark,
                help: "remove `url`, or set `engine: fleetlock`", .unsafe)
            let interval = checks.policy.agent.runInterval
            if let reportTTLOption, reportTTLOption.value <= interval, let mark = reportTTLOption.origin.mark {
                checks.findings.append(
                    Finding(
                        .fleetReportTTLShort,
                        "`report_ttl: \(DurationText.format(reportTTLOption.value))` ends before the node's next run (every "
                            + "\(DurationText.format(interval)) at most: agent.check_every plus agent.jitter): its report "
                            + "expires between runs", start: mark, end: checks.end(of: mark),
                        help: "remove `report_ttl` (three run intervals: \(DurationText.format(interval * 3))) or make it longer",
                        // A longer lease is a change of behaviour, and a longer value would be the author's choice.
                        fixes: checks.removal(ofPairAt: mark, "remove `report_ttl`", .unsafe)))
            }
        }
        if id != nil {
            unused(
                "id_file", "`id` and `id_file` both name this node's identity: `id` is used, `id_file` ignored",
                idFile?.origin.mark, help: "keep one", .unsafe)
        }
        var addresses = url.map { [Located($0.value, $0.origin)] } ?? []
        addresses += endpoints.map { list in list.value.map { Located($0, list.origin) } } ?? []
        // Each endpoint where it is written: the list keeps only its own start.
        var entries = url.map { [($0.value, $0.origin.mark)] } ?? []
        var searchFrom = endpoints?.origin.mark
        for endpoint in endpoints?.value ?? [] {
            let mark = searchFrom.flatMap { checks.mark(of: endpoint.text, from: $0) } ?? endpoints?.origin.mark
            entries.append((endpoint, mark))
            searchFrom = checks.end(of: mark) ?? searchFrom
        }
        for (address, mark) in entries {
            guard let problem = Self.notABase(address), let mark else { continue }
            checks.findings.append(
                Finding(
                    .fleetLockAddress,
                    "`\(Self.redacted(address))` has \(problem): updatectl appends the protocol's paths to the address, "
                        + "which needs a base URL", start: mark, end: checks.end(of: mark),
                    help: "write the address as scheme://host[:port][/path], with no `?`, `#` or `user@`"))
        }
        if let plain = addresses.first(where: { $0.value.scheme == "http" && !Self.isLoopback($0.value) }),
            let mark = plain.origin.mark
        {
            checks.findings.append(
                Finding(
                    .fleetLockPlaintext,
                    "the fleet lock is reached over plain http (\(Self.redacted(plain.value))): anyone on the path can take "
                        + "or give back the group's slots", start: mark, end: checks.end(of: mark),
                    help: "use https, with ca_file (and cert_file/key_file for etcd's client certificates)"))
        }
    }
}

extension AgentSchedule {
    /// The longest time between two runs of a node on the agent's schedule: `check_every` plus
    /// the whole of `jitter`.
    public var runInterval: Duration { checkEvery.value + jitter.value }
}

extension FleetLockGate {
    /// What keeps `url` from being a base the protocol's paths can be appended to: a query, a
    /// fragment, or user information (a password in the policy, sent nowhere); nil for a base.
    static func notABase(_ url: PolicyURL) -> String? {
        let rest = url.text.utf8.drop { $0 != UInt8(ascii: ":") }.dropFirst(3)
        if rest.contains(UInt8(ascii: "?")) { return "a query (`?`)" }
        if rest.contains(UInt8(ascii: "#")) { return "a fragment (`#`)" }
        if url.authority.contains("@") { return "user information (`user@`)" }
        return nil
    }

    /// `url` as a message may show it: a password in its user information is left out
    /// (`https://bob:…@host/`).
    static func redacted(_ url: PolicyURL) -> String {
        guard let at = url.authority.lastIndex(of: "@"), let colon = url.authority[..<at].firstIndex(of: ":") else { return url.text }
        let user = url.authority[..<colon]
        let host = url.authority[url.authority.index(after: at)...]
        return "\(url.scheme)://\(user):…@\(host)\(url.path)"
    }

    /// A URL on this machine (127.0.0.0/8, localhost, ::1): plain http does not cross a network.
    static func isLoopback(_ url: PolicyURL) -> Bool {
        var host = url.authority
        if let at = host.lastIndex(of: "@") { host = String(host[host.index(after: at)...]) }
        if host.hasPrefix("[") { return host.hasPrefix("[::1]") }
        if let colon = host.lastIndex(of: ":") { host = String(host[..<colon]) }
        return host == "localhost" || host.hasPrefix("127.")
    }
}

/// A scripted fleet-lock answer in a scenario: `granted`, `denied` or `down`, optionally `xN`.
public enum ScenarioFleetRule {
    public static let rule = StringRule(
        description: "`granted`, `denied` or `down`, optionally followed by a repeat count `xN`",
        pattern: "^(granted|denied|down)( x[0-9]+)?$", check: { parse($0) != nil })

    public static func parse(_ text: String) -> (answer: String, count: Int)? {
        let words = text.split(separator: " ").map(String.init)
        guard let first = words.first, ["granted", "denied", "down"].contains(first), words.count <= 2 else { return nil }
        guard words.count == 2 else { return (first, 1) }
        guard words[1].hasPrefix("x"), let count = Int(words[1].dropFirst()), count >= 1, count <= 1000 else { return nil }
        return (first, count)
    }
}

extension RuleID {
    public static let fleetLockAddress = FleetLockGate.fleetLockAddress.id
    public static let fleetLockPlaintext = FleetLockGate.fleetLockPlaintext.id
    public static let fleetLockUnusedKey = FleetLockGate.fleetLockUnusedKey.id
    public static let severalFleetLocks = FleetLockGate.severalFleetLocks.id
    public static let fleetReportTTLShort = FleetLockGate.fleetReportTTLShort.id
}
