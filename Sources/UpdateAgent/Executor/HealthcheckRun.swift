public import UpdatePlan
public import UpdatePolicy

public enum HealthcheckOutcome: Sendable, Equatable {
    /// Verified and committed.
    case success(version: String)
    /// A failed run, counted; `rolledBack` when it reached `auto_rollback_after`.
    case failed(failures: Int, rolledBack: Bool, message: String)
    /// The node booted the old slot: the bootloader fell back.
    case fellBack(String)
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

    /// The shortest pause between probe rounds.
    static let minimumInterval = Duration.milliseconds(100)
    private var steps: [Step] { plan.steps.filter { $0.part == .postBoot } }

    /// A post-boot step, by what it does rather than by its id.
    enum PostBootStep {
        case bootSlot, settle, rounds, probe(String), commit, failure, rollback, release(String)

        func matches(_ operation: Operation) -> Bool {
            switch (self, operation) {
            case (.bootSlot, .checkBootedSlot), (.settle, .settle), (.rounds, .probeRounds), (.commit, .commit),
                 (.failure, .countFailure), (.rollback, .rollback): true
            case (.probe(let name), .probe(let probe)): probe.name.value == name
            case (.release(let name), .releaseHeld(let gate, _)): gate.name.value == name
            default: false
            }
        }
    }

    private func report(_ which: PostBootStep, _ decision: StepDecision, _ detail: String,
                        records: inout [UpdateState.StepRecord]) {
        guard let index = steps.firstIndex(where: { which.matches($0.operation) }) else {
            // The planner writes every post-boot step; a plan without one is a bug, not an input.
            preconditionFailure("the plan has no post-boot step for \(which)")
        }
        let step = steps[index]
        records.append(.init(step: step.id, decision: decision.rawValue, detail: detail))
        env.reporter.stepFinished(index: index, total: steps.count, step: step, decision: decision, detail: detail)
    }

    /// The node is steady (committed, rolled back, or no update in flight): every slot it holds
    /// (a fleet lock's) is given back. One that cannot be given back now is given back by a later run.
    private func releaseHeld(records: inout [UpdateState.StepRecord], lock: StateLock) {
        if !HeldGates.names(policy).isEmpty { TestPause.here("healthcheck.release") }
        for (gate, answer) in HeldGates.releaseAll(policy, env, lock: lock) {
            switch answer {
            case .done(let detail): report(.release(gate), .done, detail, records: &records)
            case .refused(let reason), .unreachable(let reason):
                report(.release(gate), .skip, "not given back now (\(reason)); the next run tries again", records: &records)
            }
        }
    }

    private var probes: [Probe] {
        steps.compactMap { if case .probe(let probe) = $0.operation { probe } else { nil } }
    }

    private func variables(_ state: UpdateState) -> [String: String] {
        ["VERSION": state.toVersion ?? "", "FROM_VERSION": state.fromVersion ?? "", "CHANNEL": policy.channel.value,
         "DATA_DIR": policy.dataDir.value]
    }

    /// Runs under the state lock (and the backend's).
    public func run() throws -> HealthcheckOutcome {
        let lock = try StateLock.acquire(statePath: env.store.path, extraLock: env.backend.lockPath)
        defer { lock.release() }
        var state = try env.store.load(holding: lock, clock: env.clock)
        let broken = env.store.brokenFiles()
        if !broken.isEmpty {
            return .refused("a broken state file was moved aside earlier (\(broken.joined(separator: ", "))); check the node, "
                + "then run `updatectl state reset --yes`")
        }
        var records: [UpdateState.StepRecord] = []
        guard state.phase == .activated || state.phase == .verifying else {
            env.reporter.note("phase \(state.phase.rawValue): no update waits for verification, so the probes run once "
                + "and the state is not changed")
            let results = env.probes.round(probes, variables: variables(state)).results
            for result in results {
                report(.probe(result.name), result.passed ? .pass : .fail, result.detail, records: &records)
            }
            var passed = results.allSatisfy(\.passed)
            if passed {
                do {
                    if let confirmed = try env.backend.confirmBoot() { env.reporter.note(confirmed) }
                } catch {
                    env.reporter.note("the probes passed, but the boot could not be marked good: \(error)")
                    passed = false
                }
            }
            if [.idle, .success, .failed, .rolledBack].contains(state.phase) { releaseHeld(records: &records, lock: lock) }
            return .probedOnly(passed: passed)
        }
        if state.phase == .verifying {
            env.reporter.note("the previous verification run was interrupted; this run starts it again")
        }
        let sidecar = try env.store.readSidecar()
        let activationBoot = state.activationBootID
            ?? sidecar.activation.flatMap { $0.version == state.toVersion ? $0.bootID : nil }
        if state.phase == .activated, let activationBoot, activationBoot == (try? env.backend.bootID()) {
            return .refused("the node has not rebooted since \(state.toVersion ?? "the update") was activated: reboot it "
                + "into the new slot, then run `updatectl healthcheck`")
        }
        let inFlight: InFlight
        do {
            inFlight = try InFlight.activated(state, sidecar: sidecar, backend: env.backend)
        } catch {
            return .refused("\(error)")
        }
        // Without a boot id (another agent activated it): the bootloader still boots the update
        // next while the node runs the old version, so it has not rebooted yet.
        if state.phase == .activated, activationBoot == nil, !inFlight.runsUpdate,
            let next = try? env.backend.nextSlot(), next == inFlight.target {
            return .refused("the node has not rebooted since \(state.toVersion ?? "the update") was activated (the "
                + "bootloader boots slot \(next.rawValue) next): reboot it, then run `updatectl healthcheck`")
        }
        let booted = inFlight.booted
        let previous = inFlight.previous
        if !inFlight.runsUpdate {
            let message = "the node booted slot \(booted.rawValue) (\(inFlight.running)), not the new slot "
                + "\(inFlight.target.rawValue): the bootloader fell back to the previous version"
            report(.bootSlot, .fail, message, records: &records)
            state.lastRun = records
            // Recorded before the state says so: a crash in between still holds the version back.
            try remember(rollbackOf: state.toVersion, reason: "the bootloader fell back", lock: lock)
            state = try env.store.transition(state, to: .rolledBack, event: .init(error: message), clock: env.clock)
            releaseHeld(records: &records, lock: lock)
            return .fellBack(message)
        }
        report(.bootSlot, .pass, "the node runs the new slot \(booted.rawValue)", records: &records)
        if state.phase == .activated {
            state = try env.store.transition(state, to: .verifying, clock: env.clock)
        }

        let health = policy.healthcheck
        let start = env.clock.instant()
        let deadline = start + health.timeout.value
        if health.settle.value > .zero {
            env.clock.sleep(for: health.settle.value)
            report(.settle, .done, "waited \(DurationText.format(health.settle.value))", records: &records)
        } else {
            report(.settle, .skip, "no settle", records: &records)
        }
        let values = variables(state)
        var round = 0
        var last: [ProbeResult] = []
        var passed = false
        while true {
            round += 1
            let roundStart = env.clock.instant()
            let (results, duration) = env.probes.round(probes, variables: values)
            last = results
            env.clock.account(elapsed: duration)
            let failed = last.filter { !$0.passed }
            let offset = DurationText.format(.seconds((roundStart - start).components.seconds))
            if failed.isEmpty {
                env.reporter.note("round \(round) at +\(offset): all \(last.count) probes passed")
                passed = true
                break
            }
            env.reporter.note("round \(round) at +\(offset): \(failed.count) of \(last.count) probes failed: "
                + failed.map { "\($0.name) (\($0.detail))" }.joined(separator: "; "))
            // Never back to back, whatever the policy says (a lint warning below a second).
            let pause = max(health.interval.value, Self.minimumInterval)
            if env.clock.instant() + pause >= deadline { break }
            env.clock.sleep(for: pause)
        }
        let elapsed = DurationText.format(.seconds((env.clock.instant() - start).components.seconds))
        let failures = last.filter { !$0.passed }.map { "\($0.name): \($0.detail)" }.joined(separator: "; ")
        let message = "no probe round passed in \(DurationText.format(health.timeout.value)) (\(round) rounds); last round: \(failures)"
        report(.rounds, passed ? .pass : .fail, passed ? "round \(round) passed after \(elapsed)" : message,
               records: &records)
        for result in last {
            report(.probe(result.name), result.passed ? .pass : .fail, result.detail, records: &records)
        }
        if passed {
            do {
                try env.backend.commit(slot: booted, version: state.toVersion ?? "")
                TestPause.here("healthcheck.committed-unsaved")
            } catch {
                report(.commit, .fail, "\(error)", records: &records)
                state.lastRun = records
                try env.store.save(state, clock: env.clock)
                return .failed(failures: state.healthCheckFailures, rolledBack: false,
                               message: "the probes passed but the backend could not commit: \(error)")
            }
            report(.commit, .done, "slot \(booted.rawValue) committed with \(state.toVersion ?? "the new version")",
                   records: &records)
            state.lastRun = records
            state = try env.store.transition(state, to: .success, clock: env.clock)
            var sidecar = try env.store.readSidecar()
            if let version = state.toVersion, sidecar.rollback(of: version) != nil {
                sidecar.forget(version)
                try env.store.saveSidecar(sidecar, holding: lock)
            }
            releaseHeld(records: &records, lock: lock)
            return .success(version: state.toVersion ?? "")
        }

        state.lastRun = records
        // Counted and saved before anything else happens.
        state = try env.store.transition(state, to: .activated, event: .init(error: message), clock: env.clock)
        let count = state.healthCheckFailures
        let threshold = policy.autoRollbackAfter.value
        report(.failure, .fail, "\(count) consecutive failed run\(count == 1 ? "" : "s")", records: &records)
        guard threshold > 0, count >= threshold else {
            report(.rollback, .skip, threshold == 0
                ? "automatic rollback is off (auto_rollback_after: 0)"
                : "\(count) of \(threshold) failed runs before an automatic rollback", records: &records)
            state.lastRun = records
            try env.store.save(state, clock: env.clock)
            return .failed(failures: count, rolledBack: false, message: message)
        }
        do {
            try env.backend.rollback(to: previous, version: state.fromVersion ?? "", fromVersion: state.toVersion ?? "")
            TestPause.here("healthcheck.rollback-unsaved")
        } catch {
            report(.rollback, .fail, "\(error)", records: &records)
            state.lastRun = records
            try env.store.save(state, clock: env.clock)
            return .failed(failures: count, rolledBack: false, message: "\(message); the rollback failed: \(error)")
        }
        let reason = "rolled back to slot \(previous.rawValue) after \(count) consecutive failed verification runs; \(message)"
        report(.rollback, .done, "slot \(previous.rawValue) boots next", records: &records)
        state.lastRun = records
        try remember(rollbackOf: state.toVersion, reason: "\(count) consecutive failed verification runs", lock: lock)
        state = try env.store.transition(state, to: .rolledBack, event: .init(error: reason), clock: env.clock)
        releaseHeld(records: &records, lock: lock)
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
    }

    /// Records in the sidecar that `version` was rolled back, so the next apply does not install
    /// it again.
    private func remember(rollbackOf version: String?, reason: String, lock: StateLock) throws {
        try env.store.rememberRollback(of: version, reason: reason, at: env.clock.now(), holding: lock)
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
        var state = try env.store.load(holding: lock, clock: env.clock)
        switch state.phase {
        case .staged:
            let inFlight: InFlight
            do {
                inFlight = try InFlight.staged(state, backend: env.backend)
            } catch {
                return .refused("\(error)")
            }
            env.backend.invalidate(slot: inFlight.target)
            try env.store.rememberRollback(of: state.toVersion, reason: "rolled back by hand", at: env.clock.now(), holding: lock)
            state = try env.store.transition(state, to: .rolledBack, event: .init(error: "rolled back by hand before activation"),
                                             clock: env.clock)
            releaseHeld(lock: lock)
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
            releaseHeld(lock: lock)
            let runningNew = inFlight.runsUpdate
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
