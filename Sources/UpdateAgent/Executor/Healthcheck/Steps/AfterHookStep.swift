import UpdatePlan
import UpdatePolicy

/// `hook.after_commit` and `hook.after_rollback`: the operator's commands once the verification
/// run committed the update, or rolled it back (or found that the bootloader fell back), before
/// any reboot into the previous slot. Every command runs; one that fails is a warning and
/// changes nothing of the outcome.
struct AfterHookStep: PostBootStepHandler {
    var hook: HookCommands

    func perform(_ step: Step, _ context: inout HealthcheckContext) throws {
        let due: Bool
        switch (hook.point, context.verdict) {
        case (.afterCommit, .committed), (.afterRollback, .rolledBack), (.afterRollback, .fellBack): due = true
        default: due = false
        }
        guard due else {
            let nothing = hook.point == .afterCommit ? "nothing was committed" : "nothing was rolled back"
            context.report(step, .skip, nothing + " in this run")
            return
        }
        let state = context.state, policy = context.run.policy
        let moment = HookCommands.Moment(
            phase: state.phase, fromVersion: state.fromVersion ?? "", toVersion: state.toVersion ?? "",
            channel: policy.channel.value, dataDir: policy.dataDir.value)
        let result = hook.run(moment, runner: context.env.runner, stopAtFailure: false)
        context.report(step, result.failures.isEmpty ? .done : .fail, result.detail)
        for failure in result.failures {
            context.env.reporter.warning("\(step.id): \(failure); the outcome stands")
        }
    }
}
