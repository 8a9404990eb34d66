import UpdatePlan
import UpdatePolicy

/// `boot.slot`: the node runs the new slot (verification begins), or it booted the old one: the
/// bootloader fell back, which is recorded as a rollback.
struct BootSlotStep: PostBootStepHandler {
    func perform(_ step: Step, _ context: inout HealthcheckContext) throws {
        let inFlight = context.inFlight
        guard inFlight.runsUpdate else {
            let message =
                "the node booted slot \(inFlight.booted.rawValue) (\(inFlight.running)), not the new slot "
                + "\(inFlight.target.rawValue): the bootloader fell back to the previous version"
            context.report(step, .fail, message)
            // The slot it fell back to is the verified previous one: marked good, as a rollback
            // marks it, so that the bootloader does not count its boots down and fall back again.
            do {
                let state = context.state
                try context.env.backend.rollback(
                    to: inFlight.booted, version: state.fromVersion ?? "", fromVersion: state.toVersion ?? "")
            } catch {
                context.env.reporter.note("slot \(inFlight.booted.rawValue) could not be marked good: \(error)")
            }
            // Recorded before the state says so: a crash in between still holds the version back.
            try context.rememberRollback(reason: "the bootloader fell back")
            try context.transition(.rolledBack, .init(error: message, reason: .probe))
            context.verdict = .fellBack(message)
            return
        }
        context.report(step, .pass, "the node runs the new slot \(inFlight.booted.rawValue)")
        if context.state.phase == .activated { try context.transition(.verifying) }
        context.start = context.env.clock.instant()
    }
}
