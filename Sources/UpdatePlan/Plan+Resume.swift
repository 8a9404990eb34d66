import UpdatePolicy

extension Plan {
    /// Where the next run would start, given the phase a state file records.
    public struct Resume: Sendable {
        public var index: Int
        public var phase: Phase
        public var reason: String
    }

    public func resume(from phase: Phase) -> Resume {
        switch phase {
        case .idle, .success, .failed, .rolledBack:
            return Resume(index: 0, phase: phase, reason: "no update is in flight (phase \(phase.rawValue)): `apply` starts here")
        case .checking, .downloading:
            return Resume(
                index: 0, phase: phase,
                reason: "the last apply stopped in phase \(phase.rawValue) before activation: `apply` starts over here")
        case .staged:
            return Resume(
                index: activationStart, phase: phase,
                reason: activation.value == .separate
                    ? "the release is staged and waits: `updatectl activate` goes on here"
                    : "the release was staged when the last apply stopped: `apply` (or `activate`) goes on here")
        case .activated:
            return Resume(
                index: postBootStart, phase: phase,
                reason: "an update is activated and waits for its post-boot check: `healthcheck` starts here")
        case .verifying:
            return Resume(
                index: postBootStart, phase: phase,
                reason: "a verification run was interrupted: the next `healthcheck` starts here again")
        }
    }
}
