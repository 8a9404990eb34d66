import UpdatePlan
import UpdatePolicy

/// `healthcheck.probe.NAME`: what this probe found in the last round.
struct ProbeStep: PostBootStepHandler {
    var name: String

    func perform(_ step: Step, _ context: inout HealthcheckContext) throws {
        guard let result = context.results.first(where: { $0.name == name }) else { return }
        context.report(step, result.passed ? .pass : .fail, result.detail)
    }
}
