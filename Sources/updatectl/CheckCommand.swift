import ArgumentParser
import UpdateAgent
import UpdatePlan

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Ask the update server whether an update is available; verify it, change nothing.",
        discussion: """
            Fetches the release metadata, verifies its signature, compares versions and evaluates \
            the gates live, exactly as `apply` would up to the download, then stops. It takes no \
            lock, writes no state and spends no attempt.

            Exit status: 0 an update is available (a gate about the moment, such as the maintenance \
            window, may still defer `apply`: it is named); 5 no update (up to date, or only a \
            release that was rolled back); 1 the release is refused (channel, architecture, \
            min_compatible_version) or cannot be verified; 2 usage.

            \(ExitStatus.helpTable(for: [.success, .failure, .usage, .noUpdate]))
            """
    )

    @OptionGroup var node: NodeArguments

    func run() throws {
        let live = try node.live()
        var run = ApplyRun(plan: live.plan, policy: live.policy, policySHA256: live.sha256, environment: live.environment)
        run.dryRun = true
        run.checkOnly = true
        let outcome = try run.run()
        live.reporter.finish()
        switch outcome {
        case .upToDate(let version):
            printLine("no update: the node runs \(version), the version offered")
            throw ExitStatus.noUpdate.exitCode
        case .deferred(let gate, let reason) where gate == "check.version" || gate == "check.signature":
            // A version rolled back before, or metadata older than the newest accepted: nothing newer.
            printLine("no update: \(reason)")
            throw ExitStatus.noUpdate.exitCode
        case .available(let version, let deferredBy):
            printLine("an update is available: \(version)" + (deferredBy.map { "; `apply` would be deferred by \($0) now" } ?? ""))
        default:
            try ApplyCommand.report(outcome)
        }
    }
}

struct ActivateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "activate",
        abstract: "Activate the staged release: it boots next (and, with reboot: auto, reboot into it).",
        discussion: """
            With `activation: separate`, `apply` stops once the release is staged, as KubeSolo OS's \
            agent does; `activate` goes on from there: the staged slot boots next, the phase \
            becomes `activated`, and with `reboot: auto` the node reboots. After the reboot, \
            `updatectl healthcheck` verifies it. Refused (exit 1) when nothing is staged.

            \(ExitStatus.helpTable(for: [.success, .failure, .usage, .deferred, .busy]))
            """
    )

    @OptionGroup var node: NodeArguments

    @Flag(help: "Activate without taking a fleet reboot slot (fleet-lock gates).")
    var skipFleetLock = false

    func run() throws {
        let live = try node.live()
        var run = ApplyRun(plan: live.plan, policy: live.policy, policySHA256: live.sha256, environment: live.environment)
        run.skipFleetLock = skipFleetLock
        let outcome = try Locking.exitingWhenBusy { try run.activate() }
        live.reporter.finish()
        NodeReports.write(after: .applied(outcome), live.policy, live.environment)
        try ApplyCommand.report(outcome)
    }
}
