import UpdatePlan
import UpdatePolicy

/// `healthcheck.settle`: a wait before the first probe round, inside the run's timeout.
struct SettleStep: PostBootStepHandler {
    var duration: Duration

    func perform(_ step: Step, _ context: inout HealthcheckContext) throws {
        guard case .verifying = context.verdict else { return }
        if duration > .zero {
            context.env.clock.sleep(for: duration)
            context.report(step, .done, "waited \(DurationText.format(duration))")
        } else {
            context.report(step, .skip, "no settle")
        }
    }
}
