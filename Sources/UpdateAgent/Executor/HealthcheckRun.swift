public import UpdatePlan
public import UpdatePolicy

public enum HealthcheckOutcome: Sendable, Equatable {
    /// Verified and committed.
    case success(version: String)
    /// A failed run, counted; `rolledBack` when it reached `auto_rollback_after`.
    case failed(failures: Int, rolledBack: Bool, message: String)
    /// The node booted the old slot: the bootloader fell back.
    case fellBack(String)
    /// The node runs a release that was rolled back (a missed reboot, or the bootloader booted it
    /// again): never marked good; `slot` boots next, and the node was rebooted into it when
    /// `rebooted`.
    case returnedToPrevious(version: String, slot: String, rebooted: Bool)
    /// Not after an activation: the probes ran once and changed nothing.
    case probedOnly(passed: Bool)
    case refused(String)
}

/// One post-boot verification run: the post-boot part of the plan against the state machine.
public struct HealthcheckRun {
    public let plan: Plan
    public let policy: Policy
    public let environment: AgentEnvironment

    public init(plan: Plan, policy: Policy, environment: AgentEnvironment) {
        self.plan = plan
        self.policy = policy
        self.environment = environment
    }

    private var env: AgentEnvironment { environment }

    /// The post-boot part of the plan, which the run walks.
    var steps: [Step] { plan.steps.filter { $0.part == .postBoot } }

    /// How many steps a verification run shows when it goes through: one verdict among
    /// `healthcheck.commit`, `healthcheck.failure` and `healthcheck.rollback` (a rollback's line
    /// says the failed runs that led to it).
    var verificationStepsShown: Int {
        steps.filter { step in
            switch step.operation {
            case .countFailure, .rollback: false
            default: true
            }
        }.count
    }

    /// Consecutive failed runs that roll back (0: never), as the plan's rollback step says.
    var rollbackAfter: Int {
        steps.lazy.compactMap { if case .rollback(let after) = $0.operation { after } else { nil } }.first ?? 0
    }

    /// The probes of the plan's probe steps, in order.
    var probes: [Probe] {
        steps.compactMap { if case .probe(let probe) = $0.operation { probe } else { nil } }
    }

    func variables(_ state: UpdateState) -> [String: String] {
        [
            "VERSION": state.toVersion ?? "", "FROM_VERSION": state.fromVersion ?? "", "CHANNEL": policy.channel.value,
            "DATA_DIR": policy.dataDir.value,
        ]
    }

    /// Runs under the state lock (and the backend's): the checks that say whether an update
    /// waits for verification on this boot, then the post-boot part of the plan, step by step.
    public func run() throws -> HealthcheckOutcome {
        let lock = try StateLock.acquire(statePath: env.store.path, extraLock: env.backend.lockPath)
        defer { lock.release() }
        let state = try env.loadState(holding: lock)
        let broken = env.store.brokenFiles()
        if !broken.isEmpty {
            return .refused(
                "a broken state file was moved aside earlier (\(broken.joined(separator: ", "))); check the node, "
                    + "then run `updatectl state reset --yes`")
        }
        guard state.phase == .activated || state.phase == .verifying else { return try probeOnce(state, lock: lock) }
        if state.phase == .verifying {
            env.reporter.note("the previous verification run was interrupted; this run starts it again")
        }
        let inFlight: InFlight
        switch try findInFlight(state) {
        case .success(let found): inFlight = found
        case .failure(let refusal): return .refused(refusal.message)
        }
        var context = HealthcheckContext(run: self, lock: lock, state: state, inFlight: inFlight)
        let after = policy.autoRollbackAfter.value
        if after > 0, state.healthCheckFailures >= after, inFlight.runsUpdate {
            // The failure that reached the threshold was saved, the rollback was not (a crash in
            // between): it was decided, so it is finished instead of verifying again.
            env.reporter.note(
                "\(state.healthCheckFailures) failed runs were counted but the rollback they call for was not saved; "
                    + "finishing it")
            context.verdict = .counted(count: state.healthCheckFailures, message: state.lastError ?? "verification failed")
        }
        for step in steps {
            try context.handler(for: step.operation).perform(step, &context)
        }
        return finish(context)
    }

    private struct Refusal: Error { var message: String }

    /// The update in flight, once the node has rebooted since its activation.
    private func findInFlight(_ state: UpdateState) throws -> Result<InFlight, Refusal> {
        let sidecar = try env.store.readSidecar()
        let activationBoot =
            state.activationBootID
            ?? sidecar.activation.flatMap { $0.version == state.toVersion ? $0.bootID : nil }
        if state.phase == .activated, let activationBoot, activationBoot == (try? env.backend.bootID()) {
            return .failure(
                Refusal(
                    message: "the node has not rebooted since \(state.toVersion ?? "the update") was activated: "
                        + "reboot it into the new slot, then run `updatectl healthcheck`"))
        }
        let inFlight: InFlight
        do {
            inFlight = try InFlight.activated(state, sidecar: sidecar, backend: env.backend)
        } catch {
            return .failure(Refusal(message: "\(error)"))
        }
        // Without a boot id (another agent activated it): the bootloader still boots the update
        // next while the node runs the old version, so it has not rebooted yet.
        if state.phase == .activated, activationBoot == nil, !inFlight.runsUpdate,
            let next = try? env.backend.nextSlot(), next == inFlight.target
        {
            return .failure(
                Refusal(
                    message: "the node has not rebooted since \(state.toVersion ?? "the update") was activated (the "
                        + "bootloader boots slot \(next.rawValue) next): reboot it, then run `updatectl healthcheck`"))
        }
        return .success(inFlight)
    }

    /// The outcome the walk reached; after a rollback, the reboot into the previous slot.
    private func finish(_ context: HealthcheckContext) -> HealthcheckOutcome {
        let state = context.state
        switch context.verdict {
        case .fellBack(let message):
            return .fellBack(message)
        case .committed:
            return .success(version: state.toVersion ?? "")
        case .commitFailed(let message):
            return .refused("\(message); the state stays \(state.phase.rawValue) and the next run verifies again")
        case .counted(let count, let message):
            return .failed(failures: count, rolledBack: false, message: message)
        case .rolledBack(let count, let reason, let previous):
            if policy.reboot.value == .auto {
                do {
                    try env.backend.reboot()
                    env.reporter.note("rebooting into slot \(previous.rawValue)")
                } catch {
                    env.reporter.note("the reboot failed (\(error)); reboot the node to return to slot \(previous.rawValue)")
                }
            } else {
                env.reporter.note("reboot the node to return to slot \(previous.rawValue)")
            }
            return .failed(failures: count, rolledBack: true, message: reason)
        case .verifying, .passed, .notPassed:
            return .refused("the plan's post-boot part reached no decision (a bug in the plan; please report it)")
        }
    }

    /// No update waits for verification: the probes run once and change nothing; the boot is
    /// marked good when they pass, and a steady node gives back what it holds.
    private func probeOnce(_ state: UpdateState, lock: StateLock) throws -> HealthcheckOutcome {
        if env.runsRolledBackRelease(state) {
            let version = state.toVersion ?? ""
            let reboot = policy.reboot.value == .auto
            env.reporter.note("the node runs \(version), which was rolled back: it is not marked good")
            // The reboot out of it takes the fleet slots first (held since the rollback, unless
            // they were given back by hand).
            if let refused = HeldGates.takeAll(policy, env, lock: lock) {
                let slot = try env.returnToPrevious(state, reboot: false)
                return .refused(
                    "slot \(slot.rawValue) boots next, but \(refused.gate) has no reboot slot for the reboot into it "
                        + "(\(refused.reason)); not rebooting now, the next run asks again")
            }
            let slot = try env.returnToPrevious(state, reboot: reboot)
            env.reporter.note(reboot ? "rebooting into slot \(slot.rawValue)" : "reboot the node to return to slot \(slot.rawValue)")
            return .returnedToPrevious(version: version, slot: slot.rawValue, rebooted: reboot)
        }
        env.reporter.note(
            "phase \(state.phase.rawValue): no update waits for verification, so the probes run once "
                + "and the state is not changed")
        var records: [UpdateState.StepRecord] = []
        let givesBack = [.idle, .success, .failed, .rolledBack].contains(state.phase)
        var numbering = StepNumbering(
            total: steps.filter { step in
                switch step.operation {
                case .probe: true
                case .releaseHeld: givesBack
                default: false
                }
            }.count)
        func report(_ step: Step?, _ decision: StepDecision, _ detail: String) {
            guard let step else { return }
            records.append(.init(step: step.id, decision: decision.rawValue, detail: detail))
            numbering.report(step, decision, detail, to: env.reporter)
        }
        let results = env.probes.round(probes, variables: variables(state)).results
        for result in results {
            report(
                steps.first { if case .probe(let probe) = $0.operation { probe.name.value == result.name } else { false } },
                result.passed ? .pass : .fail, result.detail)
        }
        var passed = results.allSatisfy(\.passed)
        let running = try? env.backend.runningVersion()
        if passed, let running, let held = try env.store.readSidecar().rollback(of: running) {
            // A release that was rolled back is never marked good, whatever the probes say.
            env.reporter.note("the node runs \(running), which was rolled back (\(held.reason)): the boot is not marked good")
        } else if passed {
            do {
                if let confirmed = try env.backend.confirmBoot() { env.reporter.note(confirmed) }
            } catch {
                env.reporter.note("the probes passed, but the boot could not be marked good: \(error)")
                passed = false
            }
        }
        if givesBack {
            if !HeldGates.names(policy).isEmpty { TestPause.here("healthcheck.release") }
            for (gate, answer) in HeldGates.releaseAll(policy, env, lock: lock) {
                let step = steps.first {
                    if case .releaseHeld(let held, _) = $0.operation { held.name.value == gate } else { false }
                }
                switch answer {
                case .done(let detail): report(step, .done, detail)
                case .refused(let reason), .unreachable(let reason):
                    report(step, .skip, "not given back now (\(reason)); the next run tries again")
                }
            }
        }
        return .probedOnly(passed: passed)
    }
}

/// `updatectl rollback`: back to the previous slot by hand, from staged, activated or verifying.
public struct RollbackRun {
    public let policy: Policy
    public let environment: AgentEnvironment

    public init(policy: Policy, environment: AgentEnvironment) {
        self.policy = policy
        self.environment = environment
    }

    public enum Outcome: Sendable, Equatable {
        case rolledBack(slot: String, rebooted: Bool, rebootNeeded: Bool)
        case refused(String)
    }

    public func run() throws -> Outcome {
        let env = environment
        let lock = try StateLock.acquire(statePath: env.store.path, extraLock: env.backend.lockPath)
        defer { lock.release() }
        var state = try env.loadState(holding: lock)
        switch state.phase {
        case .staged:
            let inFlight: InFlight
            do {
                inFlight = try InFlight.staged(state, backend: env.backend)
            } catch {
                return .refused("\(error)")
            }
            env.backend.invalidate(slot: inFlight.target)
            // It may have been activated just before a crash that kept the state from saying so.
            try env.backend.rollback(to: inFlight.booted, version: state.fromVersion ?? "", fromVersion: state.toVersion ?? "")
            try env.store.rememberRollback(of: state.toVersion, reason: "rolled back by hand", at: env.clock.now(), holding: lock)
            state = try env.store.transition(
                state, to: .rolledBack, event: .init(error: "rolled back by hand before activation"),
                clock: env.clock)
            releaseHeld(lock: lock)
            HookCommands.afterRollback(policy, state, env)
            return .rolledBack(slot: inFlight.booted.rawValue, rebooted: false, rebootNeeded: false)
        case .activated, .verifying:
            let inFlight: InFlight
            do {
                inFlight = try InFlight.activated(state, sidecar: try env.store.readSidecar(), backend: env.backend)
            } catch {
                return .refused("\(error)")
            }
            let previous = inFlight.previous
            try env.backend.rollback(to: previous, version: state.fromVersion ?? "", fromVersion: state.toVersion ?? "")
            TestPause.here("rollback.unsaved")
            try env.store.rememberRollback(of: state.toVersion, reason: "rolled back by hand", at: env.clock.now(), holding: lock)
            state = try env.store.transition(state, to: .rolledBack, event: .init(error: "rolled back by hand"), clock: env.clock)
            HookCommands.afterRollback(policy, state, env)
            let runningNew = inFlight.runsUpdate
            if runningNew {
                // The reboot into the previous slot is still to come: the slots are held across
                // it, and the first run after it gives them back.
                for gate in HeldGates.names(policy) {
                    env.reporter.note("\(gate): the reboot slot is kept until the node has rebooted into slot \(previous.rawValue)")
                }
            } else {
                releaseHeld(lock: lock)
            }
            if runningNew, policy.reboot.value == .auto {
                try env.backend.reboot()
                return .rolledBack(slot: previous.rawValue, rebooted: true, rebootNeeded: false)
            }
            return .rolledBack(slot: previous.rawValue, rebooted: false, rebootNeeded: runningNew)
        case .idle, .success, .failed, .rolledBack, .checking, .downloading:
            let why: String
            switch state.phase {
            case .success: why = "the last update was verified and committed; publish the version to go back to instead"
            case .rolledBack: why = "the last update was already rolled back"
            case .failed: why = "the last attempt failed before activation, so the node still runs the old version"
            case .checking, .downloading: why = "an apply is checking or downloading; nothing is activated yet"
            default: why = "no update is in flight"
            }
            return .refused("nothing to roll back in phase \(state.phase.rawValue): \(why)")
        }
    }

    /// Rolled back: the node's fleet slots are given back (a later run retries one that fails).
    private func releaseHeld(lock: StateLock) {
        for (gate, answer) in HeldGates.releaseAll(policy, environment, lock: lock) {
            switch answer {
            case .done(let detail): environment.reporter.note("\(gate): \(detail)")
            case .refused(let reason), .unreachable(let reason):
                environment.reporter.note("\(gate): the reboot slot was not given back now (\(reason)); the next run tries again")
            }
        }
    }
}
