import ArgumentParser
import UpdateAgent
import UpdatePlan
import UpdatePolicy

struct HealthcheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "healthcheck",
        abstract: "After the reboot: verify the new version, then commit it or count a failure and roll back.",
        discussion: """
            In phase activated (after `apply` and a reboot) it runs one verification run: the \
            booted slot is checked, settle is waited, and probe rounds run every interval until \
            one passes or the timeout is spent. A pass commits the slot (success); a failure is \
            counted, and at auto_rollback_after consecutive failures the previous slot is \
            restored (and rebooted into with reboot: auto). Every failed run exits 1.

            In any other phase the probes run once and nothing changes.

            \(ExitStatus.helpTable(for: [.success, .failure, .usage, .busy]))
            """
    )

    @OptionGroup var node: NodeArguments

    func run() throws {
        let (loaded, _, statePath) = try node.prepare()
        let reporter = ConsoleReporter()
        let environment = AgentEnvironment.live(policy: loaded, statePath: statePath, reporter: reporter)
        let run = HealthcheckRun(plan: Planner.plan(loaded), policy: loaded, environment: environment)
        let outcome = try Locking.exitingWhenBusy { try run.run() }
        NodeReports.write(after: .verified(outcome), loaded, environment)
        switch outcome {
        case .success(let version):
            printLine("verified and committed \(version)")
        case .probedOnly(let passed):
            printLine(passed ? "all probes passed" : "some probes failed")
            if !passed { throw ExitStatus.failure.exitCode }
        case .failed(let failures, let rolledBack, let message):
            printError("error: verification failed (\(failures) in a row): \(message)")
            if rolledBack { printError("rolled back") }
            throw ExitStatus.failure.exitCode
        case .fellBack(let message):
            printError("error: \(message); recorded as rolled_back")
            throw ExitStatus.failure.exitCode
        case .returnedToPrevious(let version, let slot, let rebooted):
            printError(
                "error: the node runs \(version), which was rolled back: slot \(slot) boots next"
                    + (rebooted ? "; rebooting into it" : "; reboot the node into it"))
            throw ExitStatus.failure.exitCode
        case .refused(let message):
            printError("error: \(message)")
            throw ExitStatus.failure.exitCode
        }
    }
}
