import JSONValue
import UpdatePolicy

/// What gate and probe kinds reach the world through.
public struct CheckEnvironment: Sendable {
    public var clock: any WallClock
    public var runner: any CommandRunner
    public var transport: any Transport
    public var system: any SystemProbe
    public var kubernetes: any KubernetesAPI
    /// Fleet lock engines (FleetLock, etcd), or a simulation's.
    public var fleet: any FleetEngines

    public init(
        clock: any WallClock, runner: any CommandRunner, transport: any Transport, system: any SystemProbe,
        kubernetes: (any KubernetesAPI)? = nil, fleet: (any FleetEngines)? = nil
    ) {
        self.clock = clock
        self.runner = runner
        self.transport = transport
        self.system = system
        self.kubernetes = kubernetes ?? Kubectl(system: system, runner: runner)
        self.fleet = fleet ?? RealFleetEngines(transport: transport)
    }
}

/// The agent side of a gate kind (`Kinds/<Name>.swift` here, beside the policy side of the same
/// name in UpdatePolicy): how it decides, against the real system or a simulated one.
protocol GateEvaluating: GateKind {
    func evaluate(_ gate: Gate, _ input: GateInput, _ env: CheckEnvironment) -> GateOutcome
}

/// The agent side of a gate about the time of day (`GateKind.window`): whether it is open at a
/// moment, so that `updatectl agent` can wait for the next opening.
protocol WindowEvaluating: GateEvaluating {
    func isOpen(at time: Timestamp) -> Bool
}

/// The agent side of a gate held across the reboot (`GatePlacement.heldAcrossReboot`): what
/// `evaluate` takes, `release` gives back.
protocol HeldGateEvaluating: GateEvaluating {
    /// Gives back what `evaluate` took for this node; succeeds when nothing is held.
    func release(_ gate: Gate, _ env: CheckEnvironment) -> FleetAnswer
    /// Takes what `evaluate` takes, for a reboot that is not an activation (the one that ends a
    /// rollback); succeeds when this node holds it already.
    func take(_ gate: Gate, _ env: CheckEnvironment) -> FleetAnswer
    /// Gives back what `holder` took (`updatectl fleet unlock`).
    func release(holder: String, _ gate: Gate, _ env: CheckEnvironment) -> FleetAnswer
    /// What is held, by whom, for `updatectl fleet status`.
    func report(_ gate: Gate, _ env: CheckEnvironment) -> HeldReport
}

/// The agent side of a probe kind.
protocol ProbeEvaluating: ProbeKind {
    /// Passed or not, and what the probe saw.
    func evaluate(_ probe: Probe, variables: [String: String], _ env: CheckEnvironment) -> (passed: Bool, detail: String)
}

/// A kind that reads scenario facts (`PolicyKinds`' `facts`) turns them into what the simulated
/// node answers.
protocol SimulatesFacts: EntryKindDescription {
    static func simulate(_ facts: ScenarioFacts, _ node: inout SimulatedNode)
}

/// What a simulated node answers, as the kinds' facts set it.
struct SimulatedNode: Sendable {
    var freeBytes: UInt64 = 1 << 40
    var machineID = "simulated-machine"
    var architecture = "amd64"
    /// Whether kubectl and a kubeconfig are there.
    var kubernetes = false
    /// API objects by path prefix.
    var apiObjects: [(prefix: String, object: JSON)] = []
    /// Small files `readText` answers, by path (what a kind's facts say sysfs or procfs hold).
    var files: [String: String] = [:]
    /// What the fleet lock answers to each request for a slot (`granted`, `denied`, `down`); the
    /// last repeats.
    var fleetScript = ["granted"]

    /// The node of a scenario: every kind that reads facts sets its part.
    init(_ facts: ScenarioFacts) {
        for kind in PolicyKinds.gates as [any EntryKindDescription.Type] + PolicyKinds.probes {
            (kind as? any SimulatesFacts.Type)?.simulate(facts, &self)
        }
    }
}
