public import UpdatePolicy

/// The ordered pipeline that `plan`, `apply`, `healthcheck` and `simulate` all walk.
public struct Plan: Sendable {
    public var policyFile: String
    public var server: Located<PolicyURL>?
    public var registry: Located<RegistryReference>?
    public var tag: Located<String>
    public var channel: Located<String>
    public var backend: Backend
    public var publicKey: Located<PublicKeySpec>?
    public var reboot: Located<RebootMode>
    public var autoRollbackAfter: Located<Int>
    public var layout: Located<MetadataLayout>
    public var activation: Located<ActivationMode>
    /// When `updatectl agent` checks for updates.
    public var agent: AgentSchedule
    /// One verification run's deadline, and the pause between runs while the version is unverified.
    public var verifyTimeout: Located<Duration>
    public var retryEvery: Located<Duration>
    /// The maintenance windows the agent waits for, in the plan's words ("02:00–05:00 UTC").
    public var windows: [String]
    public var steps: [Step]

    /// How long after the boot into an unverified release `updatectl agent` has rolled it back
    /// at the latest: `auto_rollback_after` runs of at most `timeout` each, `retry_every` apart
    /// (nil: automatic rollback is off).
    public var rollbackWithin: Duration? {
        let runs = autoRollbackAfter.value
        guard runs > 0 else { return nil }
        return verifyTimeout.value * runs + retryEvery.value * (runs - 1)
    }

    /// The first step of the post-boot part (the healthcheck run).
    public var postBootStart: Int { steps.firstIndex { $0.part == .postBoot } ?? steps.count }

    /// Where the release metadata is read: `<server>/latest.json`, or per channel.
    public var metadataURL: String {
        server.map { Planner.metadataURL(server: $0.value, channel: channel.value, layout: layout.value) } ?? ""
    }

    /// The first step that activates the staged release (in `apply`, or in `activate` with
    /// `activation: separate`).
    public var activationStart: Int {
        steps.firstIndex { step in
            switch step.operation {
            case .activate, .hook(.beforeReboot, _, _): true
            case .gate(let gate): type(of: gate.kind).placement == .heldAcrossReboot
            default: false
            }
        } ?? postBootStart
    }
}

/// What kind of thing a step is.
public enum StepKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// A pre-flight check that passes, blocks (defers the run) or errs.
    case gate
    /// Something that changes the world: a download, a backend call.
    case action
    /// A pause: settle, or waiting for a reboot.
    case wait
    /// The loop of probe rounds.
    case probeRound = "probe_round"
    /// One probe of every round.
    case probe
    /// A branch: up to date or not, booted slot, commit or count a failure, roll back or not.
    case decision
}

/// Which command runs a step: `apply`, `activate` (with `activation: separate`) or the
/// post-boot `healthcheck`.
public enum Part: String, Sendable, Hashable, Codable {
    case apply
    case activate
    case postBoot = "post_boot"
}

/// One step: a stable id, its kind, the phase it runs in, its parameters with defaults filled
/// in, and where in the policy it came from.
public struct Step: Sendable {
    public var id: String
    public var kind: StepKind
    public var phase: Phase
    public var part: Part
    /// A short sentence: what the step does.
    public var summary: String
    public var parameters: [Parameter]
    /// Where the step came from: the policy position, or `.defaulted`.
    public var origin: Origin
    /// How the origin came about when it is not a plain entry (`healthcheck_url` shorthand).
    public var originNote: String?
    public var operation: Operation
}

/// What the executor does for a step.
public enum Operation: Sendable {
    case fetchMetadata(server: PolicyURL?, channel: String)
    /// The release from an OCI registry: the tag's manifest (this architecture's, from an index).
    case fetchManifest(RegistryReference, tag: String)
    case verifySignature(PublicKeySpec)
    /// A cosign signature of the manifest, made with the policy's key.
    case verifyCosign(PublicKeySpec)
    case compareVersions
    case gate(Gate)
    case download
    /// Every file's SHA-256, and its size where one was announced.
    case verifyFiles
    /// Every detached file signature the release names.
    case verifyFileSignatures(PublicKeySpec)
    case stage
    case activate
    case reboot(RebootMode)
    case checkBootedSlot
    case settle(Duration)
    case probeRounds(interval: Duration, timeout: Duration)
    case probe(Probe)
    case commit
    case countFailure
    case rollback(after: Int)
    /// Gives back what a gate held across the reboot took (a fleet reboot slot).
    case releaseHeld(Gate, HeldMoment)
    /// The operator's commands at a point of the lifecycle (`hooks:`), each within `timeout`.
    case hook(HookPoint, commands: [[String]], timeout: Duration)
}

/// When a held gate (a fleet lock) is given back.
public enum HeldMoment: String, Sendable {
    /// At the start of a run that finds no update in flight: whatever is still held (after a
    /// crash, or a run that stopped) is no longer needed.
    case initialization
    /// After a committing verification or a rollback.
    case steadyState = "steady_state"
}
