import UpdatePlan
public import UpdatePolicy

/// One line of a simulated timeline.
public struct SimulationEvent: Sendable {
    /// Virtual time since the scenario's start.
    public var offset: Duration
    public var phase: String
    /// The plan step, or `-` for what happens around the runs (reboots, waits).
    public var step: String
    public var decision: String
    public var detail: String
}

public struct SimulationResult: Sendable {
    public var events: [SimulationEvent]
    /// success, rolled_back, deferred, failed, up_to_date or activated.
    public var outcome: String
    /// "success at t+4m10s", "rolled back after 3 failed runs at t+31m".
    public var summary: String
    public var runs: Int
    public var at: Duration
    /// Why the outcome is not what the scenario expects, if it is not.
    public var mismatch: String?
}

/// Collects the executor's reports as timeline events on the virtual clock.
/// `@unchecked Sendable`: `recorded`, its only mutable property, is read and written under `lock`.
final class TimelineReporter: RunReporter, @unchecked Sendable {
    private let lock = Mutex()
    private let clock: FixedWallClock
    private let start: Timestamp
    private var recorded: [SimulationEvent] = []

    var events: [SimulationEvent] { lock.withLock { recorded } }

    private let scratch: String

    init(clock: FixedWallClock, start: Timestamp, scratch: String) {
        self.clock = clock
        self.start = start
        self.scratch = scratch
    }

    func add(_ step: String, _ phase: String, _ decision: String, _ detail: String) {
        let offset = clock.now() - start
        // The scratch directory is an accident of this run; the timeline names the slot instead.
        let shown = detail.replacingFirst(scratch, with: "the passive slot's file system")
        lock.withLock { recorded.append(SimulationEvent(offset: offset, phase: phase, step: step, decision: decision, detail: shown)) }
    }

    /// A step that was not carried out did not move the lifecycle into its phase: it shows the
    /// phase the run was already in.
    func stepFinished(index: Int, total: Int, step: Step, decision: StepDecision, detail: String) {
        let phase = decision == .skip ? (lock.withLock { recorded.last { !$0.phase.isEmpty }?.phase } ?? "") : step.phase.rawValue
        add(step.id, phase, decision.rawValue, detail)
    }

    func progress(bytes: Int, total: Int) {}

    func note(_ text: String) { add("-", "", "note", text) }
}

/// The scripted world of a scenario wired to the real executor: a virtual clock, the simulated
/// server, node, fleet and backend, the state in a scratch folder, the policy's key replaced by
/// the simulated server's. `Simulator` runs it; tests drive `ApplyRun` and `HealthcheckRun` on it.
struct SimulationSetup {
    let clock: FixedWallClock
    let start: Timestamp
    let world: SimulatedWorld
    let reporter: TimelineReporter
    let backend: SimulatedBackend
    let policy: Policy
    let plan: Plan
    var environment: AgentEnvironment

    init(policy original: Policy, scenario: Scenario, scratch: String) throws {
        guard let start = Timestamp.parse(scenario.start) else {
            throw BackendError("the scenario's start \(scenario.start) is not an RFC 3339 time")
        }
        let clock = FixedWallClock(start)
        var policy = original
        let world = SimulatedWorld(scenario: scenario, clock: clock, metadataURL: Planner.plan(policy).metadataURL)
        let reporter = TimelineReporter(clock: clock, start: start, scratch: scratch)
        if let key = policy.publicKey {
            policy.publicKey = Located(.ed25519(world.publicKey), key.origin)
            reporter.add("-", "", "note", "the policy's public key stands for the simulated server's key")
        }
        let runner = SimulatedRunner(clock: clock, hooks: scenario.hooks)
        let transport = SimulatedTransport(world: world)
        let node = SimulatedNode(scenario.facts)
        let system = SimulatedSystem(node: node)
        let backend = SimulatedBackend(runningVersion: scenario.runningVersion, bootsNew: scenario.boot == "new", scratch: scratch)
        let fleet = ScriptedFleet(script: node.fleetScript)
        let realGates = Gates(
            CheckEnvironment(
                clock: clock, runner: runner, transport: transport, system: system,
                kubernetes: SimulatedKubernetes(node: node), fleet: fleet))
        var environment = AgentEnvironment(
            clock: clock, runner: runner, transport: transport, system: system, backend: backend,
            store: StateStore(path: scratch + "/state.json"), reporter: reporter,
            gates: ScenarioGates(world: world, real: realGates), probes: ScenarioProbes(world: world), fleet: fleet)
        environment.downloadsAtOnce = false
        environment.downloadDeadline = false
        environment.jitter = { 0.5 }
        (self.clock, self.start, self.world, self.reporter, self.backend) = (clock, start, world, reporter, backend)
        (self.policy, self.plan, self.environment) = (policy, Planner.plan(policy), environment)
    }
}

/// Runs a policy against a scenario: the real executor and state machine, a virtual clock, and a
/// scripted world. Not a second implementation: the same `ApplyRun` and `HealthcheckRun` as the
/// commands.
public enum Simulator {
    /// Runs in a scratch directory of its own (under `$TMPDIR`), removed afterwards.
    public static func run(policy: Policy, scenario: Scenario) throws -> SimulationResult {
        try ScratchDirectory.with(prefix: "updatectl-simulate") { scratch in
            try run(policy: policy, scenario: scenario, scratch: scratch.path)
        }
    }

    static func run(policy original: Policy, scenario: Scenario, scratch: String) throws -> SimulationResult {
        let setup = try SimulationSetup(policy: original, scenario: scenario, scratch: scratch)
        let (clock, start, reporter, backend, policy, plan, environment) =
            (setup.clock, setup.start, setup.reporter, setup.backend, setup.policy, setup.plan, setup.environment)

        func finish(_ outcome: String, _ summary: String, runs: Int) -> SimulationResult {
            let at = clock.now() - start
            var result = SimulationResult(
                events: reporter.events, outcome: outcome,
                summary: summary + " at t+\(format(at))", runs: runs, at: at)
            result.mismatch = mismatch(result, scenario)
            return result
        }

        let apply = ApplyRun(plan: plan, policy: policy, policySHA256: nil, environment: environment)
        let held = Set(HeldGates.names(policy))
        var applied: ApplyOutcome
        var applyRuns = 0
        while true {
            applyRuns += 1
            applied = try apply.run()
            if case .staged = applied {
                reporter.add("-", "staged", "event", "the operator runs `updatectl activate`")
                applied = try apply.activate()
            }
            // Denied a fleet slot: the release stays staged and the timer's next run asks again.
            guard case .deferred(let gate, _) = applied, held.contains(gate), applyRuns < scenario.runs else { break }
            clock.sleep(for: scenario.runEvery ?? policy.agent.checkEvery.value + policy.agent.jitter.value / 2)
            reporter.add("-", "staged", "event", "apply run \(applyRuns + 1)")
        }
        switch applied {
        case .upToDate: return finish("up_to_date", "up to date", runs: 0)
        case .deferred(let gate, _): return finish("deferred", "deferred by \(gate)", runs: 0)
        case .refused(let gate, _): return finish("refused", "refused by \(gate)", runs: 0)
        case .failed(let message): return finish("failed", "failed: \(message)", runs: 0)
        case .dryRun, .rebooted, .available, .staged: return finish("failed", "a dry run or a reboot only", runs: 0)
        case .activated:
            break
        }
        if policy.reboot.value == .manual {
            clock.sleep(for: scenario.rebootAfter)
            try backend.reboot()
            reporter.add("-", "activated", "event", "the operator reboots the node")
        } else {
            clock.sleep(for: scenario.rebootAfter)
        }
        reporter.add("-", "activated", "event", "the node is up on slot \(backend.bootedNow.rawValue)")

        var runs = 0
        while runs < scenario.runs {
            runs += 1
            reporter.add("-", "", "event", "healthcheck run \(runs)")
            let outcome = try HealthcheckRun(plan: plan, policy: policy, environment: environment).run()
            switch outcome {
            case .success:
                return finish("success", "success after \(runs) run\(runs == 1 ? "" : "s")", runs: runs)
            case .fellBack:
                return finish("rolled_back", "rolled back: the bootloader fell back", runs: runs)
            case .returnedToPrevious:
                return finish("rolled_back", "rolled back: the node ran a rolled-back release", runs: runs)
            case .failed(_, let rolledBack, _):
                if rolledBack {
                    clock.sleep(for: scenario.rebootAfter)
                    reporter.add("-", "rolled_back", "event", "the node is up on slot \(backend.bootedNow.rawValue)")
                    return finish("rolled_back", "rolled back after \(runs) failed run\(runs == 1 ? "" : "s")", runs: runs)
                }
                clock.sleep(for: scenario.runEvery ?? policy.healthcheck.retryEvery.value)
            case .probedOnly, .refused:
                return finish("failed", "healthcheck refused", runs: runs)
            }
        }
        return finish("activated", "still activated after \(runs) failed runs", runs: runs)
    }

    static func mismatch(_ result: SimulationResult, _ scenario: Scenario) -> String? {
        var problems: [String] = []
        if let expected = scenario.expectedOutcome, expected != result.outcome {
            problems.append("expected \(expected), got \(result.outcome)")
        }
        if let runs = scenario.expectedRuns, runs != result.runs {
            problems.append("expected \(runs) healthcheck runs, got \(result.runs)")
        }
        if let within = scenario.expectedWithin, result.at > within {
            problems.append("expected the outcome within t+\(format(within)), got t+\(format(result.at))")
        }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    /// Whole seconds: `4m10s`.
    public static func format(_ duration: Duration) -> String {
        DurationText.format(.seconds(duration.components.seconds))
    }
}
