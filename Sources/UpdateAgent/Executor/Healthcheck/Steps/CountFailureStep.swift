import UpdatePlan
import UpdatePolicy

/// `healthcheck.failure`: no round passed, so the failure is counted (health_check_failures + 1,
/// back to activated) and saved before anything else happens.
struct CountFailureStep: PostBootStepHandler {
    func perform(_ index: Int, _ step: Step, _ context: inout HealthcheckContext) throws {
        guard case .notPassed(let message) = context.verdict else { return }
        try context.transition(.activated, .init(error: message, reason: .probe))
        let count = context.state.healthCheckFailures
        context.report(index, step, .fail, "\(count) consecutive failed run\(count == 1 ? "" : "s")")
        context.verdict = .counted(count: count, message: message)
    }
}
