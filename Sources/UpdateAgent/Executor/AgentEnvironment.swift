public import UpdatePolicy

/// The effects an apply run goes through, all injectable.
public struct AgentEnvironment: Sendable {
    public var clock: any RunClock
    public var runner: any CommandRunner
    public var transport: any Transport
    public var system: any SystemProbe
    public var backend: any UpdateBackend
    public var store: StateStore
    public var reporter: any RunReporter
    public var gates: any GateEvaluator
    public var probes: any ProbeRunner
    /// What gates and held gates reach the world through.
    public var checks: CheckEnvironment
    /// The files of a release download at once; `simulate` takes them one after the other, so
    /// its virtual time and its report do not depend on thread timing.
    public var downloadsAtOnce = true
    /// Each file's download has one deadline across its tries (`ReleaseDownload`). `simulate`
    /// turns it off: its files are small stand-ins for a download that takes the scenario's
    /// `download.duration`, so a deadline from their size would judge the wrong number of bytes.
    public var downloadDeadline = true
    /// A number in [0, 1) for each retry's random wait; `simulate` takes the middle (0.5), so a
    /// scenario's timeline is the same on every run.
    public var jitter: @Sendable () -> Double = { Double.random(in: 0..<1) }

    /// With `gates` and `probes` nil, the real ones over the other effects.
    public init(
        clock: any RunClock, runner: any CommandRunner, transport: any Transport, system: any SystemProbe,
        backend: any UpdateBackend, store: StateStore, reporter: any RunReporter,
        gates: (any GateEvaluator)? = nil, probes: (any ProbeRunner)? = nil, fleet: (any FleetEngines)? = nil
    ) {
        self.clock = clock
        self.runner = runner
        self.transport = transport
        self.system = system
        self.backend = backend
        self.store = store
        self.reporter = reporter
        let checks = CheckEnvironment(clock: clock, runner: runner, transport: transport, system: system, fleet: fleet)
        self.checks = checks
        self.gates = gates ?? Gates(checks)
        self.probes = probes ?? Probes(checks)
    }

    /// The backend a policy names, made by its description's agent side.
    public static func backend(for policy: Policy, runner: any CommandRunner) -> any UpdateBackend {
        guard let making = policy.backend.described as? any BackendMaking else {
            preconditionFailure("the backend `\(policy.backend.type)` has no agent side (UpdateAgent/Backends)")
        }
        return making.makeBackend(dataDir: policy.dataDir.value, runner: runner)
    }
}
