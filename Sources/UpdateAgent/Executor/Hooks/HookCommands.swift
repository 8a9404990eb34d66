import UpdatePlan
import UpdatePolicy

/// The operator's commands at one point of the lifecycle (`hooks:`), run as the `exec` gate runs
/// its command (`CommandCheck`): argv only, a trusted program, the timeout, the whole process
/// group killed past it. They get the versions, the phase and the hook point in their
/// environment (`UPDATECTL_*`, docs/hooks.md) and the same `${…}` variables as gate commands.
struct HookCommands {
    var point: HookPoint
    var commands: [[String]]
    var timeout: Duration

    /// What the commands are told about the update.
    struct Moment {
        var phase: Phase
        var fromVersion: String
        var toVersion: String
        var channel: String
        var dataDir: String
    }

    /// What the commands did: one sentence per command that ran, and the first failure.
    struct Result {
        var ran: [String] = []
        var failures: [String] = []

        var detail: String { ran.joined(separator: "; ") }
    }

    /// Runs the commands in order; with `stopAtFailure`, none after the first that fails.
    func run(_ moment: Moment, runner: any CommandRunner, stopAtFailure: Bool) -> Result {
        let variables = [
            "VERSION": moment.toVersion, "FROM_VERSION": moment.fromVersion, "CHANNEL": moment.channel,
            "DATA_DIR": moment.dataDir,
        ]
        let environment = [
            "UPDATECTL_HOOK": point.rawValue, "UPDATECTL_PHASE": moment.phase.rawValue,
            "UPDATECTL_FROM_VERSION": moment.fromVersion, "UPDATECTL_TO_VERSION": moment.toVersion,
            "UPDATECTL_CHANNEL": moment.channel, "UPDATECTL_DATA_DIR": moment.dataDir,
        ]
        var result = Result()
        for command in commands {
            switch CommandCheck.run(command, variables: variables, timeout: timeout, runner: runner, environment: environment) {
            case .passed(let detail):
                result.ran.append(detail)
            case .failed(let detail), .unrunnable(let detail):
                result.ran.append(detail)
                result.failures.append(detail)
                if stopAtFailure { return result }
            }
        }
        return result
    }
}

extension HookCommands {
    /// The policy's commands of `point`; nil when it has none.
    init?(_ point: HookPoint, of policy: Policy) {
        let commands = policy.hooks[point]
        guard !commands.isEmpty else { return nil }
        self.init(point: point, commands: commands.map(\.value), timeout: policy.hooks.timeout.value)
    }

    /// `after_rollback` for `updatectl rollback`, outside the plan's steps: every command runs,
    /// each failure a warning.
    static func afterRollback(_ policy: Policy, _ state: UpdateState, _ env: AgentEnvironment) {
        guard let hook = HookCommands(.afterRollback, of: policy) else { return }
        let moment = Moment(
            phase: state.phase, fromVersion: state.fromVersion ?? "", toVersion: state.toVersion ?? "",
            channel: policy.channel.value, dataDir: policy.dataDir.value)
        let result = hook.run(moment, runner: env.runner, stopAtFailure: false)
        if !result.detail.isEmpty { env.reporter.note("hook.after_rollback: \(result.detail)") }
        for failure in result.failures { env.reporter.warning("hook.after_rollback: \(failure); the rollback stands") }
    }
}
