import UpdatePlan
import UpdatePolicy

/// `reboot.auto` / `reboot.manual`: the backend reboots into the activated slot, or the run says
/// who has to. The state stays activated either way: the next boot verifies.
struct RebootStep: ApplyStepHandler {
    var mode: RebootMode

    func perform(_ step: Step, _ context: inout ApplyContext) throws -> ApplyOutcome? {
        guard !context.run.dryRun else { return context.skip(step) }
        switch mode {
        case .auto:
            do {
                try context.env.backend.reboot()
            } catch {
                // Activated already: the state stays activated; the next boot verifies.
                context.report(step, .fail, "\(error)")
                return .failed(
                    RunFailure(
                        .backend,
                        "the update is activated but the reboot failed: \(error); reboot the node, "
                            + "then run `updatectl healthcheck`"))
            }
            context.report(step, .done, "rebooting into slot \(context.booted.other.rawValue)")
        case .manual:
            context.report(step, .stop, "reboot the node, then run `updatectl healthcheck`")
        }
        context.state.lastRun = context.records
        try context.env.store.save(context.state, clock: context.env.clock)
        return nil
    }
}
