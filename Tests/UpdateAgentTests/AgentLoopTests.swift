import Foundation
import Testing
import UpdatePlan
import UpdatePolicy

@testable import UpdateAgent

/// `updatectl agent`'s loop on the simulated node and a virtual clock: nobody runs a command,
/// and the node still ends verified or rolled back, in the time the plan prints.
@Suite struct AgentLoopTests {
    /// ExecutorTests' policy with 2m verification runs 3m apart and an hourly agent.
    static func policy(_ extra: String = "", rollbackAfter: Int = 3) -> String {
        ExecutorTests.policy(
            "  agent: {check_every: 1h, jitter: 10m}\n" + extra, rollbackAfter: rollbackAfter, timeout: "2m", retryEvery: "3m")
    }

    /// Runs the agent on `harness` until `stop` says so (or 400 events: a loop that never ends
    /// fails the test instead of hanging it); returns the events with the virtual time of each.
    static func run(
        _ harness: ExecutorHarness, stop: @escaping (AgentEvent) -> Bool
    ) -> [(at: Timestamp, event: AgentEvent)] {
        var events: [(Timestamp, AgentEvent)] = []
        var loop = AgentLoop(plan: harness.plan, policy: harness.setup.policy, policySHA256: nil, environment: harness.environment)
        loop.observe = { event in
            events.append((harness.setup.clock.now(), event))
            return stop(event) || events.count >= 400
        }
        loop.run()
        return events
    }

    /// A release that boots but never passes: the agent applies it, verifies every retry_every,
    /// rolls it back at the third failed run and reboots out of it, within the plan's bound.
    @Test func aBrokenReleaseThatBootsIsRolledBackWithoutAnOperator() throws {
        let harness = try ExecutorHarness(policy: Self.policy(), scenario: ExecutorTests.scenario("probes: {app: [fail]}"))
        let events = Self.run(harness) { event in
            if case .verified(.failed(_, true, _)) = event { return true }
            return false
        }
        let booted = try #require(
            events.first { if case .applied(.activated(_, true)) = $0.event { true } else { false } }?.at, "\(events)")
        let rolledBack = try #require(events.last?.at)
        guard case .verified(.failed(3, true, _)) = events.last?.event else {
            Issue.record("no rollback after 3 runs: \(events)")
            return
        }
        let bound = try #require(harness.plan.rollbackWithin)
        #expect(bound == .seconds(3 * 120 + 2 * 180))
        #expect(rolledBack - booted <= bound, "rolled back \(rolledBack - booted) after the boot; the plan says within \(bound)")
        // Once at the agent's start (nothing in flight: the boot is confirmed), then three runs.
        let verifications = events.filter { if case .verified = $0.event { true } else { false } }
        #expect(verifications.count == 4, "\(events)")
        #expect(try harness.state().phase == .rolledBack)
        // The reboot into the previous slot was asked for: the simulated node runs it.
        #expect(harness.setup.backend.bootedNow == .a)
        #expect(
            PlanText.render(harness.plan).contains(
                "rolled back by itself at most 12m after the agent starts on its boot (3 runs of at most 2m, 3m apart)"))
    }

    /// A good release: applied, verified and committed on the first run, and the fleet slot it
    /// held across the reboot given back, all by the agent.
    @Test func aGoodReleaseIsCommittedAndTheFleetSlotGivenBack() throws {
        let policy = Self.policy(
            """
              preflight:
                - fleet_lock: {engine: fleetlock, url: "https://fleetlock.example.com", group: edge}
            """)
        let harness = try ExecutorHarness(policy: policy, scenario: ExecutorTests.scenario())
        let events = Self.run(harness) { event in
            if case .verified(.success) = event { return true }
            return false
        }
        guard case .verified(.success("1.1.0")) = events.last?.event else {
            Issue.record("not committed: \(events)")
            return
        }
        #expect(try harness.state().phase == .success)
        #expect(harness.reported.contains("release.fleet_lock done"), "\(harness.reported)")
        #expect(try harness.environment.store.readSidecar().held.isEmpty)
    }

    /// Nothing to do: the agent confirms the boot, checks, and then waits a check interval
    /// (plus jitter) for the next check instead of polling.
    @Test func anUpToDateNodeWaitsForItsNextCheck() throws {
        let harness = try ExecutorHarness(
            policy: Self.policy(), scenario: ExecutorTests.scenario(release: "version: 1.0.0"))
        var checks = 0
        let events = Self.run(harness) { event in
            if case .applied = event { checks += 1 }
            return checks == 3
        }
        let times = events.compactMap { if case .applied(.upToDate) = $0.event { $0.at } else { nil } }
        #expect(times.count == 3, "\(events)")
        // 1h plus half of the 10m jitter (the simulated jitter is the middle), between checks.
        for (earlier, later) in zip(times, times.dropFirst()) { #expect(later - earlier == .seconds(3600 + 300)) }
    }

    /// A closed maintenance window is waited for, to the minute it opens, and the agent says so.
    @Test func aClosedWindowIsWaitedForNotPolled() throws {
        let harness = try ExecutorHarness(
            policy: Self.policy("  maintenance_window: \"02:00-03:00\""),
            scenario: ExecutorTests.scenario("start: \"2026-01-05T10:17:30Z\""))
        let events = Self.run(harness) { event in
            if case .applied = event { return true }
            return false
        }
        let waits = events.compactMap { if case .waiting(let until, let reason) = $0.event { (until, reason) } else { nil } }
        // The opening, plus the (simulated: half of 10m) jitter, so a fleet does not ask at one second.
        #expect(
            waits.contains {
                $0.0 == Timestamp.parse("2026-01-06T02:05:00Z")! && $0.1 == "the maintenance window opens at 2026-01-06T02:00:00Z"
            }, "\(waits)")
        guard case .applied(.activated("1.1.0", true)) = events.last?.event else {
            Issue.record("no update in the window: \(events)")
            return
        }
        // The only update check ran in the window (the event is told when the run has ended).
        let checks = events.filter { if case .applied = $0.event { true } else { false } }
        #expect(checks.count == 1, "\(checks)")
        let at = try #require(events.last?.at)
        #expect(at >= Timestamp.parse("2026-01-06T02:05:00Z")! && at < Timestamp.parse("2026-01-06T02:15:00Z")!, "\(at)")
    }

    /// A stop request ends a wait at once, and the loop returns.
    @Test func aStopRequestEndsTheLoop() throws {
        let harness = try ExecutorHarness(
            policy: Self.policy(), scenario: ExecutorTests.scenario(release: "version: 1.0.0"))
        let stop = StopFlag()
        var loop = AgentLoop(plan: harness.plan, policy: harness.setup.policy, policySHA256: nil, environment: harness.environment)
        var waits = 0
        loop.observe = { event in
            if case .waiting = event {
                waits += 1
                stop.set()
            }
            return waits > 5
        }
        loop.shouldStop = { stop.isSet }
        let start = harness.setup.clock.now()
        loop.run()
        #expect(waits == 1)
        #expect(harness.setup.clock.now() - start < .seconds(60))
    }
}

/// A flag set from one place and read from another.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

/// What an operator's trial of the agent found, each kept from coming back.
@Suite struct AgentLoopRecoveryTests {
    /// Right after a boot the probes may fail (services still starting): the agent confirms the
    /// boot later in the same boot instead of never (a GRUB that counts every boot would fall back).
    @Test func aBootThatIsNotConfirmedAtOnceIsConfirmedLater() throws {
        let harness = try ExecutorHarness(
            policy: AgentLoopTests.policy(),
            scenario: ExecutorTests.scenario("probes: {app: [fail, fail, pass]}", release: "version: 1.0.0"))
        let events = AgentLoopTests.run(harness) { event in
            if case .verified(.probedOnly(true)) = event { return true }
            return false
        }
        let probed = events.compactMap { if case .verified(.probedOnly(let passed)) = $0.event { passed } else { nil } }
        #expect(probed == [false, false, true], "\(events)")
        let waits = events.compactMap { if case .waiting(let until, let reason) = $0.event { (until, reason) } else { nil } }
        #expect(waits.filter { $0.1 == "the boot's next confirmation" }.count == 2, "\(waits)")
        // The update check did not wait for the confirmation.
        #expect(events.contains { if case .applied(.upToDate) = $0.event { true } else { false } }, "\(events)")
    }

    /// The failure that reached auto_rollback_after was saved but the rollback was not (a crash in
    /// between): the next run finishes the rollback instead of verifying again and refusing to
    /// commit a slot the bootloader no longer boots.
    @Test func anInterruptedAutomaticRollbackIsFinished() throws {
        let harness = try ExecutorHarness(policy: ExecutorTests.policy(rollbackAfter: 2), scenario: ExecutorTests.scenario())
        #expect(try harness.apply() == .activated(version: "1.1.0", rebooted: true))
        var state = try harness.state()
        state.healthCheckFailures = 2
        state.lastError = "no probe round passed in 1m"
        try harness.environment.store.save(state)
        try harness.setup.backend.rollback(to: .a, version: "1.0.0", fromVersion: "1.1.0")
        guard case .failed(2, true, _) = try harness.healthcheck() else {
            Issue.record("the rollback was not finished")
            return
        }
        #expect(try harness.state().phase == .rolledBack)
        #expect(try harness.environment.store.readSidecar().rollback(of: "1.1.0") != nil)
    }

    /// `rollback` of a staged release after a crash that activated it without the state saying
    /// so: the bootloader is pointed back at the running slot.
    @Test func aStagedRollbackPointsTheBootloaderBack() throws {
        let harness = try ExecutorHarness(
            policy: ExecutorTests.policy("  activation: separate"), scenario: ExecutorTests.scenario())
        #expect(try harness.apply() == .staged(version: "1.1.0"))
        try harness.setup.backend.activate(slot: .b, version: "1.1.0", fromVersion: "1.0.0")
        #expect(try harness.setup.backend.nextSlot() == .b)
        let outcome = try RollbackRun(policy: harness.setup.policy, environment: harness.environment).run()
        #expect(outcome == .rolledBack(slot: "a", rebooted: false, rebootNeeded: false))
        #expect(try harness.setup.backend.nextSlot() == .a)
    }
}
