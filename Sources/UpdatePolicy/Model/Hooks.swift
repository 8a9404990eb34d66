/// Where in the lifecycle the operator's hook commands run (`hooks:`).
public enum HookPoint: String, Sendable, Hashable, CaseIterable {
    /// Before the node is made to boot the new release, with `reboot: auto`: a failing command
    /// defers the run and the release stays staged.
    case beforeReboot = "before_reboot"
    /// After a verification run committed the new release.
    case afterCommit = "after_commit"
    /// After a rollback was recorded, before the reboot into the previous slot.
    case afterRollback = "after_rollback"
}

/// The operator's commands at points of the lifecycle: argv lists run without a shell, each
/// within `timeout`, with the versions and the phase in their environment.
public struct Hooks: Sendable {
    /// The limit of each command; its process group is killed past it.
    public var timeout: Located<Duration>
    public var commands: [HookPoint: [Located<[String]>]]

    public init(timeout: Located<Duration> = Located(.seconds(300), .defaulted), commands: [HookPoint: [Located<[String]>]] = [:]) {
        self.timeout = timeout
        self.commands = commands
    }

    public subscript(point: HookPoint) -> [Located<[String]>] { commands[point] ?? [] }
}
