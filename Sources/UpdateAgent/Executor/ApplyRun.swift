public import UpdatePlan
public import UpdatePolicy

#if canImport(Glibc)
import Glibc
#endif

public enum ApplyOutcome: Sendable, Equatable {
    case upToDate(version: String)
    case activated(version: String, rebooted: Bool)
    /// `activation: separate`: the release is staged and waits for `updatectl activate`.
    case staged(version: String)
    case deferred(gate: String, reason: String)
    /// A metadata gate refused the release (another channel or architecture, too old a
    /// starting version): recorded as failed, no attempt spent.
    case refused(gate: String, reason: String)
    /// `check`: an update the node would install; `deferredBy` names a gate about the moment
    /// (the maintenance window…) that would defer `apply` now.
    case available(version: String, deferredBy: String?)
    case failed(RunFailure)
    /// A dry run finished; `blockedBy` names the first gate that would defer a real run.
    case dryRun(blockedBy: String?)
    /// A reboot an earlier run missed was carried out (into `slot`); nothing else was done.
    case rebooted(slot: String)
}

/// One `apply`: walks the apply part of the plan against the state machine.
public struct ApplyRun {
    public let plan: Plan
    public let policy: Policy
    public let policySHA256: String?
    public let environment: AgentEnvironment
    public var force = false
    public var dryRun = false
    /// `check`: a dry run that stops before the download and says whether an update is available.
    public var checkOnly = false
    /// `--skip-fleet-lock`: activate without taking a fleet reboot slot.
    public var skipFleetLock = false

    /// A minute plus the image's size at the minimum rate: a download that takes longer is
    /// stopped instead of holding the lock for days. Nil (no deadline) with `min_rate: 0`.
    public static func downloadDeadline(size: Int, minRate: Int) -> Duration? {
        guard minRate > 0 else { return nil }
        return .seconds(60 + (size + minRate - 1) / minRate)
    }

    /// Interrupted attempts at one version before apply stops retrying it by itself.
    public static let interruptionLimit = 3

    public init(plan: Plan, policy: Policy, policySHA256: String?, environment: AgentEnvironment) {
        self.plan = plan
        self.policy = policy
        self.policySHA256 = policySHA256
        self.environment = environment
    }

    var steps: [Step] { plan.steps.filter { $0.part == .apply } }

    /// Runs under the state lock (and the backend's), except a dry run, which only reads.
    public func run() throws -> ApplyOutcome {
        let lock = dryRun ? nil : try StateLock.acquire(statePath: environment.store.path, extraLock: environment.backend.lockPath)
        defer { lock?.release() }
        var context = ApplyContext(run: self, lock: lock)
        return try context.apply()
    }

    /// `updatectl activate`: activates the release a resting `staged` phase holds (and reboots,
    /// with `reboot: auto`), under the state lock.
    public func activate() throws -> ApplyOutcome {
        let lock = try StateLock.acquire(statePath: environment.store.path, extraLock: environment.backend.lockPath)
        defer { lock.release() }
        var context = ApplyContext(run: self, lock: lock)
        return try context.activate()
    }
}
