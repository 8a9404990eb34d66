import UpdatePlan
import UpdatePolicy

/// One operation of the post-boot part of a plan, as a small type that carries it out against
/// the verification run's context. `HealthcheckContext.handler(for:)` picks it with an
/// exhaustive switch, so a new operation does not compile until it is handled.
protocol PostBootStepHandler {
    /// Carries out `step`, one of the post-boot part, reading and setting the
    /// context's verdict. A step the verdict makes moot reports nothing.
    func perform(_ step: Step, _ context: inout HealthcheckContext) throws
}

extension HealthcheckContext {
    /// The handler of each post-boot operation.
    func handler(for operation: Operation) -> any PostBootStepHandler {
        switch operation {
        case .checkBootedSlot: BootSlotStep()
        case .settle(let duration): SettleStep(duration: duration)
        case .probeRounds(let interval, let timeout): ProbeRoundsStep(interval: interval, timeout: timeout)
        case .probe(let probe): ProbeStep(name: probe.name.value)
        case .commit: CommitStep()
        case .countFailure: CountFailureStep()
        case .rollback(let after): RollbackStep(after: after)
        case .releaseHeld(let gate, _): GiveBackStep(gate: gate)
        case .hook(.beforeReboot, _, _): MisplacedPostBootStep()
        case .hook(let point, let commands, let timeout):
            AfterHookStep(hook: HookCommands(point: point, commands: commands, timeout: timeout))
        case .fetchMetadata, .fetchManifest, .verifySignature, .verifyCosign, .compareVersions, .gate, .download, .verifyFiles,
            .verifyFileSignatures, .stage, .activate, .reboot:
            MisplacedPostBootStep()
        }
    }
}

/// An apply operation in the post-boot part: the planner never writes one there.
struct MisplacedPostBootStep: PostBootStepHandler {
    func perform(_ step: Step, _ context: inout HealthcheckContext) throws {
        throw RunFailure(.probe, "\(step.id) is an apply step in the post-boot part of the plan (a bug in the plan; please report it)")
    }
}
