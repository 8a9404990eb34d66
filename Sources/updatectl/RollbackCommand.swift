import ArgumentParser
import UpdateAgent

struct RollbackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Roll back by hand to the previous slot, from phase staged, activated or verifying.",
        discussion: ExitStatus.helpTable(for: [.success, .failure, .usage, .busy])
    )

    @OptionGroup var node: NodeArguments

    func run() throws {
        let (loaded, _, statePath) = try node.prepare()
        let environment = AgentEnvironment.live(policy: loaded, statePath: statePath, reporter: ConsoleReporter())
        let run = RollbackRun(policy: loaded, environment: environment)
        switch try Locking.exitingWhenBusy({ try run.run() }) {
        case .rolledBack(let slot, let rebooted, let rebootNeeded):
            NodeReports.write(run: "rollback", outcome: "rolled_back", loaded, environment)
            if rebooted {
                printLine("rolled back: rebooting into slot \(slot)")
            } else if rebootNeeded {
                printLine("rolled back: slot \(slot) boots next; reboot the node to run it")
            } else {
                printLine("rolled back: the node stays on slot \(slot)")
            }
        case .refused(let message):
            printError("error: \(message)")
            throw ExitStatus.failure.exitCode
        }
    }
}
