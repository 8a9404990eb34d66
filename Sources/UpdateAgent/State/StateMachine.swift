public import UpdatePlan

/// The transition table and counting rules of the update lifecycle.
///
/// Upstream lets any phase follow any other; here an illegal transition is an error and nothing
/// is written.
public enum StateMachine {
    /// Which phases may follow each phase.
    public static let allowed: [Phase: Set<Phase>] = [
        .idle: [.idle, .checking],
        .checking: [.idle, .downloading, .failed],
        .downloading: [.staged, .failed],
        .staged: [.activated, .checking, .failed, .rolledBack],
        .activated: [.verifying, .rolledBack],
        .verifying: [.success, .activated, .rolledBack],
        .success: [.idle, .checking],
        .rolledBack: [.idle, .checking],
        .failed: [.idle, .checking],
    ]

    public struct IllegalTransition: Error, Sendable, CustomStringConvertible {
        public var from: Phase
        public var to: Phase
        public var description: String {
            let next = (StateMachine.allowed[from] ?? []).map(\.rawValue).sorted().joined(separator: ", ")
            return "the state machine does not go from \(from.rawValue) to \(to.rawValue) (from \(from.rawValue) it goes to: \(next))"
        }
    }

    /// What a transition carries besides the phase.
    public struct Event: Sendable {
        /// The version the attempt targets (set when the download starts).
        public var toVersion: String?
        /// The running version, recorded when an attempt starts.
        public var fromVersion: String?
        /// The error to record (failed, rolled_back, and a counted verification failure).
        public var error: String?
        /// The error's code, recorded beside it (none: a rollback by hand).
        public var reason: RunFailure.Reason?
        /// A gate that deferred the run (checking → idle).
        public var deferral: UpdateState.Deferral?

        public init(
            toVersion: String? = nil, fromVersion: String? = nil, error: String? = nil, reason: RunFailure.Reason? = nil,
            deferral: UpdateState.Deferral? = nil
        ) {
            self.toVersion = toVersion
            self.fromVersion = fromVersion
            self.error = error
            self.reason = reason
            self.deferral = deferral
        }

        /// A failure to record: its message and its code.
        public init(failure: RunFailure) {
            self.init(error: failure.message, reason: failure.reason)
        }
    }

    /// The state after moving to `next`, by the counting rules:
    /// - an attempt starts when the download starts (checking → downloading): a new `to_version`
    ///   resets `attempt_count`, then it counts one, and `started_at` is set — so a run that a
    ///   gate defers spends no attempt;
    /// - a verification failure (verifying → activated) adds one to `health_check_failures`;
    ///   success and rollback reset it;
    /// - `last_error` (and its code, `last_failure_reason`) is set on failed, rolled_back and a
    ///   counted failure, and cleared on success and idle;
    /// - a deferral is recorded on checking → idle and cleared when a download starts.
    public static func apply(
        _ next: Phase, to state: UpdateState, event: Event = Event(), now: Timestamp
    )
        throws(IllegalTransition) -> UpdateState
    {
        guard allowed[state.phase]?.contains(next) == true else { throw IllegalTransition(from: state.phase, to: next) }
        var updated = state
        switch (state.phase, next) {
        case (.checking, .downloading):
            if let version = event.toVersion, version != state.toVersion {
                updated.toVersion = version
                updated.attemptCount = 0
                updated.interruptedAttempts = 0
            }
            if let from = event.fromVersion { updated.fromVersion = from }
            updated.attemptCount += 1
            updated.startedAt = now
            updated.deferral = nil
            updated.healthCheckFailures = 0
        case (.verifying, .activated):
            updated.healthCheckFailures += 1
        case (_, .checking) where state.phase != .checking:
            if let from = event.fromVersion { updated.fromVersion = from }
        default:
            break
        }
        func recordError() {
            guard let error = event.error, !error.isEmpty else { return }
            updated.lastError = error
            updated.lastFailureReason = event.reason?.rawValue
        }
        switch next {
        case .failed, .rolledBack:
            recordError()
            if next == .rolledBack { updated.healthCheckFailures = 0 }
        case .activated where state.phase == .verifying:
            recordError()
        case .success:
            updated.lastError = nil
            updated.lastFailureReason = nil
            updated.healthCheckFailures = 0
            updated.deferral = nil
            updated.interruptedAttempts = 0
        case .idle:
            updated.lastError = nil
            updated.lastFailureReason = nil
            if let deferral = event.deferral { updated.deferral = deferral }
        default:
            break
        }
        updated.phase = next
        return updated
    }
}
