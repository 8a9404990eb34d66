import UpdatePlan
import UpdatePolicy

/// Where the last run left the lifecycle, before a new run starts: a reboot it missed is carried
/// out, an update waiting for its post-boot check stops the run, a resting staged release is
/// taken up, and an interrupted attempt is counted and cleaned up.
extension ApplyContext {
    /// An outcome when the run ends here; nil to go on with the plan.
    mutating func resume() throws -> ApplyOutcome? {
        let sidecar = try env.store.readSidecar()
        let activationBoot =
            state.activationBootID
            ?? sidecar.activation.flatMap { $0.version == state.toVersion ? $0.bootID : nil }
        switch state.phase {
        case .activated
        where !run.dryRun && run.policy.reboot.value == .auto
            && activationBoot != nil && activationBoot == (try? env.backend.bootID()):
            // Activated, but the run stopped before its reboot: finish it.
            env.reporter.note(
                "the update to \(state.toVersion ?? "a new version") is activated but the node has not "
                    + "rebooted since; rebooting now")
            try env.backend.reboot()
            return .activated(version: state.toVersion ?? "", rebooted: true)
        case .rolledBack where !run.dryRun && env.runsRolledBackRelease(state):
            return try finishRollbackReboot()
        case .activated, .verifying:
            return .failed(
                RunFailure(
                    .interrupted,
                    "an update to \(state.toVersion ?? "a new version") is \(state.phase.rawValue) "
                        + "and waits for its post-boot check: run `updatectl healthcheck` (or `updatectl rollback`) first"))
        case .staged where state.toVersion != nil:
            // A resting phase (activation: separate, a run that stopped after staging, or the
            // Go agent's apply): the release stays staged unless a different one is offered.
            do {
                _ = try InFlight.staged(state, backend: env.backend)
            } catch {
                return .failed(RunFailure(.backend, "\(error)"))
            }
            stagedVersion = state.toVersion
        case .checking, .downloading, .staged:
            if !run.dryRun { try cleanUpInterrupted() }
        case .idle, .success, .failed, .rolledBack:
            break
        }
        return nil
    }

    /// Rolled back, but the node still runs the rolled-back release (the run stopped before its
    /// reboot, or the bootloader booted it again): the previous slot is made to boot next, the
    /// fleet slots are taken (deferred without them), then the node reboots into it (with
    /// `reboot: auto`).
    private mutating func finishRollbackReboot() throws -> ApplyOutcome {
        let auto = run.policy.reboot.value == .auto
        let previous: Slot
        do {
            previous = try env.returnToPrevious(state, reboot: false)
        } catch {
            return .failed(
                RunFailure(
                    .backend,
                    "\(state.toVersion ?? "the update") was rolled back, but the node runs it and the previous slot cannot be made to boot next: \(error)"
                ))
        }
        // The reboot lets the node's workloads go down as the update's did: it takes the fleet
        // slots first (held already, unless they were given back by hand), and waits without one.
        if run.skipFleetLock {
            for gate in HeldGates.names(run.policy) { env.reporter.note("\(gate): skipped by --skip-fleet-lock") }
        } else if let refused = HeldGates.takeAll(run.policy, env, lock: lock) {
            let reason =
                "no reboot slot for the reboot into slot \(previous.rawValue) that ends the rollback of "
                + "\(state.toVersion ?? "the update") (\(refused.reason)); the next run asks again"
            return .deferred(gate: refused.gate, reason: reason)
        }
        guard auto else {
            return .failed(
                RunFailure(
                    .interrupted,
                    "\(state.toVersion ?? "the update") was rolled back, but the node still "
                        + "runs it: slot \(previous.rawValue) boots next; reboot the node into it"))
        }
        env.reporter.note(
            "\(state.toVersion ?? "the update") was rolled back, but the node still runs it; rebooting "
                + "into slot \(previous.rawValue) now")
        try env.backend.reboot()
        return .rebooted(slot: previous.rawValue)
    }

    /// An attempt stopped in checking, downloading or staged: counted (past a bound, apply stops
    /// retrying), the passive slot's partial release dropped (an interrupted download keeps its
    /// bytes), the running slot booting next, and the attempt failed.
    private mutating func cleanUpInterrupted() throws {
        if state.phase != .checking, let lock {
            let version = state.toVersion
            try env.store.updateSidecar(holding: lock) { sidecar in
                let count = sidecar.interrupted(version) + 1
                sidecar.interruptions = version.map { Sidecar.Interruptions(version: $0, count: count) }
            }
            state.interruptedAttempts += 1
        }
        env.reporter.note(
            "the previous attempt was interrupted in phase \(state.phase.rawValue); starting over"
                + (state.phase == .downloading ? ", keeping what it downloaded" : ""))
        // The passive slot held the partial release: the one the node does not run.
        if let slot = try? env.backend.bootedSlot().other {
            env.backend.invalidate(slot: slot, keepingDownloads: state.phase == .downloading)
            // It may have been activated just before the interruption: boot the running slot.
            if state.phase == .staged { try? env.backend.rollback(to: slot.other, version: "", fromVersion: "") }
        }
        try transition(.failed, .init(failure: RunFailure(.interrupted, "interrupted in phase \(state.phase.rawValue)")))
    }
}
