import UpdatePlan
import UpdatePolicy

#if canImport(Glibc)
import Glibc
#endif

/// `stage.slot`: the backend moves the verified files into the passive slot; the phase becomes
/// staged (with `activation: separate` the run rests there).
struct StageStep: ApplyStepHandler {
    func perform(_ step: Step, _ context: inout ApplyContext) throws -> ApplyOutcome? {
        let offered = try context.offered(for: step)
        let version = offered.metadata.version
        if offered.alreadyStaged { return context.skip(step, "\(version) is staged already") }
        guard !context.run.dryRun else { return context.skip(step) }
        let downloaded = try context.downloaded(for: step)
        let slot = context.booted.other
        do {
            try context.env.backend.stage(files: downloaded.paths, slot: slot, version: version, fromVersion: context.running)
        } catch {
            throw RunFailure(.backend, "\(error)")
        }
        // The download's resume records (`FILE.resume`) have served their purpose.
        for path in downloaded.paths.values { unlink(path + ".resume") }
        TestPause.here("apply.staged-unsaved")
        try context.transition(.staged)
        context.release = .staged(StagedRelease(version: version, offered: offered))
        context.report(step, .done, "slot \(slot.rawValue) holds \(version)")
        if context.run.policy.activation.value == .separate {
            context.env.reporter.note("activation: separate: \(version) waits in slot \(slot.rawValue) for `updatectl activate`")
        }
        return nil
    }
}
