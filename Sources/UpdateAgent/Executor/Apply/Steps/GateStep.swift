import UpdatePlan
import UpdatePolicy

/// A pre-flight gate (and a gate held across the reboot, before activation): pass, skip, defer
/// the run, refuse the release, or fail when it cannot decide.
struct GateStep: ApplyStepHandler {
    var gate: Gate

    func perform(_ step: Step, _ context: inout ApplyContext) throws -> ApplyOutcome? {
        let env = context.env, run = context.run
        switch env.gates.evaluate(gate, input(context)) {
        case .pass(let detail):
            context.report(step, .pass, detail)
            if !run.dryRun, type(of: gate.kind).placement == .heldAcrossReboot {
                context.heldThisRun.append(gate)
                if let lock = context.lock {
                    let held = Sidecar.Held(gate: gate.name.value, detail: detail, at: env.clock.now())
                    try env.store.updateSidecar(holding: lock) { sidecar in
                        sidecar.held.removeAll { $0.gate == held.gate }
                        sidecar.held.append(held)
                    }
                }
            }
        case .skipped(let detail):
            context.report(step, .skip, detail)
        case .error(let detail):
            // A fleet lock that cannot decide is the lock's trouble, not a gate's.
            throw RunFailure(type(of: gate.kind).placement == .heldAcrossReboot ? .lock : .gate, detail)
        case .refuse(let reason):
            context.report(step, .fail, reason)
            if !run.dryRun {
                try context.transition(.failed, .init(failure: RunFailure(.metadata, "refused by \(gate.name.value): \(reason)")))
            }
            return .refused(gate: gate.name.value, reason: reason)
        case .block(let blocked):
            let reason = blocked + giveBackTaken(&context)
            context.report(step, .block, reason)
            return try deferRun(reason, &context)
        }
        return nil
    }

    /// What the gate looks at. `activate` reads no metadata: the staged release stands for it.
    private func input(_ context: ApplyContext) -> GateInput {
        let env = context.env, run = context.run, state = context.state
        let committed = (try? env.backend.committedVersion()) ?? (state.phase == .success ? state.toVersion : nil)
        let offered =
            context.offeredMetadata
            ?? ReleaseMetadata(version: context.stagedVersion ?? state.toVersion ?? "", format: .image, files: [], bytes: [])
        var input = GateInput(
            offered: offered, runningVersion: context.running, committedVersion: committed, state: state,
            imageDirectory: env.backend.imageDirectory(for: context.booted.other), force: run.force,
            channel: run.policy.channel.value, dataDir: run.policy.dataDir.value)
        let backend = env.backend
        let passive = context.booted.other
        input.passiveSpace = { try backend.slotSpace(for: passive, replacing: $0) }
        input.dryRun = run.dryRun
        input.skipFleetLock = run.skipFleetLock
        return input
    }

    /// All fleet locks or none: a real run that is deferred gives back the slots the held gates
    /// before this one granted it, so that no node holds one lock while it waits for another (two
    /// nodes asking in opposite orders would each hold what the other waits for, for ever). What
    /// was given back is said after the reason.
    private func giveBackTaken(_ context: inout ApplyContext) -> String {
        guard !context.run.dryRun, !context.heldThisRun.isEmpty else { return "" }
        let answers = HeldGates.release(context.heldThisRun, context.env, lock: context.lock)
        context.heldThisRun = []
        let sentences = answers.map { gate, answer in
            switch answer {
            case .done: "gave back the slot \(gate) granted"
            case .refused(let why), .unreachable(let why): "could not give back the slot \(gate) granted (\(why))"
            }
        }
        return "; all fleet locks or none: " + sentences.joined(separator: "; ")
    }

    /// A gate said no: a dry run notes it and goes on; a real run is deferred, the staged
    /// release (if any) kept with the deferral beside it.
    private func deferRun(_ reason: String, _ context: inout ApplyContext) throws -> ApplyOutcome? {
        if context.run.dryRun {
            if context.blockedBy == nil { context.blockedBy = gate.name.value }
            return nil
        }
        let deferral = UpdateState.Deferral(gate: gate.name.value, reason: reason, at: context.env.clock.now())
        if context.state.phase == .staged {
            context.state.deferral = deferral
            context.state.lastRun = context.records
            try context.env.store.save(context.state, clock: context.env.clock)
        } else {
            try context.transition(.idle, .init(deferral: deferral))
        }
        return .deferred(gate: gate.name.value, reason: reason)
    }
}
