/// Why a run failed: a code that `status`, the state (`last_failure_reason`) and the metric
/// `updatectl_last_failure{reason=…}` carry, and the sentence a person reads.
public struct RunFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of thing went wrong. docs/state.md lists them with examples.
    public enum Reason: String, Sendable, CaseIterable {
        /// The update server or registry could not be reached or answered with an error.
        case network
        /// The release's metadata or manifest is missing something, malformed, expired or refused.
        case metadata
        /// A signature is missing, malformed or does not verify; a key is refused.
        case signature
        /// A file's SHA-256 is not the one the metadata names.
        case checksum
        /// A file is longer or shorter than announced.
        case size
        /// Writing, reading or syncing a file on this node failed.
        case disk
        /// The backend could not stage, activate, commit, roll back or reboot.
        case backend
        /// A gate could not decide (its check failed to run).
        case gate
        /// A gate held across the reboot (a fleet lock) could not decide. (A state lock another
        /// updatectl holds is not a failure: the command exits 4.)
        case lock
        /// The post-boot probes did not pass.
        case probe
        /// An earlier run did not finish (killed, power lost), or one waits for another command.
        case interrupted
    }

    public var reason: Reason
    public var message: String

    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { message }

    /// The same failure with its message prefixed ("download.files: …").
    func prefixed(_ prefix: String) -> RunFailure { RunFailure(reason, prefix + message) }
}
