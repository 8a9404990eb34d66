import UpdatePlan
import UpdatePolicy

/// Where a verification run stands: what the post-boot steps so far decided. The steps after a
/// decision read it: the commit runs after a passed round, the count after a failed one, the
/// fleet slots are given back once the node is steady again.
enum Verdict {
    /// The node runs the new slot; no round has been run yet.
    case verifying
    /// The node booted the old slot: the bootloader fell back (rolled_back is recorded).
    case fellBack(String)
    /// A probe round passed.
    case passed
    /// No round passed in time: the message says what the last round found.
    case notPassed(String)
    /// Committed: steady.
    case committed
    /// A round passed but the backend could not commit.
    case commitFailed(String)
    /// The failure is counted (`count` in a row) and no rollback is due, or the rollback failed.
    case counted(count: Int, message: String)
    /// Rolled back to `slot` after `count` failed runs: decided, but the node runs the new slot
    /// until it reboots into `slot`.
    case rolledBack(count: Int, reason: String, slot: Slot)

    /// The node is steady: what a held gate took can be given back. Not after a rollback: the
    /// reboot into the previous slot is still to come.
    var isSteady: Bool {
        switch self {
        case .fellBack, .committed: true
        case .verifying, .passed, .notPassed, .commitFailed, .counted, .rolledBack: false
        }
    }
}

/// The mutable part of one verification run, which the post-boot steps (one handler type per
/// plan operation, `PostBootStepHandler`) work on.
struct HealthcheckContext {
    let run: HealthcheckRun
    let lock: StateLock
    var env: AgentEnvironment { run.environment }
    var state: UpdateState
    let inFlight: InFlight
    var records: [UpdateState.StepRecord] = []
    var verdict = Verdict.verifying
    /// When verification began (after the boot check): settle and rounds share the timeout.
    var start: Duration = .zero
    /// The last probe round's results, in the plan's probe order.
    var results: [ProbeResult] = []
    /// The first slot is being given back (crash tests stop there once).
    var givingBack = false
    var numbering: StepNumbering

    init(run: HealthcheckRun, lock: StateLock, state: UpdateState, inFlight: InFlight) {
        self.run = run
        self.lock = lock
        self.state = state
        self.inFlight = inFlight
        self.numbering = StepNumbering(total: run.verificationStepsShown)
    }

    mutating func report(_ step: Step, _ decision: StepDecision, _ detail: String) {
        record(step, decision, detail)
        numbering.report(step, decision, detail, to: env.reporter)
    }

    /// A step's decision kept in the state's `last_run` without a line of its own (another
    /// step's line says it).
    mutating func record(_ step: Step, _ decision: StepDecision, _ detail: String) {
        records.append(.init(step: step.id, decision: decision.rawValue, detail: detail))
    }

    /// The state written with this run's step records.
    mutating func save() throws {
        state.lastRun = records
        try env.store.save(state, clock: env.clock)
    }

    mutating func transition(_ next: Phase, _ event: StateMachine.Event = .init()) throws {
        state.lastRun = records
        state = try env.store.transition(state, to: next, event: event, clock: env.clock)
    }

    /// The variables a probe's command may name.
    var variables: [String: String] { run.variables(state) }

    /// Records in the sidecar that the update was rolled back, so the next apply does not
    /// install it again.
    func rememberRollback(reason: String) throws {
        try env.store.rememberRollback(of: state.toVersion, reason: reason, at: env.clock.now(), holding: lock)
    }
}
