import Foundation
import Testing
import UpdateAgent
import UpdatePlan
import UpdatePolicy

/// A wall clock that an NTP daemon steps while the run waits: every sleep moves monotonic time
/// on by the sleep and the wall clock by `step` on top.
final class SteppingClock: RunClock, @unchecked Sendable {
    let base: FixedWallClock
    let step: Duration

    init(start: Timestamp, step: Duration) {
        base = FixedWallClock(start)
        self.step = step
    }

    func now() -> Timestamp { base.now() }
    func instant() -> Duration { base.instant() }
    func account(elapsed: Duration) { base.advance(by: max(elapsed, .milliseconds(1))) }
    func sleep(for duration: Duration) {
        base.advance(by: duration)
        base.step(by: step)
    }
}

/// Probes that always fail, counting the rounds.
final class FailingProbes: ProbeRunner, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var rounds = 0

    func round(_ probes: [Probe], variables: [String: String]) -> (results: [ProbeResult], duration: Duration) {
        lock.withLock { rounds += 1 }
        return (
            probes.map { ProbeResult(name: $0.name.value, passed: false, detail: "down", duration: .milliseconds(5)) },
            .milliseconds(5)
        )
    }
}

struct SilentReporter: RunReporter {
    func stepFinished(index: Int, total: Int, step: Step, decision: StepDecision, detail: String) {}
    func progress(bytes: Int, total: Int) {}
    func note(_ text: String) {}
}

@Suite struct MonotonicDeadlineTests {
    /// Runs one verification with a 1m timeout and 10s interval on a clock whose wall time jumps
    /// by `step` at every wait; returns the number of probe rounds.
    func rounds(wallStep: Duration) throws -> Int {
        let dir = try ScratchDirectory()
        let policyText = """
            updates:
              server: https://updates.example.com
              kube_system_settle: 0
              healthcheck: {timeout: 1m, interval: 10s, probes: [{exec: {command: [/bin/false]}}]}
              auto_rollback_after: 0
              data_dir: \(dir.path)/data
              backend: {type: directory, root: \(dir.path)/slots, initial_version: 1.0.0}
            """
        let result = PolicyLinter.lint(Array(policyText.utf8), file: "policy.yaml", options: LintOptions(timeZones: ZoneInfo()))
        let policy = try #require(result.policy)
        let backend = DirectoryBackend(root: dir.path + "/slots", initialVersion: "1.0.0")
        _ = try backend.bootedSlot()
        try FileManager.default.createDirectory(atPath: dir.path + "/slots/b", withIntermediateDirectories: true)
        try Data("image".utf8).write(to: URL(fileURLWithPath: dir.path + "/slots/b/image"))
        try Data("1.1.0\n".utf8).write(to: URL(fileURLWithPath: dir.path + "/slots/b/version"))
        try backend.activate(slot: .b, version: "1.1.0", fromVersion: "1.0.0")
        try backend.reboot()
        let store = StateStore(path: dir.path + "/data/update/state.json")
        var state = UpdateState(phase: .activated)
        state.toVersion = "1.1.0"
        state.fromVersion = "1.0.0"
        state.targetSlot = "b"
        state.bootedSlot = "a"
        try store.save(state)
        let clock = SteppingClock(start: Timestamp(seconds: 1_800_000_000, nanoseconds: 0), step: wallStep)
        let probes = FailingProbes()
        let environment = AgentEnvironment(
            clock: clock, runner: ProcessRunner(), transport: CurlTransport(), system: LiveSystem(), backend: backend,
            store: store, reporter: SilentReporter(), probes: probes)
        let outcome = try HealthcheckRun(plan: Planner.plan(policy), policy: policy, environment: environment).run()
        guard case .failed = outcome else {
            Issue.record("expected a failed run, got \(outcome)")
            return -1
        }
        return probes.rounds
    }

    @Test func anNTPStepForwardDoesNotEndTheVerificationEarly() throws {
        let steady = try rounds(wallStep: .zero)
        #expect(steady == 6)
        #expect(try rounds(wallStep: .seconds(3600)) == steady)
    }

    @Test func anNTPStepBackwardDoesNotStretchTheVerification() throws {
        #expect(try rounds(wallStep: .seconds(-3600)) == 6)
    }
}
