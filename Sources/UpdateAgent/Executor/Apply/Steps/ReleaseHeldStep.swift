import UpdatePlan
import UpdatePolicy

/// Gives back a slot a held gate (a fleet lock) took, at the start of a run: the node is steady.
struct ReleaseHeldStep: ApplyStepHandler {
    var gate: Gate

    func perform(_ step: Step, _ context: inout ApplyContext) throws -> ApplyOutcome? {
        let env = context.env, run = context.run
        if run.checkOnly { return context.skip(step, "check takes and gives back nothing") }
        if let staged = context.stagedVersion {
            return context.skip(step, "\(staged) is staged: a slot taken for it is kept for its activation")
        }
        if run.dryRun { return context.skip(step, HeldGates.previewRelease(gate, env.checks) ?? "dry run: not carried out") }
        switch HeldGates.giveBack(gate, env, lock: context.lock) {
        case .done(let detail)?:
            context.report(step, .done, detail)
        case .refused(let reason)?, .unreachable(let reason)?:
            context.report(step, .skip, "not given back now (\(reason)); the next run tries again")
        case nil:
            break
        }
        return nil
    }
}
