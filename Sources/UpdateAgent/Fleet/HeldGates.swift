public import UpdatePolicy

/// What a held gate (a fleet lock) reports for `updatectl fleet status`.
public struct HeldReport: Sendable {
    public var gate: String
    public var engine: String
    public var address: String
    public var group: String
    /// This node's identity, or why it cannot be known.
    public var id: Result<String, FleetError>
    /// The group's slots and holders, when the engine can say.
    public var snapshot: FleetSnapshot?
    /// Why the engine could not be asked.
    public var problem: String?

    public init(
        gate: String, engine: String, address: String, group: String, id: Result<String, FleetError>,
        snapshot: FleetSnapshot? = nil, problem: String? = nil
    ) {
        self.gate = gate
        self.engine = engine
        self.address = address
        self.group = group
        self.id = id
        self.snapshot = snapshot
        self.problem = problem
    }
}

/// The policy's gates held across the reboot (fleet locks), as the executor and `updatectl
/// fleet` use them, whatever their kind.
public enum HeldGates {
    static func entries(_ policy: Policy) -> [(gate: Gate, kind: any HeldGateEvaluating)] {
        policy.preflight.compactMap { gate in (gate.kind as? any HeldGateEvaluating).map { (gate, $0) } }
    }

    public static func names(_ policy: Policy) -> [String] { entries(policy).map(\.gate.name.value) }

    /// What giving back `gate`'s slot would do, for a dry run: read, never written.
    public static func previewRelease(_ gate: Gate, _ env: CheckEnvironment) -> String? {
        guard let report = (gate.kind as? any HeldGateEvaluating)?.report(gate, env) else { return nil }
        let id: String
        switch report.id {
        case .success(let value): id = value
        case .failure(let error): return "dry run: \(error); nothing can be given back"
        }
        if let problem = report.problem {
            return "dry run: the fleet lock cannot be read (\(problem)); a real run tries to give back \(id)'s slot"
        }
        guard let snapshot = report.snapshot else {
            return "dry run: would tell \(report.address) that \(id) is steady (giving back a slot of group \(report.group) it may hold)"
        }
        return snapshot.holders.contains(id)
            ? "dry run: would give back \(id)'s slot of group \(report.group)"
            : "dry run: \(id) holds no slot of group \(report.group); nothing to give back"
    }

    /// Gives back what `gate` holds for this node; nil when it is not a held gate.
    public static func release(_ gate: Gate, _ env: CheckEnvironment) -> FleetAnswer? {
        (gate.kind as? any HeldGateEvaluating)?.release(gate, env)
    }

    /// Gives back every slot this node holds, recording it in the sidecar; one sentence per gate.
    /// Used when the node is steady (after a commit or a rollback, and when a run finds no update
    /// in flight).
    public static func releaseAll(_ policy: Policy, _ env: AgentEnvironment, lock: StateLock?) -> [(gate: String, answer: FleetAnswer)] {
        release(entries(policy).map(\.gate), env, lock: lock)
    }

    /// Gives back what each of `gates` that is a held gate holds for this node, recording it in
    /// the sidecar; one answer per held gate.
    static func release(_ gates: [Gate], _ env: AgentEnvironment, lock: StateLock?) -> [(gate: String, answer: FleetAnswer)] {
        gates.compactMap { gate in
            guard let kind = gate.kind as? any HeldGateEvaluating else { return nil }
            let answer = kind.release(gate, env.checks)
            if case .done = answer, let lock {
                try? env.store.updateSidecar(holding: lock) { $0.held.removeAll { $0.gate == gate.name.value } }
            }
            return (gate.name.value, answer)
        }
    }

    public static func reports(_ policy: Policy, _ env: CheckEnvironment) -> [HeldReport] {
        entries(policy).map { $0.kind.report($0.gate, env) }
    }

    /// Gives back `holder`'s slot in every held gate of the policy, or in the one named `gate`.
    public static func release(
        holder: String, gate name: String?, _ policy: Policy, _ env: CheckEnvironment
    )
        -> [(gate: String, answer: FleetAnswer)]
    {
        entries(policy).filter { name == nil || $0.gate.name.value == name }.map { entry in
            (entry.gate.name.value, entry.kind.release(holder: holder, entry.gate, env))
        }
    }
}
