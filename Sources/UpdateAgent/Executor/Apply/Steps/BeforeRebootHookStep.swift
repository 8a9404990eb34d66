import UpdatePlan
import UpdatePolicy

/// `hook.before_reboot`: the operator's commands before the staged release is activated for the
/// reboot (drain the node, stop workloads, say so). Nothing hard to undo has happened yet: one
/// that fails or times out defers the run, the release stays staged (the next run goes on from
/// it without downloading it again), and a fleet slot taken for this reboot is given back.
struct BeforeRebootHookStep: ApplyStepHandler {
    var hook: HookCommands

    func perform(_ step: Step, _ context: inout ApplyContext) throws -> ApplyOutcome? {
        guard !context.run.dryRun else { return context.skip(step, "dry run: the hook commands are not run") }
        let env = context.env, policy = context.run.policy
        let moment = HookCommands.Moment(
            phase: context.state.phase, fromVersion: context.state.fromVersion ?? context.running,
            toVersion: context.targetVersion, channel: policy.channel.value, dataDir: policy.dataDir.value)
        let result = hook.run(moment, runner: env.runner, stopAtFailure: true)
        guard let failure = result.failures.first else {
            context.report(step, .done, result.detail)
            return nil
        }
        context.report(step, .block, failure + "; the release stays staged")
        let deferral = UpdateState.Deferral(gate: step.id, reason: failure, at: env.clock.now())
        if context.state.phase == .staged {
            context.state.deferral = deferral
            context.state.lastRun = context.records
            try env.store.save(context.state, clock: env.clock)
        } else {
            try context.transition(.idle, .init(deferral: deferral))
        }
        for (gate, answer) in HeldGates.releaseAll(policy, env, lock: context.lock) {
            switch answer {
            case .done(let detail): env.reporter.note("\(gate): \(detail) (no reboot now)")
            case .refused(let reason), .unreachable(let reason):
                env.reporter.note("\(gate): the reboot slot was not given back now (\(reason)); the next run tries again")
            }
        }
        return .deferred(gate: step.id, reason: failure)
    }
}
