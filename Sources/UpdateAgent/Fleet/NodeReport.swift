public import JSONValue
public import UpdatePlan
public import UpdatePolicy

/// What a node says of itself after every run, in etcd beside the group's semaphore:
/// `/updatectl/v1/nodes/<group>/<id>` (both query-escaped, as Airlock escapes the group), a JSON
/// object written with a lease of the gate's `report_ttl`, so that the key of a node that stops
/// running expires (docs/fleet.md, "Node reports").
public struct NodeReport: Sendable, Equatable {
    public var id: String
    public var group: String
    /// The version the node runs.
    public var version: String?
    public var phase: Phase
    /// The version the node is updating to (or last tried), when it is not the one it runs.
    public var offered: String?
    /// When the node first reported this phase (and offered version).
    public var phaseSince: Timestamp
    /// When the report was written, by the node's clock.
    public var at: Timestamp
    /// `apply` or `healthcheck`, and how it ended (the agent's event names: `deferred`, `committed`…).
    public var run: String
    public var outcome: String
    public var deferral: UpdateState.Deferral?
    public var lastError: String?
    /// The lease's time to live.
    public var ttl: Duration
    /// The newest rollback the node recorded (its sidecar's): a node that rolled back a version
    /// stays behind it, in whatever phase its later runs leave it.
    public var lastRollback: Rollback? = nil

    public struct Rollback: Sendable, Equatable {
        public var version: String
        public var at: Timestamp
    }

    /// Version 1 of the layout.
    public static let prefix = "/updatectl/v1/nodes/"

    public static func groupPrefix(_ group: String) -> String { prefix + EtcdSemaphore.queryEscape(group) + "/" }

    public var key: String { Self.groupPrefix(group) + EtcdSemaphore.queryEscape(id) }

    public var json: JSON {
        .object([
            ("report_version", .int(1)), ("id", .string(id)), ("group", .string(group)), ("version", JSON.optional(version)),
            ("phase", .string(phase.rawValue)), ("offered", JSON.optional(offered)), ("phase_since", .string(phaseSince.description)),
            ("at", .string(at.description)), ("run", .string(run)), ("outcome", .string(outcome)),
            (
                "deferral",
                deferral.map { .object([("gate", .string($0.gate)), ("reason", .string($0.reason)), ("at", .string($0.at.description))]) }
                    ?? .null
            ),
            ("last_error", JSON.optional(lastError)), ("ttl_seconds", .int(Int(ttl.components.seconds))),
            (
                "last_rollback",
                lastRollback.map { .object([("version", .string($0.version)), ("at", .string($0.at.description))]) } ?? .null
            ),
        ])
    }

    /// A stored report; nil when the value is not one.
    public static func parse(_ bytes: [UInt8]) -> NodeReport? { try? decode(bytes) }

    /// A stored report, or why the value is not one that this version reads.
    public static func decode(_ bytes: [UInt8]) throws(FleetError) -> NodeReport {
        guard let json = try? JSON.parse(bytes, replacingInvalidUTF8: true), case .object = json else {
            throw FleetError("the value is not a JSON object")
        }
        guard json["report_version"]?.intValue == 1 else {
            throw FleetError(
                "report_version \(json["report_version"].map { $0.render(indent: 0) } ?? "missing"), not 1 (a newer updatectl?)")
        }
        guard let id = json["id"]?.stringValue, let group = json["group"]?.stringValue,
            let phase = json["phase"]?.stringValue.flatMap(Phase.init(rawValue:)),
            let at = json["at"]?.stringValue.flatMap(Timestamp.parse)
        else { throw FleetError("the report lacks a valid id, group, phase or at") }
        var deferral: UpdateState.Deferral?
        if let gate = json["deferral"]?["gate"]?.stringValue {
            deferral = UpdateState.Deferral(
                gate: gate, reason: json["deferral"]?["reason"]?.stringValue ?? "",
                at: json["deferral"]?["at"]?.stringValue.flatMap(Timestamp.parse) ?? at)
        }
        return NodeReport(
            id: id, group: group, version: json["version"]?.stringValue, phase: phase, offered: json["offered"]?.stringValue,
            phaseSince: json["phase_since"]?.stringValue.flatMap(Timestamp.parse) ?? at, at: at,
            run: json["run"]?.stringValue ?? "", outcome: json["outcome"]?.stringValue ?? "", deferral: deferral,
            lastError: json["last_error"]?.stringValue, ttl: .seconds(json["ttl_seconds"]?.intValue ?? 0),
            lastRollback: json["last_rollback"]?["version"]?.stringValue.map {
                Rollback(version: $0, at: json["last_rollback"]?["at"]?.stringValue.flatMap(Timestamp.parse) ?? at)
            })
    }

    /// Go's `url.QueryUnescape` (the inverse of how ids are escaped into keys); the text as it is
    /// where it is no valid escape.
    static func queryUnescape(_ text: String) -> String {
        var bytes: [UInt8] = []
        var index = text.utf8.startIndex
        let utf8 = text.utf8
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%"), let high = utf8.index(index, offsetBy: 1, limitedBy: utf8.endIndex),
                high != utf8.endIndex, let low = utf8.index(high, offsetBy: 1, limitedBy: utf8.endIndex), low != utf8.endIndex,
                let value = UInt8(String(decoding: [utf8[high], utf8[low]], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                index = utf8.index(after: low)
                continue
            }
            bytes.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            index = utf8.index(after: index)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// One key under a group's prefix, as `fleet status` reads it.
public struct NodeReportEntry: Sendable {
    /// The id the key names (unescaped).
    public var id: String
    public var key: String
    /// The report (its `id` the key's), or why the value is not one.
    public var report: Result<NodeReport, FleetError>
    /// The id the report itself names, when it is not the key's.
    public var reportedID: String?
}

/// Writing and reading node reports, for every `fleet_lock` gate with `engine: etcd`.
public enum NodeReports {
    /// The longest any one request of a report may take (the gate's `timeout` when shorter): a
    /// report never holds up the node for long.
    static let requestTimeout = Duration.seconds(3)

    static func places(_ policy: Policy, _ env: CheckEnvironment) -> [(gate: Gate, place: NodeReportPlace)] {
        policy.preflight.compactMap { gate in
            (gate.kind as? any NodeReporting)?.reportPlace(gate, env, agent: policy.agent).map { (gate, $0) }
        }
    }

    /// After a run (`event` says which and how it ended): writes this node's report to each etcd
    /// fleet lock of the policy. Never fails the run: a report that cannot be written is a warning
    /// through the environment's reporter. A dry run, and a check that changes nothing, report
    /// nothing.
    public static func write(after event: AgentEvent, _ policy: Policy, _ env: AgentEnvironment) {
        let run: String
        switch event {
        case .applied(.dryRun), .applied(.available): return
        case .applied: run = "apply"
        case .verified: run = "healthcheck"
        default: return
        }
        write(run: run, outcome: event.name, policy, env)
    }

    /// Writes this node's report after a run that is not one of the agent's (`rollback`).
    public static func write(run: String, outcome: String, _ policy: Policy, _ env: AgentEnvironment) {
        for (gate, place) in places(policy, env.checks) {
            if let problem = write(place, run: run, outcome: outcome, env) {
                env.reporter.warning(
                    "this node's status was not reported to etcd for fleet lock `\(gate.name.value)` (\(problem)); the run is "
                        + "not affected, the next run reports again")
            }
        }
    }

    /// Writes one report; why not, when it was not written.
    static func write(_ place: NodeReportPlace, run: String, outcome: String, _ env: AgentEnvironment) -> String? {
        let id: String
        switch place.id {
        case .success(let value): id = value
        case .failure(let error): return error.description
        }
        let state: UpdateState
        switch try? env.store.read() {
        case .state(let value)?: state = value
        default: state = UpdateState()
        }
        let version = try? env.backend.runningVersion()
        let now = env.checks.clock.now().wholeSeconds
        let rollback = (try? env.store.readSidecar())?.rolledBack.last
        var report = NodeReport(
            id: id, group: place.group, version: version, phase: state.phase,
            offered: state.toVersion == version ? nil : state.toVersion, phaseSince: now, at: now, run: run, outcome: outcome,
            deferral: state.deferral, lastError: state.lastError, ttl: place.ttl,
            lastRollback: rollback.map { NodeReport.Rollback(version: $0.version, at: $0.at.wholeSeconds) })
        let gateway = place.gateway(env.checks.transport)
        // One bound for the whole report, as for a gate: what one request spends, the next has not.
        let deadline = FleetDeadline(min(place.spec.timeout, requestTimeout))
        do {
            let previous = try gateway.entry(report.key, within: deadline)
            if let previous, let earlier = NodeReport.parse(previous.value), earlier.phase == report.phase,
                earlier.offered == report.offered, earlier.phaseSince < now
            {
                report.phaseSince = earlier.phaseSince
            }
            let lease = try gateway.grantLease(ttl: report.ttl, within: deadline)
            try gateway.put(report.key, value: Array(report.json.render(indent: 0).utf8), lease: lease, within: deadline)
            // The lease of the previous report holds nothing any more: let it go now rather than at its end.
            if let old = previous?.lease, old != 0, old != lease { try? gateway.revokeLease(old, within: deadline) }
            return nil
        } catch {
            return error.description
        }
    }

    /// Every key under the group of the fleet lock named `gateName` (etcd only), sorted by the
    /// key's id, reports and values that are none alike; nil when it is no etcd fleet lock.
    public static func read(gate gateName: String, _ policy: Policy, _ env: CheckEnvironment) throws(FleetError) -> [NodeReportEntry]? {
        guard let place = places(policy, env).first(where: { $0.gate.name.value == gateName })?.place else { return nil }
        let gateway = place.gateway(env.transport)
        let prefix = NodeReport.groupPrefix(place.group)
        let entries = try gateway.entries(prefix: prefix, within: FleetDeadline(place.spec.timeout)).map { entry in
            let key = String(decoding: entry.key, as: UTF8.self)
            let id = NodeReport.queryUnescape(String(key.dropFirst(prefix.count)))
            do throws(FleetError) {
                var report = try NodeReport.decode(entry.value)
                let reportedID = report.id == id ? nil : report.id
                report.id = id
                return NodeReportEntry(id: id, key: key, report: .success(report), reportedID: reportedID)
            } catch {
                return NodeReportEntry(id: id, key: key, report: .failure(error), reportedID: nil)
            }
        }
        return entries.sorted { Array($0.id.utf8).lexicographicallyPrecedes(Array($1.id.utf8)) }
    }
}

/// A gate whose engine keeps node reports (a fleet lock in etcd).
protocol NodeReporting {
    /// Where this node reports for `gate`; nil when its engine keeps no reports.
    func reportPlace(_ gate: Gate, _ env: CheckEnvironment, agent: AgentSchedule) -> NodeReportPlace?
}

/// Where a node's reports go: its id and group, the lease's time to live, and the etcd to reach.
struct NodeReportPlace {
    var id: Result<String, FleetError>
    var group: String
    var ttl: Duration
    var spec: FleetEngineSpec

    func gateway(_ transport: any Transport) -> EtcdGateway {
        EtcdGateway(endpoints: spec.urls, tls: spec.tls, transport: transport)
    }
}

/// What `updatectl fleet status` flags in a node's row.
public enum NodeFlag: String, Sendable, CaseIterable {
    /// A holder of a slot with no report, or a report older than the threshold.
    case stale
    /// The node's last update was rolled back, or it still runs a version older than the one it
    /// last rolled back.
    case rolledBack = "rolled_back"
    /// An update in flight (checking to verifying) for longer than the threshold.
    case stuck
    /// A value under the group's prefix that is no report this version reads.
    case unreadable
    /// A report dated more than `NodeReport.clockSlack` after this machine's clock.
    case clockAhead = "clock_ahead"
    /// A report whose `id` is not the one its key names.
    case idMismatch = "id_mismatch"
}

extension NodeReport {
    /// How far ahead of this machine's clock a report may be dated before it is flagged.
    public static let clockSlack = Duration.seconds(60)

    /// The node still runs a version older than the one it last rolled back (semantic versions;
    /// versions that are not say nothing).
    public var behindRollback: Bool {
        guard let rolled = lastRollback.flatMap({ SemanticVersion($0.version) }), let running = version.flatMap(SemanticVersion.init)
        else { return false }
        return running < rolled
    }

    /// The flags of this report at `now`.
    public func flags(now: Timestamp, staleAfter: Duration, stuckAfter: Duration) -> [NodeFlag] {
        var flags: [NodeFlag] = []
        if now - at > staleAfter { flags.append(.stale) }
        if phase == .rolledBack || behindRollback { flags.append(.rolledBack) }
        if ![.idle, .success, .failed, .rolledBack].contains(phase), now - phaseSince > stuckAfter { flags.append(.stuck) }
        if at - now > Self.clockSlack { flags.append(.clockAhead) }
        return flags
    }
}

extension EtcdGateway {
    /// One key's value and lease (0: none); nil when it does not exist.
    func entry(_ key: String, within deadline: FleetDeadline) throws(FleetError) -> (value: [UInt8], lease: Int)? {
        try range(["key": Array(key.utf8)], within: deadline).first.map { ($0.value, $0.lease) }
    }

    /// Every key under `prefix`, with its value and lease.
    func entries(prefix: String, within deadline: FleetDeadline) throws(FleetError) -> [(key: [UInt8], value: [UInt8], lease: Int)] {
        var end = Array(prefix.utf8)
        // etcd's prefix range: the prefix with its last byte increased (the prefixes here end in "/").
        end[end.count - 1] += 1
        return try range(["key": Array(prefix.utf8), "range_end": end], within: deadline)
    }

    private func range(
        _ fields: [String: [UInt8]], within deadline: FleetDeadline
    ) throws(FleetError) -> [(key: [UInt8], value: [UInt8], lease: Int)] {
        let body = JSON.object(fields.sorted { $0.key < $1.key }.map { ($0.key, .string(Base64.encode($0.value))) })
        guard case .array(let kvs)? = try call("/v3/kv/range", body, within: deadline)["kvs"] else { return [] }
        return kvs.compactMap { kv in
            guard let key = kv["key"]?.stringValue.flatMap(Base64.decode) else { return nil }
            let value = kv["value"]?.stringValue.flatMap(Base64.decode) ?? []
            return (key, value, kv["lease"].flatMap(Self.number) ?? 0)
        }
    }

    /// A new lease of `ttl` (etcd rounds it up to its own minimum); its id.
    func grantLease(ttl: Duration, within deadline: FleetDeadline) throws(FleetError) -> Int {
        let answer = try call("/v3/lease/grant", .object([("TTL", .string(String(max(ttl.components.seconds, 1))))]), within: deadline)
        guard let id = answer["ID"].flatMap(Self.number), id != 0 else { throw FleetError("etcd granted no lease") }
        return id
    }

    func put(_ key: String, value: [UInt8], lease: Int, within deadline: FleetDeadline) throws(FleetError) {
        _ = try call(
            "/v3/kv/put",
            .object([
                ("key", .string(Base64.encode(Array(key.utf8)))), ("value", .string(Base64.encode(value))),
                ("lease", .string(String(lease))),
            ]), within: deadline)
    }

    func revokeLease(_ id: Int, within deadline: FleetDeadline) throws(FleetError) {
        _ = try call("/v3/lease/revoke", .object([("ID", .string(String(id)))]), within: deadline)
    }
}
