import UpdatePlan
import UpdatePolicy

/// An apply run from start to end: the state loaded, an interrupted or unfinished lifecycle taken
/// care of (`resume`), then the apply part of the plan, step by step.
extension ApplyContext {
    mutating func apply() throws -> ApplyOutcome {
        if let refused = try load() { return .failed(refused) }
        if let outcome = try resume() { return outcome }
        let interrupted = max(state.interruptedAttempts, try env.store.readSidecar().interrupted(state.toVersion))
        if interrupted >= ApplyRun.interruptionLimit {
            return .failed(
                RunFailure(
                    .interrupted,
                    "the last \(interrupted) attempts at \(state.toVersion ?? "this version") were "
                        + "interrupted (killed, or power lost mid-update); not retrying until someone looks: check the node, "
                        + "then run `updatectl state reset --yes`"))
        }
        do {
            booted = try env.backend.bootedSlot()
            running = try env.backend.runningVersion()
        } catch {
            let failure = RunFailure(.backend, "the backend cannot say what the node runs: \(error)")
            try record(failure)
            return .failed(failure)
        }
        if !run.dryRun { removeLeftovers() }
        if !run.dryRun, stagedVersion == nil {
            state.policySHA256 = run.policySHA256
            state.bootedSlot = booted.rawValue
            try transition(.checking, .init(fromVersion: running))
        }
        // `check` stops before the download.
        let steps =
            run.checkOnly ? Array(run.steps.prefix { step in if case .download = step.operation { false } else { true } }) : run.steps
        numbering = StepNumbering(total: steps.count)
        for step in steps {
            do {
                if let outcome = try handler(for: step.operation).perform(step, &self) { return outcome }
            } catch let failure as RunFailure {
                return try fail(step, failure)
            }
        }
        if run.checkOnly { return .available(version: offeredMetadata?.version ?? "", deferredBy: blockedBy) }
        if run.dryRun { return .dryRun(blockedBy: blockedBy) }
        if state.phase == .staged { return .staged(version: state.toVersion ?? "") }
        return .activated(version: state.toVersion ?? "", rebooted: run.policy.reboot.value == .auto)
    }

    /// What an interrupted staging left in the passive slot goes before anything measures or
    /// stages there (it would hold the space a new release needs).
    private func removeLeftovers() {
        do {
            for name in try env.backend.removeLeftovers(slot: booted.other) {
                env.reporter.note("removed \(name), left by an interrupted staging")
            }
        } catch {
            env.reporter.note("the passive slot could not be cleared of what an interrupted staging left: \(error)")
        }
    }

    /// The state, under the lock (a dry run reads it without); a broken one, or one moved aside
    /// earlier, refuses the run.
    private mutating func load() throws -> RunFailure? {
        if let lock {
            state = try env.loadState(holding: lock)
        } else {
            switch try env.store.read() {
            case .missing: state = UpdateState()
            case .state(let read): state = read
            case .broken(let problem):
                return RunFailure(
                    .interrupted,
                    "the state file \(env.store.path) cannot be parsed (\(problem)); it was left in "
                        + "place. A real run would move it aside and stop: check the node, then run `updatectl state reset --yes`")
            }
        }
        let broken = env.store.brokenFiles()
        guard broken.isEmpty else {
            return RunFailure(
                .interrupted,
                "a broken state file was moved aside earlier (\(broken.joined(separator: ", "))), so "
                    + "an update may have been in flight; check the node, then run `updatectl state reset --yes`")
        }
        return nil
    }

    /// A step failed: recorded, the passive slot's partial release invalidated (a failed
    /// download keeps its bytes for the next run), and the attempt failed — unless a staged
    /// release was kept while checking for a newer one.
    private mutating func fail(_ step: Step, _ failure: RunFailure) throws -> ApplyOutcome {
        report(step, .fail, failure.message)
        if let target = state.targetSlot.flatMap(Slot.init(rawValue:)), state.phase == .downloading {
            // The SHA-256 check still decides over kept bytes; files that failed a check are not kept.
            if case .download = step.operation {
                env.backend.invalidate(slot: target, keepingDownloads: true)
            } else {
                env.backend.invalidate(slot: target)
            }
        }
        let failed = failure.prefixed("\(step.id): ")
        if state.phase == .staged {
            try record(failed)
        } else {
            try transition(.failed, .init(failure: failed))
        }
        return .failed(failed)
    }

    /// `updatectl activate`: the activation part of the plan, for the release a resting
    /// `staged` phase holds.
    mutating func activate() throws -> ApplyOutcome {
        guard let lock else { return .failed(RunFailure(.lock, "activate takes the state lock")) }
        state = try env.loadState(holding: lock)
        guard state.phase == .staged, let version = state.toVersion else {
            return .failed(
                RunFailure(
                    .interrupted,
                    "nothing is staged (phase \(state.phase.rawValue)): `updatectl apply` stages a "
                        + "release first"))
        }
        do {
            let inFlight = try InFlight.staged(state, backend: env.backend)
            booted = inFlight.booted
            running = inFlight.running
        } catch {
            return .failed(RunFailure(.backend, "\(error)"))
        }
        stagedVersion = version
        release = .staged(StagedRelease(version: version, offered: nil))
        // From the plan's first activation step (a gate held across the reboot, or activate.slot)
        // to the reboot: the same steps `apply` runs there.
        let steps = plan.steps.enumerated().filter { $0.offset >= plan.activationStart && $0.element.part != .postBoot }.map(\.element)
        numbering = StepNumbering(total: steps.count)
        for step in steps {
            do {
                if let outcome = try handler(for: step.operation).perform(step, &self) { return outcome }
            } catch let failure as RunFailure {
                report(step, .fail, failure.message)
                let failed = failure.prefixed("\(step.id): ")
                try record(failed)
                return .failed(failed)
            }
        }
        return .activated(version: version, rebooted: run.policy.reboot.value == .auto)
    }
}
