public import YAMLTree

/// A decoded update policy (the mapping under `updates:`), every value with its origin and every
/// default filled in.
public struct Policy: Sendable {
    /// Where the policy was read from, as given on the command line.
    public var file: String
    /// The `updates:` mapping.
    public var start: Mark
    public var server: Located<PolicyURL>?
    public var channel: Located<String>
    public var publicKey: Located<PublicKeySpec>?
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
    /// `- no_downgrade: false` turned the always-on downgrade check off (where it was written).
    public var downgradesAllowed: Located<Bool>
    public var download: Download
}

public struct Download: Sendable {
    /// Bytes per second; 0 for no minimum.
    public var minRate: Located<Int>
}

public enum RebootMode: String, Sendable, Hashable {
    case manual
    case auto
}

public struct Healthcheck: Sendable {
    public var timeout: Located<Duration>
    public var interval: Located<Duration>
    public var settle: Located<Duration>
    /// Every probe that runs: those written under `probes:`, those the shorthands stand for, and
    /// the always-on `disk_writable` probe on `data_dir`.
    public var probes: [Probe]
}

/// How a gate or probe came to be in the policy.
public enum EntrySource: Sendable, Hashable {
    /// Written as an entry at this position.
    case entry(Mark)
    /// Expanded from a shorthand key (`healthcheck_url`, `kube_system_settle`) at this position.
    case shorthand(key: String, Mark)
    /// Added by default (the default gates, the always-on disk probe, the default kube-system probe).
    case defaulted

    public var mark: Mark? {
        switch self {
        case .entry(let mark), .shorthand(_, let mark): mark
        case .defaulted: nil
        }
    }
}

public struct Gate: Sendable {
    public var name: Located<String>
    public var kind: GateKind
    public var timeout: Located<Duration>
    public var source: EntrySource
}

public enum GateKind: Sendable {
    case freeSpace(headroom: Located<Double>, path: Located<String>?)
    case nodeNotBlocked(label: Located<String>, node: Located<String>?, kubeconfig: Located<String>?)
    case maintenanceWindow(MaintenanceWindow)
    case maxAttempts(Located<Int>)
    case noDowngrade
    case rollout(percent: Located<Double>, salt: Located<String>)
    case exec(command: Located<[String]>)
    case http(url: Located<PolicyURL>, status: Located<Int>)

    public var name: String {
        switch self {
        case .freeSpace: "free_space"
        case .nodeNotBlocked: "node_not_blocked"
        case .maintenanceWindow: "maintenance_window"
        case .maxAttempts: "max_attempts"
        case .noDowngrade: "no_downgrade"
        case .rollout: "rollout"
        case .exec: "exec"
        case .http: "http"
        }
    }
}

public struct MaintenanceWindow: Sendable {
    public var days: Located<[Weekday]>
    public var start: Located<TimeOfDay>
    public var end: Located<TimeOfDay>
    public var timezone: Located<String>

    public init(days: Located<[Weekday]>, start: Located<TimeOfDay>, end: Located<TimeOfDay>, timezone: Located<String>) {
        self.days = days
        self.start = start
        self.end = end
        self.timezone = timezone
    }

    /// Minutes the window stays open: `end - start`, across midnight when `end < start`.
    public var lengthMinutes: Int {
        let length = end.value.minutes - start.value.minutes
        return length < 0 ? length + 24 * 60 : length
    }
}

public struct Probe: Sendable {
    public var name: Located<String>
    public var kind: ProbeKind
    public var timeout: Located<Duration>
    public var source: EntrySource
}

public enum ProbeKind: Sendable {
    case http(url: Located<PolicyURL>, status: Located<Int>)
    case tcp(address: Located<HostPort>)
    case exec(command: Located<[String]>)
    case diskWritable(path: Located<String>)
    case kubeSystemReady(settle: Located<Duration>)

    public var name: String {
        switch self {
        case .http: "http"
        case .tcp: "tcp"
        case .exec: "exec"
        case .diskWritable: "disk_writable"
        case .kubeSystemReady: "kube_system_ready"
        }
    }
}

public enum Backend: Sendable {
    case directory(root: Located<String>, initialVersion: Located<String>)
    case command(CommandBackend)

    public var type: String {
        switch self {
        case .directory: "directory"
        case .command: "command"
        }
    }
}

public struct CommandBackend: Sendable {
    /// argv templates by operation (`stage`, `activate`, `rollback`, `commit`, `reboot`, `booted_slot`).
    public var commands: [String: Located<[String]>]
    public var timeout: Located<Duration>
}
