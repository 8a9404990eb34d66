import UpdatePlan
import UpdatePolicy

/// The release as far as an apply run has got with it. Each stage holds what the steps before it
/// produced; a step asks for the stage it needs (`ApplyContext.offered(for:)`…) and is handed
/// nothing a step before it has not made.
enum ReleaseStage {
    /// Nothing fetched yet.
    case none
    /// The metadata's bytes (or a registry's manifest), not believed yet: its signature is next.
    case fetched(FetchedRelease)
    /// A release believed: its signature verified, or no key is configured.
    case offered(OfferedRelease)
    /// Its files written for the passive slot, with what they hashed to.
    case downloaded(DownloadedRelease)
    /// In the passive slot: what activation needs.
    case staged(StagedRelease)
}

/// Fetched, not believed: only its signature is looked at.
struct FetchedRelease {
    var bytes: [UInt8]
    /// A registry release: the client (holding its token), the release and the digests it resolved.
    var registry: (client: RegistryClient, resolved: RegistryRelease.Resolved)?
}

/// The release on offer.
struct OfferedRelease {
    var metadata: ReleaseMetadata
    /// It is the staged one: download, verify and stage are done already.
    var alreadyStaged = false
}

/// The offered release's files, written.
struct DownloadedRelease {
    var offered: OfferedRelease
    /// Where each file was written, by name.
    var paths: [String: String]
    var digests: [String: String] = [:]
    var written: [String: Int] = [:]
    /// File signatures fetched before their files (so a missing one is known early), by name.
    var signatureFiles: [String: [UInt8]] = [:]
}

/// What activation needs of a staged release: its version, and the offer when this run made it.
struct StagedRelease {
    var version: String
    var offered: OfferedRelease?
}

/// The mutable part of one apply run: the state, the step records, what the node runs, and the
/// release's stage. The steps (one handler type per plan operation, `ApplyStepHandler`) work on it.
struct ApplyContext {
    let run: ApplyRun
    let lock: StateLock?
    var env: AgentEnvironment { run.environment }
    var plan: Plan { run.plan }
    var state = UpdateState()
    var records: [UpdateState.StepRecord] = []
    var running = ""
    var booted = Slot.a
    var release = ReleaseStage.none
    /// The first gate that would defer a real run (dry run and check).
    var blockedBy: String?
    /// The held gates (fleet locks) that granted this run a slot, in order: given back when a
    /// later one defers the run (all of them or none).
    var heldThisRun: [Gate] = []
    /// The version a resting `staged` phase holds: a run that is offered it again goes on to
    /// activation instead of downloading it again.
    var stagedVersion: String?

    init(run: ApplyRun, lock: StateLock?) {
        self.run = run
        self.lock = lock
    }

    /// The counter shown beside each step; set to the steps of the part a run walks.
    var numbering = StepNumbering(total: 0)

    mutating func report(_ step: Step, _ decision: StepDecision, _ detail: String) {
        records.append(.init(step: step.id, decision: decision.rawValue, detail: detail))
        numbering.report(step, decision, detail, to: env.reporter)
    }

    mutating func skip(_ step: Step, _ why: String = "dry run: not carried out") -> ApplyOutcome? {
        report(step, .skip, why)
        return nil
    }

    mutating func transition(_ next: Phase, _ event: StateMachine.Event = .init()) throws {
        guard !run.dryRun else { return }
        state.lastRun = records
        state = try env.store.transition(state, to: next, event: event, clock: env.clock)
    }

    /// A failure that leaves the phase as it is (a staged release stays staged; a run that never
    /// started an attempt): its message and code are recorded all the same, for `status` and the
    /// metrics.
    mutating func record(_ failure: RunFailure) throws {
        guard !run.dryRun, lock != nil else { return }
        state.lastRun = records
        state.lastError = failure.message
        state.lastFailureReason = failure.reason.rawValue
        state = try env.store.save(state, clock: env.clock)
    }

    /// The offered release's metadata, from whichever stage holds it.
    var offeredMetadata: ReleaseMetadata? { offeredRelease?.metadata }

    var offeredRelease: OfferedRelease? {
        switch release {
        case .none, .fetched: nil
        case .offered(let offered): offered
        case .downloaded(let downloaded): downloaded.offered
        case .staged(let staged): staged.offered
        }
    }

    /// The version activation is for: the offer's, else the staged one's.
    var targetVersion: String {
        if case .staged(let staged) = release { return staged.version }
        return offeredMetadata?.version ?? stagedVersion ?? state.toVersion ?? ""
    }

    // The stage a step needs; a plan that orders its steps otherwise is a planner bug, said as
    // such instead of a crash.

    func fetched(for step: Step) throws(RunFailure) -> FetchedRelease {
        guard case .fetched(let fetched) = release else { throw outOfOrder(step, needs: "fetched metadata") }
        return fetched
    }

    func offered(for step: Step) throws(RunFailure) -> OfferedRelease {
        guard let offered = offeredRelease else { throw outOfOrder(step, needs: "an offered release") }
        return offered
    }

    func downloaded(for step: Step) throws(RunFailure) -> DownloadedRelease {
        guard case .downloaded(let downloaded) = release else { throw outOfOrder(step, needs: "the downloaded files") }
        return downloaded
    }

    private func outOfOrder(_ step: Step, needs: String) -> RunFailure {
        RunFailure(.metadata, "the plan puts \(step.id) before a step that gives it \(needs) (a bug in the plan; please report it)")
    }
}
