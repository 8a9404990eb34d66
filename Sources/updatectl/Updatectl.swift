import ArgumentParser

@main
struct Updatectl: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "updatectl",
        abstract: "Declarative, policy-driven A/B updates for Linux nodes.",
        discussion: """
            updatectl reads an update policy (the `updates:` section of a cloud-init user-data \
            file, or a file holding only that), checks it, and drives the node's A/B update \
            state machine through it.

            \(ExitStatus.helpTable)
            """,
        version: version,
        subcommands: [Lint.self, PlanCommand.self, CheckCommand.self, ApplyCommand.self, ActivateCommand.self, HealthcheckCommand.self, RollbackCommand.self, FleetCommand.self, SimulateCommand.self, StatusCommand.self, StateCommand.self, Schema.self, Tree.self]
    )

    /// Runs the command line with updatectl's exit codes: bad flags exit 2, not 64.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                printError(fullMessage(for: error))
                printError("Run `updatectl help` for usage.")
                exit(withError: ExitStatus.usage.exitCode)
            }
            exit(withError: error)
        }
    }
}
