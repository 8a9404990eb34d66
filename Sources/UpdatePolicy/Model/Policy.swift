public import YAMLTree

/// A decoded update policy (the mapping under `updates:`), every value with its origin and every
/// default filled in.
public struct Policy: Sendable {
    /// Where the policy was read from, as given on the command line.
    public var file: String
    /// The `updates:` mapping.
    public var start: Mark
    public var server: Located<PolicyURL>?
    /// Instead of `server`: the OCI repository releases are pulled from, and the tag.
    public var registry: Located<RegistryReference>?
    public var tag: Located<String>
    /// A file holding `user:password` for the registry.
    public var registryAuth: Located<String>?
    public var channel: Located<String>
    public var publicKey: Located<PublicKeySpec>?
    /// `public_key` was written but did not decode (already reported): the policy means to
    /// verify, so it is not "unauthenticated".
    public var publicKeyInvalid = false
    /// What signed metadata must be, with a public key.
    public var trust: MetadataTrust
    /// Certificate authorities (PEM) for the update server and the registry, instead of the system's.
    public var caFile: Located<String>?
    public var preflight: [Gate]
    /// Whether `preflight:` was written (else the default gates stand).
    public var preflightOrigin: Origin
    public var healthcheckURL: Located<PolicyURL>?
    public var kubeSystemSettle: Located<Duration>
    public var healthcheck: Healthcheck
    public var autoRollbackAfter: Located<Int>
    public var reboot: Located<RebootMode>
    public var dataDir: Located<String>
    public var backend: Backend
    /// The backend's `type:` as written (or the default).
    public var backendType: Located<String>
    /// Gates written but turned off by their options (`- KIND: false`): they never run,
    /// and lint says what that costs.
    public var disabledGates: [Gate]
    public var download: Download
    /// Where the release metadata is on the server.
    public var layout: Located<MetadataLayout>
    /// Whether `apply` activates what it staged, or stops at `staged` for `activate`.
    public var activation: Located<ActivationMode>
    /// When `updatectl agent` checks for updates.
    public var agent: AgentSchedule
    /// The operator's commands before the reboot, after a commit and after a rollback.
    public var hooks = Hooks()
}

/// How far signed metadata is trusted (with a `public_key`).
public struct MetadataTrust: Sendable {
    /// The metadata's own signature is required (`latest.json.sig` beside it); false accepts
    /// unsigned metadata when every file is signed.
    public var requireSignedMetadata: Located<Bool>
    /// Also look where the metadata's `metadata_sig_url` points when no signature is beside it.
    public var followMetadataSigURL: Located<Bool>
    /// The oldest signed metadata accepted (`release_date`); zero for no limit.
    public var maxMetadataAge: Located<Duration>
    /// Accept signed metadata older than the newest accepted (a lower version, an earlier
    /// `release_date`): a publisher's deliberate step back.
    public var allowOlderMetadata: Located<Bool>

    public init(
        requireSignedMetadata: Located<Bool>, followMetadataSigURL: Located<Bool>, maxMetadataAge: Located<Duration>,
        allowOlderMetadata: Located<Bool>
    ) {
        self.requireSignedMetadata = requireSignedMetadata
        self.followMetadataSigURL = followMetadataSigURL
        self.maxMetadataAge = maxMetadataAge
        self.allowOlderMetadata = allowOlderMetadata
    }
}

/// When `updatectl agent` checks for updates: every `checkEvery` plus a random part of `jitter`.
public struct AgentSchedule: Sendable {
    public var checkEvery: Located<Duration>
    public var jitter: Located<Duration>
}

/// Where `latest.json` is on an update server.
public enum MetadataLayout: String, Sendable, Hashable {
    /// `<server>/latest.json`, the channel named inside the document (KubeSolo OS's layout).
    case kubesolo
    /// `<server>/<channel>/latest.json`.
    case perChannel = "per_channel"
}

/// What `apply` does once the release is staged.
public enum ActivationMode: String, Sendable, Hashable {
    /// Activates (and reboots, with `reboot: auto`) in the same run.
    case auto
    /// Stops at `staged`, as KubeSolo OS's `apply` does; `updatectl activate` goes on.
    case separate
}

public struct Download: Sendable {
    /// Bytes per second; 0 for no minimum.
    public var minRate: Located<Int>
    /// Bytes per second; 0 for no cap.
    public var maxRate: Located<Int>
    /// Failed tries in a row without a byte gained before a download gives up for the run.
    public var retries: Located<Int>
    /// The largest release file accepted when the metadata does not say its size.
    public var maxReleaseSize: Located<Int>
    /// The proxy for every request, when the policy names one.
    public var proxy: Located<PolicyURL>?
    public var noProxy: Located<String>?

    public init(
        minRate: Located<Int>, maxRate: Located<Int>, retries: Located<Int>, maxReleaseSize: Located<Int>,
        proxy: Located<PolicyURL>? = nil, noProxy: Located<String>? = nil
    ) {
        self.minRate = minRate
        self.maxRate = maxRate
        self.retries = retries
        self.maxReleaseSize = maxReleaseSize
        self.proxy = proxy
        self.noProxy = noProxy
    }
}

public enum RebootMode: String, Sendable, Hashable {
    case manual
    case auto
}

public struct Healthcheck: Sendable {
    public var timeout: Located<Duration>
    public var interval: Located<Duration>
    public var settle: Located<Duration>
    /// Between verification runs while the new version is unverified (`updatectl agent`).
    public var retryEvery: Located<Duration>
    /// Every probe that runs: those written under `probes:`, those the shorthands stand for, and
    /// the always-on one on `data_dir`.
    public var probes: [Probe]
}

/// How a gate or probe came to be in the policy.
public enum EntrySource: Sendable, Hashable {
    /// Written as an entry at this position.
    case entry(Mark)
    /// Expanded from a shorthand key (`healthcheck_url`, `kube_system_settle`, the one-line
    /// `maintenance_window`), written where `origin` says (the policy, update.conf or a flag).
    case shorthand(key: String, Origin)
    /// Added by default (the default gates, the always-on disk probe, the default kube-system probe).
    case defaulted

    public var mark: Mark? {
        switch self {
        case .entry(let mark): mark
        case .shorthand(_, let origin): origin.mark
        case .defaulted: nil
        }
    }
}

public struct Gate: Sendable {
    public var name: Located<String>
    /// What the gate checks: one of `PolicyKinds.gates`.
    public var kind: any GateKind
    public var timeout: Located<Duration>
    public var source: EntrySource
}

public struct Probe: Sendable {
    public var name: Located<String>
    /// What the probe checks: one of `PolicyKinds.probes`.
    public var kind: any ProbeKind
    public var timeout: Located<Duration>
    public var source: EntrySource
}

public enum Backend: Sendable {
    case directory(root: Located<String>, initialVersion: Located<String>)
    case command(CommandBackend)
    case kubesolo(KubeSoloBackend)

    public var type: String { Swift.type(of: described).type }
}
