import UpdatePlan
import UpdatePolicy

/// `check.version`: stops when the offered version runs already; goes on to activation when it
/// is the staged one; defers a version that was rolled back before (unless `--force`).
struct CompareVersionsStep: ApplyStepHandler {
    func perform(_ step: Step, _ context: inout ApplyContext) throws -> ApplyOutcome? {
        var offered = try context.offered(for: step)
        let version = offered.metadata.version, running = context.running, run = context.run
        if version == running {
            context.report(step, .stop, "up to date: the node runs \(running)")
            if !run.dryRun, context.state.phase != .staged { try context.transition(.idle) }
            return .upToDate(version: running)
        }
        if let staged = context.stagedVersion {
            if staged == version {
                offered.alreadyStaged = true
                context.release = .offered(offered)
                context.report(
                    step, .pass,
                    "running \(running); \(staged) is staged already in slot "
                        + "\(context.state.targetSlot ?? context.booted.other.rawValue)")
                return nil
            }
            // Another release: the staged one is dropped and this one downloaded.
            if !run.dryRun {
                context.env.reporter.note("\(staged) is staged, but \(version) is offered now: staging \(version) instead")
                context.state.policySHA256 = run.policySHA256
                context.state.bootedSlot = context.booted.rawValue
                try context.transition(.checking, .init(fromVersion: running))
            }
            context.stagedVersion = nil
        }
        if let earlier = try context.env.store.readSidecar().rollback(of: version) {
            return try deferRolledBack(version, earlier, step, &context)
        }
        context.report(step, .pass, "running \(running), offered \(version)")
        return nil
    }

    private func deferRolledBack(
        _ version: String, _ earlier: Sidecar.RolledBack, _ step: Step,
        _ context: inout ApplyContext
    ) throws -> ApplyOutcome? {
        let run = context.run, running = context.running
        let reason =
            "\(version) was rolled back at \(earlier.at.wholeSeconds) (\(earlier.reason)); waiting for a newer "
            + "version, or `--force` to install it again"
        if run.force {
            context.report(
                step, .pass,
                "running \(running), offered \(version), which was rolled back at "
                    + "\(earlier.at.wholeSeconds): installing it again (--force)")
            return nil
        }
        return try context.deferOffer(step, reason)
    }
}

extension ApplyContext {
    /// The offer is not taken (a version rolled back before, metadata older than the newest
    /// accepted): `check` says so, a dry run notes it and goes on, a real run is deferred
    /// (idle, the deferral recorded) until something newer is offered.
    mutating func deferOffer(_ step: Step, _ reason: String) throws -> ApplyOutcome? {
        report(step, .block, reason)
        if run.checkOnly { return .deferred(gate: step.id, reason: reason) }
        if run.dryRun {
            if blockedBy == nil { blockedBy = step.id }
            return nil
        }
        try transition(.idle, .init(deferral: UpdateState.Deferral(gate: step.id, reason: reason, at: env.clock.now())))
        return .deferred(gate: step.id, reason: reason)
    }
}
