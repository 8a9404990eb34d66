import UpdatePlan
import UpdatePolicy

/// `release.GATE` after the boot: once the node is steady (committed, or fallen back to the
/// previous slot), the slot a held gate took is given back and the sidecar forgets it; one that
/// cannot be given back now is given back by a later run. A rollback keeps the slot: the node
/// still has to reboot into the previous slot, and the first run after that reboot gives it back.
struct GiveBackStep: PostBootStepHandler {
    var gate: Gate

    func perform(_ step: Step, _ context: inout HealthcheckContext) throws {
        if case .rolledBack(_, _, let slot) = context.verdict {
            context.report(
                step, .skip,
                "kept across the reboot into slot \(slot.rawValue): the first run after it gives the slot back")
            return
        }
        guard context.verdict.isSteady else {
            context.report(step, .skip, "kept: the node is not steady yet (neither committed nor rolled back)")
            return
        }
        if !context.givingBack {
            context.givingBack = true
            TestPause.here("healthcheck.release")
        }
        switch HeldGates.giveBack(gate, context.env, lock: context.lock) {
        case .done(let detail)?:
            context.report(step, .done, detail)
        case .refused(let reason)?, .unreachable(let reason)?:
            context.report(step, .skip, "not given back now (\(reason)); the next run tries again")
        case nil:
            break
        }
    }
}
