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
    /// `deferred`, `checked`, `failed`, `rebooted`, `gave_back`, `give_back_failed`, `waiting` or `trouble`.
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
        case .gaveBack(_, let done, _): done ? "gave_back" : "give_back_failed"
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
        var schedule = Schedule(nextCheck: env.clock.now(), nextConfirmation: env.clock.now())
        while !shouldStop() {
            do {
                switch try tick(&schedule) {
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
    /// A random part of `agent.jitter`.
    private var jitter: Duration { .seconds(env.jitter() * Double(policy.agent.jitter.value.components.seconds)) }

    /// One round: verification first, then the slots still held, then the update check when due.
    /// When the agent acts next, and the boot it has confirmed.
    private struct Schedule {
        var nextCheck: Timestamp
        /// The boot confirmed (its probes passed once), and when to try again while it is not.
        var confirmedBoot: String?
        var nextConfirmation: Timestamp
    }

    private func tick(_ schedule: inout Schedule) throws -> Next {
        let state = try currentState()
        let boot = try? env.backend.bootID()
        switch state.phase {
        case .activated where state.activationBootID != nil && state.activationBootID == boot:
            // Activated in this boot: the reboot into it is still to come.
            if let opening = nextWindowOpening(after: env.clock.now()), opening > env.clock.now() {
                return .wait(
                    until: opening,
                    reason: "the maintenance window opens then: the reboot into \(state.toVersion ?? "the update") waits for it")
            }
            guard policy.reboot.value == .auto else {
                return .wait(
                    until: env.clock.now() + checkEvery,
                    reason: "\(state.toVersion ?? "the update") is activated: reboot the node into it (reboot: manual)")
            }
            let outcome = try apply()
            if observe(.applied(outcome)) { return .stop }
            if case .failed(let failure) = outcome {
                // A reboot that fails is not retried at once: every `check_every`, in the window.
                note("\(failure.message)")
                return .wait(until: env.clock.now() + checkEvery, reason: "the next try at the reboot")
            }
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
                schedule.confirmedBoot = boot
                return .again
            }
        default:
            break
        }
        let unconfirmed = schedule.confirmedBoot == nil || schedule.confirmedBoot != boot
        if unconfirmed, env.clock.now() >= schedule.nextConfirmation {
            // Once per boot, until it passes: the boot is confirmed (a bootloader that counts
            // every boot falls back from a slot nobody marks good), a rolled-back release is left,
            // and what a steady node holds is given back. Probes that fail right after the boot
            // (services still starting) are tried again every `retry_every`, beside the update
            // checks, which do not wait for them.
            let outcome = try HealthcheckRun(plan: plan, policy: policy, environment: env).run()
            if observe(.verified(outcome)) { return .stop }
            switch outcome {
            case .returnedToPrevious(_, _, true):
                return .reboot("the node reboots into the previous slot", from: boot)
            case .probedOnly(false):
                note(
                    "this boot is not confirmed yet (a probe failed, or the bootloader could not be told: see above); "
                        + "trying again in \(DurationText.format(retryEvery))")
                schedule.nextConfirmation = env.clock.now() + retryEvery
            default:
                schedule.confirmedBoot = boot
            }
        }
        let now = env.clock.now()
        let stillUnconfirmed = schedule.confirmedBoot != boot
        func wake(_ time: Timestamp, _ reason: String) -> Next {
            if stillUnconfirmed, schedule.nextConfirmation < time {
                return .wait(until: schedule.nextConfirmation, reason: "the boot's next confirmation")
            }
            return .wait(until: time, reason: reason)
        }
        // A slot a steady node still holds (a give-back that failed, the rollback's reboot done)
        // goes back before the update check; while it cannot, the agent tries again every
        // `retry_every` and checks for nothing else.
        if HeldGates.isSteady(try currentState(), env), try !env.store.readSidecar().held.isEmpty {
            switch try giveBack() {
            case .stop: return .stop
            case .failed: return wake(env.clock.now() + retryEvery, "the next try at giving back the reboot slot")
            case .done: break
            }
        }
        if now < schedule.nextCheck { return wake(schedule.nextCheck, "the next update check") }
        if let opening = nextWindowOpening(after: now), opening > now {
            // Spread over the jitter from the opening, so a fleet does not ask at the same second.
            schedule.nextCheck = opening + jitter
            return wake(schedule.nextCheck, "the maintenance window opens at \(opening)")
        }
        let outcome = try apply()
        schedule.nextCheck = env.clock.now() + checkEvery + jitter
        if observe(.applied(outcome)) { return .stop }
        switch outcome {
        case .failed(let failure): note("the update check failed: \(failure.message)")
        case .deferred(let gate, let reason), .refused(let gate, let reason): note("\(gate): \(reason)")
        default: break
        }
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

    private enum GiveBack {
        case done, failed, stop
    }

    /// Gives back the slots a steady node still holds (a give-back that failed earlier, or the
    /// slot kept across a rollback's reboot); `stop` when `observe` says so.
    private func giveBack() throws -> GiveBack {
        let lock = try StateLock.acquire(statePath: env.store.path, extraLock: env.backend.lockPath)
        defer { lock.release() }
        var result = GiveBack.done
        for (gate, answer) in HeldGates.releaseAll(policy, env, lock: lock) {
            switch answer {
            case .done(let detail):
                note("\(gate): \(detail)")
                if observe(.gaveBack(gate: gate, done: true, detail: detail)) { return .stop }
            case .refused(let reason), .unreachable(let reason):
                note("\(gate): not given back now (\(reason)); trying again in \(DurationText.format(retryEvery))")
                result = .failed
                if observe(.gaveBack(gate: gate, done: false, detail: reason)) { return .stop }
            }
        }
        return result
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
