import UpdatePlan
import UpdatePolicy

/// `activate.slot`: the passive slot boots next. The activation is recorded in the sidecar
/// (with this boot's id) before the bootloader is told, and in the state after.
struct ActivateStep: ApplyStepHandler {
    func perform(_ step: Step, _ context: inout ApplyContext) throws -> ApplyOutcome? {
        guard !context.run.dryRun else { return context.skip(step) }
        let env = context.env, version = context.targetVersion, slot = context.booted.other
        do {
            let boot = try env.backend.bootID()
            // Recorded before the bootloader is told: the Go agent may rewrite state.json.
            if let lock = context.lock {
                try env.store.updateSidecar(holding: lock) { sidecar in
                    sidecar.activation = Sidecar.Activation(version: version, slot: slot.rawValue, bootID: boot)
                }
            }
            try env.backend.activate(slot: slot, version: version, fromVersion: context.running)
            context.state.activationBootID = boot
            context.state.targetSlot = slot.rawValue
        } catch {
            throw RunFailure(.backend, "\(error)")
        }
        TestPause.here("apply.activated-unsaved")
        context.report(step, .done, "slot \(slot.rawValue) boots next")
        context.state.deferral = nil
        try context.transition(.activated)
        return nil
    }
}
