import UpdatePlan
import UpdatePolicy

/// `healthcheck.rollback`: at `after` consecutive failed runs (0: never), the previous slot
/// boots next, the version is held back and the phase becomes rolled_back. The reboot into it,
/// with `reboot: auto`, ends the run (`HealthcheckRun`); the fleet slots are held across it.
struct RollbackStep: PostBootStepHandler {
    var after: Int

    func perform(_ step: Step, _ context: inout HealthcheckContext) throws {
        guard case .counted(let count, let message) = context.verdict else { return }
        guard after > 0, count >= after else {
            // The failure's line says it.
            context.record(
                step, .skip,
                after == 0
                    ? "automatic rollback is off (auto_rollback_after: 0)"
                    : "\(count) of \(after) failed runs before an automatic rollback")
            try context.save()
            return
        }
        let runs = "\(count) consecutive failed runs"
        let previous = context.inFlight.previous, state = context.state
        do {
            try context.env.backend.rollback(to: previous, version: state.fromVersion ?? "", fromVersion: state.toVersion ?? "")
            TestPause.here("healthcheck.rollback-unsaved")
        } catch {
            context.report(step, .fail, "\(runs); \(error)")
            try context.save()
            context.verdict = .counted(count: count, message: "\(message); the rollback failed: \(error)")
            return
        }
        let reason = "rolled back to slot \(previous.rawValue) after \(count) consecutive failed verification runs; \(message)"
        context.report(step, .done, "\(runs): slot \(previous.rawValue) boots next")
        context.state.lastRun = context.records
        try context.rememberRollback(reason: "\(count) consecutive failed verification runs")
        try context.transition(.rolledBack, .init(error: reason, reason: .probe))
        context.verdict = .rolledBack(count: count, reason: reason, slot: previous)
    }
}
