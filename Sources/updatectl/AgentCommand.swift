import ArgumentParser
import CSupport
import Synchronization
import UpdateAgent
import UpdatePlan
import UpdatePolicy

#if canImport(Glibc)
import Glibc
#endif

/// Set by SIGTERM and SIGINT; the agent stops at the next chance (within a second while it
/// waits, after the run in progress otherwise).
private let stopRequested = Atomic<Bool>(false)

struct AgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run as the node's long-lived update agent: verify, then check for updates on the policy's schedule.",
        discussion: """
            One process does what the one-shot commands do, with the same state machine and \
            locks. At start it finishes a verification in flight: a run every \
            healthcheck.retry_every until the new version is committed or auto_rollback_after \
            failed runs roll it back (and reboot out of it, with reboot: auto). A steady boot \
            is confirmed once per boot, and fleet slots still held are given back on every \
            round. Then it checks for updates every agent.check_every plus a random part of \
            agent.jitter, waiting for a closed maintenance window to open instead of polling \
            into it. `updatectl plan` prints the schedule and by when an unverified release is \
            rolled back.

            SIGTERM or SIGINT: a wait ends at once, a run in progress is finished, then the \
            agent exits 0. Every step is crash-safe besides, so SIGKILL loses nothing either. \
            Run it under a supervisor that restarts it (the shipped systemd unit, the \
            KubeSolo OS init script, the Kubernetes DaemonSet: docs/install.md).

            \(ExitStatus.helpTable(for: [.success, .failure, .usage]))
            """
    )

    @OptionGroup var node: NodeArguments

    func run() throws {
        let live = try node.live()
        // A log read as it is written (a pipe to a supervisor's journal): a line at a time.
        csupport_line_buffered_stdout()
        // A parent may have left the signals blocked (a spawning process's mask is inherited);
        // the agent must hear them.
        var signals = sigset_t()
        sigemptyset(&signals)
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber) { _ in stopRequested.store(true, ordering: .relaxed) }
            sigaddset(&signals, signalNumber)
        }
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
        var loop = AgentLoop(plan: live.plan, policy: live.policy, policySHA256: live.sha256, environment: live.environment)
        loop.shouldStop = { stopRequested.load(ordering: .relaxed) }
        // Debug builds: `UPDATECTL_TEST_AGENT_UNTIL=NAME` stops after the first event of that name,
        // so that tests on a virtual clock (UPDATECTL_TEST_NOW) end.
        let until = TestSwitches.value("AGENT_UNTIL")
        var events = 0
        var reached = until == nil
        loop.observe = { event in
            printLine("agent event: \(event.name)")
            NodeReports.write(after: event, live.policy, live.environment)
            events += 1
            if event.name == until { reached = true }
            // On a virtual clock an agent that never gets there would run for ever.
            return reached && until != nil || until != nil && events >= 1000
        }
        loop.run()
        if !reached {
            printError("error: the agent stopped after \(events) events without `\(until ?? "")`")
            throw ExitStatus.failure.exitCode
        }
    }
}
