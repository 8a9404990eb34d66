import UpdatePlan
import UpdatePolicy

/// `release.GATE` after the boot: once the node is steady (committed, rolled back, or fallen
/// back), the slot a held gate took is given back and the sidecar forgets it; one that cannot
/// be given back now is given back by a later run.
struct GiveBackStep: PostBootStepHandler {
    var gate: Gate

    func perform(_ step: Step, _ context: inout HealthcheckContext) throws {
        guard context.verdict.isSteady else {
            context.report(step, .skip, "kept: the node is not steady yet (neither committed nor rolled back)")
            return
        }
        if !context.givingBack {
            context.givingBack = true
            TestPause.here("healthcheck.release")
        }
        let env = context.env
        switch HeldGates.release(gate, env.checks) {
        case .done(let detail)?:
            try? env.store.updateSidecar(holding: context.lock) { $0.held.removeAll { $0.gate == gate.name.value } }
            context.report(step, .done, detail)
        case .refused(let reason)?, .unreachable(let reason)?:
            context.report(step, .skip, "not given back now (\(reason)); the next run tries again")
        case nil:
            break
        }
    }
}
