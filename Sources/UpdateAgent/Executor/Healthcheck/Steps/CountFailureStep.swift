import UpdatePlan
import UpdatePolicy

/// `healthcheck.failure`: no round passed, so the failure is counted (health_check_failures + 1,
/// back to activated) and saved before anything else happens. Its line says how far the count is
/// from an automatic rollback; the run that reaches it shows the rollback's line instead.
struct CountFailureStep: PostBootStepHandler {
    func perform(_ step: Step, _ context: inout HealthcheckContext) throws {
        guard case .notPassed(let message) = context.verdict else { return }
        try context.transition(.activated, .init(error: message, reason: .probe))
        let count = context.state.healthCheckFailures, after = context.run.rollbackAfter
        let runs = "\(count) consecutive failed run\(count == 1 ? "" : "s")"
        if after > 0, count >= after {
            context.record(step, .fail, runs)
        } else {
            context.report(
                step, .fail,
                runs + (after == 0 ? "; automatic rollback is off (auto_rollback_after: 0)" : "; an automatic rollback at \(after)"))
        }
        context.verdict = .counted(count: count, message: message)
    }
}
