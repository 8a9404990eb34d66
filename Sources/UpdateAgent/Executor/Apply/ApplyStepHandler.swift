import UpdatePlan
import UpdatePolicy

/// One operation of the apply part of a plan, as a small type that carries it out against the
/// run's context. `ApplyContext.handler(for:)` picks it with an exhaustive switch over the
/// operation, so a new operation does not compile until it is handled (docs/extending.md,
/// "Adding a step").
protocol ApplyStepHandler {
    /// Carries out `step`, one of the apply part: nil goes on, an outcome ends the run,
    /// a thrown `RunFailure` fails it (recorded with its code); any other error stops the run
    /// as it is (the state could not be written, say).
    func perform(_ step: Step, _ context: inout ApplyContext) throws -> ApplyOutcome?
}

extension ApplyContext {
    /// The handler of each operation of the apply and activation parts.
    func handler(for operation: Operation) -> any ApplyStepHandler {
        switch operation {
        case .fetchMetadata(let server, _): FetchMetadataStep(server: server)
        case .fetchManifest(let reference, let tag): FetchManifestStep(reference: reference, tag: tag)
        case .verifySignature(let key): VerifyMetadataSignatureStep(key: key)
        case .verifyCosign(let key): VerifyCosignStep(key: key)
        case .compareVersions: CompareVersionsStep()
        case .gate(let gate): GateStep(gate: gate)
        case .releaseHeld(let gate, _): ReleaseHeldStep(gate: gate)
        case .download: DownloadStep()
        case .verifyFiles: VerifyFilesStep()
        case .verifyFileSignatures(let key): VerifyFileSignaturesStep(key: key)
        case .stage: StageStep()
        case .activate: ActivateStep()
        case .reboot(let mode): RebootStep(mode: mode)
        case .hook(.beforeReboot, let commands, let timeout):
            BeforeRebootHookStep(hook: HookCommands(point: .beforeReboot, commands: commands, timeout: timeout))
        case .checkBootedSlot, .hook, .settle, .probeRounds, .probe, .commit, .countFailure, .rollback:
            MisplacedStep(part: "post-boot")
        }
    }
}

/// A post-boot operation in the apply part: the planner never writes one there.
struct MisplacedStep: ApplyStepHandler {
    var part: String

    func perform(_ step: Step, _ context: inout ApplyContext) throws -> ApplyOutcome? {
        throw RunFailure(.metadata, "\(step.id) is a \(part) step in the apply part of the plan (a bug in the plan; please report it)")
    }
}
