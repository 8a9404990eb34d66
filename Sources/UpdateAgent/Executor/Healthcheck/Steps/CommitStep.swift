import UpdatePlan
import UpdatePolicy

/// `healthcheck.commit`: a round passed, so the backend commits the slot (the bootloader stops
/// counting down), the phase becomes success and a rollback record of this version is dropped.
struct CommitStep: PostBootStepHandler {
    func perform(_ step: Step, _ context: inout HealthcheckContext) throws {
        guard case .passed = context.verdict else { return }
        let env = context.env, slot = context.inFlight.booted, version = context.state.toVersion
        do {
            try env.backend.commit(slot: slot, version: version ?? "")
            TestPause.here("healthcheck.committed-unsaved")
        } catch {
            context.report(step, .fail, "\(error)")
            try context.save()
            context.verdict = .commitFailed("the probes passed but the backend could not commit: \(error)")
            return
        }
        context.report(step, .done, "slot \(slot.rawValue) committed with \(version ?? "the new version")")
        try context.transition(.success)
        var sidecar = try env.store.readSidecar()
        if let version, sidecar.rollback(of: version) != nil {
            sidecar.forget(version)
            try env.store.saveSidecar(sidecar, holding: context.lock)
        }
        context.verdict = .committed
    }
}
