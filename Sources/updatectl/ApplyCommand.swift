import ArgumentParser
import UpdateAgent
import UpdatePlan
import UpdatePolicy

#if canImport(Glibc)
import Glibc
#endif

struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Check for an update and, through the gates, download, verify, stage and activate it.",
        discussion: """
            Walks the apply part of the plan (`updatectl plan POLICY` shows it) against the state \
            machine, holding the state lock for the whole run, and prints each step with its \
            decision. A gate that says no defers the run (exit 3): nothing changes and no attempt \
            is spent.

            --dry-run fetches and verifies the metadata and evaluates every gate live, then stops: \
            it changes no state and no slot. Its exit status is what the real run's would be up to \
            the download (0 go, 3 deferred, 1 failed).

            --force skips the gates about when and where an update may run \
            (\(PolicyKinds.skippedByForce.joined(separator: ", "))) and says which it skipped; \
            \(PolicyKinds.notSkippedByForce.joined(separator: ", ")) gates always run. A \
            fleet-lock gate is skipped only by --skip-fleet-lock, which activates without a \
            reboot slot of the group (docs/fleet.md).

            \(ExitStatus.helpTable(for: [.success, .failure, .usage, .deferred, .busy]))
            """
    )

    @OptionGroup var node: NodeArguments

    @Flag(help: "Skip the scheduling gates (see above).")
    var force = false

    @Flag(help: "Evaluate everything live, change nothing.")
    var dryRun = false

    @Flag(help: "Activate without taking a fleet reboot slot (fleet-lock gates).")
    var skipFleetLock = false

    func run() throws {
        let live = try node.live()
        var run = ApplyRun(plan: live.plan, policy: live.policy, policySHA256: live.sha256, environment: live.environment)
        run.force = force
        run.dryRun = dryRun
        run.skipFleetLock = skipFleetLock
        let outcome = try Locking.exitingWhenBusy { try run.run() }
        live.reporter.finish()
        NodeReports.write(after: .applied(outcome), live.policy, live.environment)
        try Self.report(outcome)
    }

    /// Prints an apply or activate outcome and exits with its status.
    static func report(_ outcome: ApplyOutcome) throws {
        switch outcome {
        case .upToDate(let version):
            printLine("up to date: the node runs \(version)")
        case .activated(let version, let rebooted):
            printLine(
                rebooted
                    ? "activated \(version); the node is rebooting into it"
                    : "activated \(version); reboot to run it, then `updatectl healthcheck`")
        case .staged(let version):
            printLine("staged \(version); `updatectl activate` activates it (activation: separate)")
        case .available(let version, let deferredBy):
            printLine("an update is available: \(version)" + (deferredBy.map { "; `apply` would be deferred by \($0) now" } ?? ""))
        case .deferred(let gate, let reason):
            printLine("deferred by \(gate): \(reason)")
            throw ExitStatus.deferred.exitCode
        case .refused(let gate, let reason):
            printError("error: refused by \(gate): \(reason)")
            throw ExitStatus.failure.exitCode
        case .failed(let message):
            printError("error: \(message)")
            throw ExitStatus.failure.exitCode
        case .rebooted(let slot):
            printLine("rebooting into slot \(slot), which a rollback chose")
        case .dryRun(let blockedBy):
            if let blockedBy {
                printLine("dry run: a real run would be deferred by \(blockedBy); nothing was changed")
                throw ExitStatus.deferred.exitCode
            }
            printLine("dry run: a real run would download, verify, stage and activate; nothing was changed")
        }
    }
}

/// Prints each step as it finishes; a progress bar on a terminal, plain lines otherwise.
/// `@unchecked Sendable`: its calls never overlap. Steps are reported on the run's thread; while
/// the files download (the run's thread waiting), the downloads report progress and notes one at
/// a time, under their shared lock (`ReleaseDownload.Shared`).
final class ConsoleReporter: RunReporter, @unchecked Sendable {
    private let terminal = isatty(1) == 1
    private var barShown = false
    private var lastPlainDecile = -1

    func stepFinished(index: Int, total: Int, step: Step, decision: StepDecision, detail: String) {
        clearBar()
        let counter = "[\(String(index + 1).leftPadded(String(total).count))/\(total)]"
        printLine("\(counter) \(step.id.padding(32)) \(decision.rawValue.padding(5)) \(detail)")
    }

    func progress(bytes: Int, total: Int) {
        let fraction = total > 0 ? Double(bytes) / Double(total) : 1
        let speed = pace(bytes: bytes, total: total)
        if terminal {
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            FileDescriptorWriter.write("\r      downloading [\(bar)] \(Int(fraction * 100))%" + (speed.map { " \($0)  " } ?? ""), to: 1)
            barShown = true
        } else {
            let decile = Int(fraction * 10)
            if decile > lastPlainDecile {
                lastPlainDecile = decile
                printLine("      downloaded \(Int(fraction * 100))% (\(bytes) of \(total) bytes\(speed.map { ", \($0)" } ?? ""))")
            }
        }
    }

    private var paceStart: (seconds: Double, bytes: Int)?

    /// The rate since the download began and the time left at it ("512KiB/s, 12s left"), once
    /// it has run for two seconds (a fast download has nothing to wait for).
    private func pace(bytes: Int, total: Int) -> String? {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let seconds = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
        guard let start = paceStart else {
            paceStart = (seconds, bytes)
            return nil
        }
        let elapsed = seconds - start.seconds
        guard elapsed >= 2, bytes > start.bytes else { return nil }
        let rate = Double(bytes - start.bytes) / elapsed
        let left = total > bytes ? Duration.seconds(Int((Double(total - bytes) / rate).rounded(.up))) : .zero
        return "\(ByteText.show(UInt64(rate)))/s, \(DurationText.format(left)) left"
    }

    func note(_ text: String) {
        clearBar()
        printLine("note: \(text)")
    }

    func warning(_ text: String) {
        clearBar()
        printError("warning: \(VisibleText.escape(text))")
    }

    func finish() { clearBar() }

    private func clearBar() {
        if barShown {
            FileDescriptorWriter.write("\r" + String(repeating: " ", count: 60) + "\r", to: 1)
            barShown = false
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
