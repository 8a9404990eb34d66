import UpdatePlan
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

    /// Tries a give-back this many times within one run: a FleetLock server answers 500 when its
    /// own compare-and-swap lost to another node's (Airlock), which the next try usually wins.
    static let giveBackTries = 4

    /// No try starts later than this after the first: a run does not wait long on an engine that
    /// keeps failing (the next run, or the agent's next round, tries again).
    static let giveBackBound = Duration.seconds(20)

    /// Gives back what `gate` holds for this node, trying again after 1 s, 2 s and 4 s (on the
    /// run's clock) while the engine refuses or does not answer; nil when it is not a held gate.
    /// The sidecar forgets the slot once it is given back.
    static func giveBack(_ gate: Gate, _ env: AgentEnvironment, lock: StateLock?) -> FleetAnswer? {
        guard let kind = gate.kind as? any HeldGateEvaluating else { return nil }
        let start = env.clock.instant()
        var wait = Duration.seconds(1)
        var answer = kind.release(gate, env.checks)
        for _ in 1..<giveBackTries {
            if case .done = answer { break }
            guard env.clock.instant() - start + wait <= giveBackBound else { break }
            env.clock.sleep(for: wait)
            wait = wait * 2
            answer = kind.release(gate, env.checks)
        }
        if case .done = answer, let lock {
            try? env.store.updateSidecar(holding: lock) { $0.held.removeAll { $0.gate == gate.name.value } }
        }
        return answer
    }

    /// Gives back every slot this node holds (each as `giveBack` does), recording it in the
    /// sidecar; one sentence per gate. Used when the node is steady (after a commit, after the
    /// reboot that ends a rollback, and when a run finds no update in flight).
    public static func releaseAll(_ policy: Policy, _ env: AgentEnvironment, lock: StateLock?) -> [(gate: String, answer: FleetAnswer)] {
        entries(policy).compactMap { entry in giveBack(entry.gate, env, lock: lock).map { (entry.gate.name.value, $0) } }
    }

    /// Gives back what each of `gates` that is a held gate holds for this node (each as
    /// `giveBack` does), recording it in the sidecar; one answer per held gate.
    static func release(_ gates: [Gate], _ env: AgentEnvironment, lock: StateLock?) -> [(gate: String, answer: FleetAnswer)] {
        gates.compactMap { gate in giveBack(gate, env, lock: lock).map { (gate.name.value, $0) } }
    }

    /// Takes every slot of the policy for a reboot that is not an activation (the one that ends a
    /// rollback an earlier run did not reboot out of), recording each in the sidecar; the first
    /// gate that grants none, and why, or nil when all are held.
    static func takeAll(_ policy: Policy, _ env: AgentEnvironment, lock: StateLock?) -> (gate: String, reason: String)? {
        for entry in entries(policy) {
            let name = entry.gate.name.value
            switch entry.kind.take(entry.gate, env.checks) {
            case .done(let detail):
                env.reporter.note("\(name): \(detail); held until this node is steady on the previous version")
                if let lock {
                    let held = Sidecar.Held(gate: name, detail: detail, at: env.clock.now())
                    try? env.store.updateSidecar(holding: lock) { $0.held = $0.held.filter { $0.gate != name } + [held] }
                }
            case .refused(let reason), .unreachable(let reason):
                return (name, reason)
            }
        }
        return nil
    }

    /// Whether the node is steady for the fleet: no update in flight, and not a node that still
    /// runs a release that was rolled back (its reboot into the previous slot is still to come).
    /// Only a steady node gives back its slots.
    public static func isSteady(_ state: UpdateState, _ env: AgentEnvironment) -> Bool {
        [.idle, .success, .failed, .rolledBack].contains(state.phase) && !env.runsRolledBackRelease(state)
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
