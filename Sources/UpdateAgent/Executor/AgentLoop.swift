public import UpdatePlan
public import UpdatePolicy

/// What the agent did, one event at a time (for its log, `simulate` and tests).
public enum AgentEvent: Sendable, Equatable {
    /// A verification run (the post-boot part of the plan) and its outcome.
    case verified(HealthcheckOutcome)
    /// An update check (`apply` through the gates) and its outcome.
    case applied(ApplyOutcome)
    /// A fleet slot given back at steady state (or not, and why).
    case gaveBack(gate: String, done: Bool, detail: String)
    /// A wait until `until`, and why.
    case waiting(until: Timestamp, reason: String)
    /// A tick that failed as a whole (the state lock busy, a broken state…); retried later.
    case trouble(String)

    /// One word for the event, as the agent's log names it: `committed`, `verification_failed`,
    /// `rolled_back`, `fell_back`, `probed`, `refused`, `up_to_date`, `activated`, `staged`,
    /// `deferred`, `checked`, `failed`, `rebooted`, `gave_back`, `waiting` or `trouble`.
    public var name: String {
        switch self {
        case .verified(let outcome):
            switch outcome {
            case .success: "committed"
            case .failed(_, let rolledBack, _): rolledBack ? "rolled_back" : "verification_failed"
            case .fellBack: "fell_back"
            case .returnedToPrevious: "rolled_back"
            case .probedOnly: "probed"
            case .refused: "refused"
            }
        case .applied(let outcome):
            switch outcome {
            case .upToDate: "up_to_date"
            case .activated: "activated"
            case .staged: "staged"
            case .deferred: "deferred"
            case .refused: "refused"
            case .available, .dryRun: "checked"
            case .failed: "failed"
            case .rebooted: "rebooted"
            }
        case .gaveBack: "gave_back"
        case .waiting: "waiting"
        case .trouble: "trouble"
        }
    }
}

/// `updatectl agent`: one long-running process that does what the one-shot commands do, on the
/// node's own schedule and with the same state machine and locks (docs/healthcheck.md, "The
/// loop"). At start, and whenever an update waits for verification, it verifies: a run every
/// `healthcheck.retry_every` until the version is committed or `auto_rollback_after` runs roll
/// it back (and, with `reboot: auto`, reboot out of it). A steady node's boot is confirmed once
/// per boot, and fleet slots still held are given back on every tick before anything else. Then
/// it checks for updates every `agent.check_every` plus a random part of `agent.jitter`, waiting
/// for a closed maintenance window to open instead of polling into it.
public struct AgentLoop {
    public let plan: Plan
    public let policy: Policy
    public let policySHA256: String?
    public let environment: AgentEnvironment
    /// Asked while waiting and between runs: true once the agent should stop (SIGTERM). A run in
    /// progress is finished first; every step of it is crash-safe besides.
    public var shouldStop: @Sendable () -> Bool = { false }
    /// Told of every event; returns true to stop the loop there (tests, `simulate`).
    public var observe: (AgentEvent) -> Bool = { _ in false }

    /// The longest single sleep: a stop request is noticed within it.
    static let slice = Duration.seconds(1)

    public init(plan: Plan, policy: Policy, policySHA256: String?, environment: AgentEnvironment) {
        self.plan = plan
        self.policy = policy
        self.policySHA256 = policySHA256
        self.environment = environment
    }

    private var env: AgentEnvironment { environment }

    /// Runs until `shouldStop` or `observe` says so.
    public func run() {
        var nextCheck = env.clock.now()
        var confirmedBoot: String?
        while !shouldStop() {
            do {
                switch try tick(nextCheck: &nextCheck, confirmedBoot: &confirmedBoot) {
                case .stop: return
                case .again: continue
                case .wait(let until, let reason):
                    if observe(.waiting(until: until, reason: reason)) { return }
                    note("waiting until \(until.description) (\(reason))")
                    wait(until: until)
                case .reboot(let reason, let boot):
                    // The reboot ends this process; should it not come, the agent goes on after
                    // `check_every`. (A simulated node is up again at once, with a new boot id.)
                    let until = env.clock.now() + checkEvery
                    if observe(.waiting(until: until, reason: reason)) { return }
                    note("waiting for the reboot (\(reason))")
                    wait(until: until) { (try? env.backend.bootID()) != boot }
                }
            } catch {
                if observe(.trouble("\(error)")) { return }
                note("this round failed (\(error)); trying again in \(DurationText.format(retryEvery))")
                wait(until: env.clock.now() + retryEvery)
            }
        }
        note("stopping (asked to)")
    }

    private enum Next {
        case stop
        case again
        case wait(until: Timestamp, reason: String)
        /// A reboot was asked for in boot `from`: wait for it (another boot id), at most `check_every`.
        case reboot(String, from: String?)
    }

    private var retryEvery: Duration { max(policy.healthcheck.retryEvery.value, .seconds(1)) }
    private var checkEvery: Duration { max(policy.agent.checkEvery.value, .seconds(1)) }

    /// One round: verification first, then the slots still held, then the update check when due.
    private func tick(nextCheck: inout Timestamp, confirmedBoot: inout String?) throws -> Next {
        let state = try currentState()
        let boot = try? env.backend.bootID()
        switch state.phase {
        case .activated where state.activationBootID != nil && state.activationBootID == boot:
            // Activated in this boot: the reboot into it is still to come.
            guard policy.reboot.value == .auto else {
                return .wait(
                    until: env.clock.now() + checkEvery,
                    reason: "\(state.toVersion ?? "the update") is activated: reboot the node into it (reboot: manual)")
            }
            let outcome = try apply()
            if observe(.applied(outcome)) { return .stop }
            return .reboot("the node reboots into \(state.toVersion ?? "the update")", from: boot)
        case .activated, .verifying:
            let outcome = try HealthcheckRun(plan: plan, policy: policy, environment: env).run()
            if observe(.verified(outcome)) { return .stop }
            switch outcome {
            case .failed(_, false, _), .refused:
                return .wait(until: env.clock.now() + retryEvery, reason: "the next verification run")
            case .failed(_, true, _), .returnedToPrevious(_, _, true):
                return policy.reboot.value == .auto
                    ? .reboot("the node reboots into the previous slot", from: boot)
                    : .wait(
                        until: env.clock.now() + checkEvery, reason: "rolled back: reboot the node into the previous slot (reboot: manual)")
            case .success, .fellBack, .probedOnly, .returnedToPrevious:
                confirmedBoot = boot
                return .again
            }
        default:
            break
        }
        if confirmedBoot == nil || confirmedBoot != boot {
            // Once per boot: the boot is confirmed (or a rolled-back release left) and what a
            // steady node holds is given back.
            let outcome = try HealthcheckRun(plan: plan, policy: policy, environment: env).run()
            confirmedBoot = boot
            if observe(.verified(outcome)) { return .stop }
            if case .returnedToPrevious(_, _, true) = outcome { return .reboot("the node reboots into the previous slot", from: boot) }
        } else if [.idle, .success, .failed, .rolledBack].contains(state.phase), try !env.store.readSidecar().held.isEmpty {
            if try giveBack() { return .stop }
        }
        let now = env.clock.now()
        if now < nextCheck { return .wait(until: nextCheck, reason: "the next update check") }
        if let opening = nextWindowOpening(after: now), opening > now {
            nextCheck = opening
            return .wait(until: opening, reason: "the maintenance window opens then")
        }
        let outcome = try apply()
        nextCheck = env.clock.now() + checkEvery + .seconds(env.jitter() * Double(policy.agent.jitter.value.components.seconds))
        if observe(.applied(outcome)) { return .stop }
        if case .activated(_, true) = outcome { return .reboot("the node reboots into the update", from: boot) }
        if case .rebooted = outcome { return .reboot("the node reboots into the previous slot", from: boot) }
        return .again
    }

    private func currentState() throws -> UpdateState {
        switch try env.store.read() {
        case .missing: return UpdateState()
        case .state(let state): return state
        case .broken(let problem):
            throw BackendError(
                "the state file \(env.store.path) cannot be parsed (\(problem)): check the node, then run `updatectl state reset --yes`")
        }
    }

    private func apply() throws -> ApplyOutcome {
        try ApplyRun(plan: plan, policy: policy, policySHA256: policySHA256, environment: env).run()
    }

    /// Gives back the slots a steady node still holds (a give-back that failed earlier); true
    /// when `observe` says stop.
    private func giveBack() throws -> Bool {
        let lock = try StateLock.acquire(statePath: env.store.path, extraLock: env.backend.lockPath)
        defer { lock.release() }
        for (gate, answer) in HeldGates.releaseAll(policy, env, lock: lock) {
            let event: AgentEvent
            switch answer {
            case .done(let detail): event = .gaveBack(gate: gate, done: true, detail: detail)
            case .refused(let reason), .unreachable(let reason): event = .gaveBack(gate: gate, done: false, detail: reason)
            }
            if case .gaveBack(_, let done, let detail) = event {
                note("\(gate): " + (done ? detail : "not given back now (\(detail)); the next round tries again"))
            }
            if observe(event) { return true }
        }
        return false
    }

    /// When every maintenance window of the policy is open at once next, from `now` on (minute by
    /// minute, up to eight days ahead); nil without windows or when none opens in that time.
    func nextWindowOpening(after now: Timestamp) -> Timestamp? {
        let windows = policy.preflight.compactMap { $0.kind as? any WindowEvaluating }
        guard !windows.isEmpty else { return nil }
        func open(_ time: Timestamp) -> Bool { windows.allSatisfy { $0.isOpen(at: time) } }
        if open(now) { return now }
        // From the next whole minute: windows open on minutes.
        var time = Timestamp(seconds: now.seconds - now.seconds % 60 + 60)
        for _ in 0..<(8 * 24 * 60) {
            if open(time) { return time }
            time = time + .seconds(60)
        }
        return nil
    }

    /// Sleeps until `until` on the run clock, in slices, so that a stop request (or `done`) ends
    /// the wait.
    private func wait(until: Timestamp, or done: () -> Bool = { false }) {
        while !shouldStop(), !done() {
            let left = until - env.clock.now()
            guard left > .zero else { return }
            env.clock.sleep(for: min(left, Self.slice))
        }
    }

    private func note(_ text: String) { env.reporter.note("agent \(env.clock.now().wholeSeconds): " + text) }
}
