import Foundation
import Testing
import UpdatePlan
import UpdatePolicy

@testable import UpdateAgent

/// `ApplyRun` and `HealthcheckRun` in process, on the simulated world (`ExecutorHarness`):
/// every operation's handler carries out its step (each step of the plan is reported with the
/// decision it should have), every failure code is recorded where it arises, and the state
/// machine moves as the lifecycle says.
@Suite struct ExecutorTests {
    static func policy(
        _ extra: String = "", rollbackAfter: Int = 2, reboot: String = "auto", timeout: String = "1m", retryEvery: String = "1m"
    ) -> String {
        """
        updates:
          server: https://updates.example.com
          public_key: ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=
          reboot: \(reboot)
          auto_rollback_after: \(rollbackAfter)
          kube_system_settle: 0
          healthcheck:
            interval: 10s
            timeout: \(timeout)
            retry_every: \(retryEvery)
            probes:
              - http: {name: app, url: "http://127.0.0.1:8080/health"}
        \(extra)
        """
    }

    static func scenario(_ extra: String = "", release: String = "version: 1.1.0") -> String {
        """
        scenario:
          running_version: 1.0.0
          release: {\(release)}
        \(extra.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        """
    }

    /// The decision every step of `part` was reported with, by step id.
    static func decisions(_ harness: ExecutorHarness, _ part: Part) -> [(String, String)] {
        let ids = Set(harness.plan.steps.filter { $0.part == part }.map(\.id))
        return harness.reported.compactMap { line in
            let words = line.split(separator: " ").map(String.init)
            return ids.contains(words[0]) ? (words[0], words[1]) : nil
        }
    }

    @Test func aGoodReleaseIsAppliedVerifiedAndCommitted() throws {
        let harness = try ExecutorHarness(policy: Self.policy(), scenario: Self.scenario())
        #expect(try harness.apply() == .activated(version: "1.1.0", rebooted: true))
        let applied = Self.decisions(harness, .apply)
        #expect(applied.map(\.0) == harness.plan.steps.filter { $0.part == .apply }.map(\.id), "\(applied)")
        #expect(
            Dictionary(applied, uniquingKeysWith: { $1 }) == [
                "check.metadata": "done", "check.signature": "pass", "check.version": "pass", "preflight.channel": "pass",
                "preflight.architecture": "pass", "preflight.min_compatible_version": "pass", "preflight.rollout_wave": "pass",
                "preflight.free_space": "pass",
                "preflight.node_not_blocked": "skip", "preflight.no_downgrade": "pass", "download.files": "done",
                "verify.files": "pass", "verify.signatures": "pass", "stage.slot": "done", "activate.slot": "done", "reboot.auto": "done",
            ])
        var state = try harness.state()
        #expect(state.phase == .activated && state.toVersion == "1.1.0" && state.attemptCount == 1 && state.lastError == nil)

        #expect(try harness.healthcheck() == .success(version: "1.1.0"))
        let verified = Self.decisions(harness, .postBoot)
        #expect(
            verified.map { "\($0.0) \($0.1)" } == [
                "boot.slot pass", "healthcheck.settle skip", "healthcheck.rounds pass",
                "healthcheck.probe.app pass", "healthcheck.probe.disk_writable pass",
                "healthcheck.commit done",
            ])
        state = try harness.state()
        #expect(state.phase == .success && state.lastFailureReason == nil && state.healthCheckFailures == 0)
        #expect(try harness.apply() == .upToDate(version: "1.1.0"))
    }

    /// Each failure where it arises: the step that fails, the code recorded in the outcome and in
    /// the state (`last_failure_reason`), the attempt failed.
    @Test(arguments: [
        ("release", "version: 1.1.0, signature: bad", "check.signature", RunFailure.Reason.signature),
        ("release", "version: 1.1.0, expires: '2020-01-01T00:00:00Z'", "check.signature", .metadata),
        ("download", "outcome: corrupt", "verify.files", .checksum),
        ("download", "outcome: larger", "download.files", .size),
        ("download", "outcome: interrupted", "download.files", .network),
        ("gates", "free_space: error", "preflight.free_space", .gate),
    ])
    func aFailureIsRecordedWithItsCode(key: String, value: String, step: String, reason: RunFailure.Reason) throws {
        let scenario = key == "release" ? Self.scenario(release: value) : Self.scenario("\(key): {\(value)}")
        let harness = try ExecutorHarness(policy: Self.policy(), scenario: scenario)
        let outcome = try harness.apply()
        guard case .failed(let failure) = outcome else {
            Issue.record("\(key): \(value) gave \(outcome)")
            return
        }
        #expect(failure.reason == reason && failure.message.hasPrefix("\(step): "), "\(failure)")
        let state = try harness.state()
        #expect(state.phase == .failed && state.lastFailureReason == reason.rawValue && state.lastError == failure.message)
        #expect(try harness.decisions()[step] == "fail")
    }

    /// The backend's failures: its download folder (disk), staging and activation (backend).
    @Test(arguments: [
        (FailingBackend.Operation.prepareFiles, "download.files", RunFailure.Reason.disk),
        (.stage, "stage.slot", .backend),
        (.activate, "activate.slot", .backend),
    ])
    func aBackendFailureIsRecordedWithItsCode(operation: FailingBackend.Operation, step: String, reason: RunFailure.Reason) throws {
        let harness = try ExecutorHarness(policy: Self.policy(), scenario: Self.scenario(), failing: [operation])
        guard case .failed(let failure) = try harness.apply() else {
            Issue.record("no failure")
            return
        }
        #expect(failure.reason == reason && failure.message.hasPrefix("\(step): ") && failure.message.contains("(scripted)"))
        let state = try harness.state()
        if operation == .activate {
            // Staged already: the release stays staged for the next run (or `activate`), and the
            // failure is recorded all the same.
            #expect(state.phase == .staged && state.lastFailureReason == reason.rawValue)
            #expect(state.lastError?.hasPrefix("\(step): ") == true)
        } else {
            #expect(state.phase == .failed && state.lastFailureReason == reason.rawValue)
        }
    }

    /// A fleet lock that cannot decide is a lock failure, not a gate's.
    @Test func aFleetLockThatCannotDecideIsALockFailure() throws {
        let policy = Self.policy(
            """
              preflight:
                - fleet_lock: {engine: fleetlock, url: "https://fleetlock.example.com", group: edge}
            """)
        let harness = try ExecutorHarness(policy: policy, scenario: Self.scenario("gates: {fleet_lock: error}"))
        guard case .failed(let failure) = try harness.apply() else {
            Issue.record("no failure")
            return
        }
        #expect(failure.reason == .lock && failure.message.hasPrefix("preflight.fleet_lock: "), "\(failure)")
    }

    /// An activated update whose reboot fails stays activated: the next boot verifies it.
    @Test func aFailedRebootLeavesTheUpdateActivated() throws {
        let harness = try ExecutorHarness(policy: Self.policy(), scenario: Self.scenario(), failing: [.reboot])
        guard case .failed(let failure) = try harness.apply() else {
            Issue.record("no failure")
            return
        }
        #expect(failure.reason == .backend && failure.message.hasPrefix("the update is activated but the reboot failed"))
        #expect(try harness.state().phase == .activated)
        #expect(harness.reported.last == "reboot.auto fail")
    }

    /// The last interrupted attempts stop apply until someone looks.
    @Test func repeatedInterruptionsStopTheRun() throws {
        let harness = try ExecutorHarness(policy: Self.policy(), scenario: Self.scenario())
        var state = UpdateState(phase: .failed)
        state.toVersion = "1.1.0"
        state.interruptedAttempts = ApplyRun.interruptionLimit
        try harness.environment.store.save(state, clock: harness.setup.clock)
        guard case .failed(let failure) = try harness.apply() else {
            Issue.record("no failure")
            return
        }
        #expect(failure.reason == .interrupted && failure.message.contains("attempts at 1.1.0 were interrupted"))
    }

    /// An attempt interrupted while downloading is recorded as such and started over.
    @Test func anInterruptedDownloadIsCountedAndStartedOver() throws {
        let harness = try ExecutorHarness(policy: Self.policy(), scenario: Self.scenario())
        var state = UpdateState(phase: .downloading)
        state.toVersion = "1.1.0"
        state.targetSlot = "b"
        try harness.environment.store.save(state, clock: harness.setup.clock)
        #expect(try harness.apply() == .activated(version: "1.1.0", rebooted: true))
        let saved = try harness.state()
        #expect(saved.interruptedAttempts == 1 && saved.phase == .activated)
        #expect(harness.setup.reporter.events.contains { $0.detail.hasPrefix("the previous attempt was interrupted in phase downloading") })
    }

    /// Probes that keep failing: each run is counted with the probe code; at the threshold the
    /// previous slot boots next and the node reboots into it.
    @Test func failingProbesRollBackAtTheThreshold() throws {
        let harness = try ExecutorHarness(policy: Self.policy(rollbackAfter: 2), scenario: Self.scenario("probes: {app: [fail]}"))
        #expect(try harness.apply() == .activated(version: "1.1.0", rebooted: true))
        guard case .failed(1, false, let first) = try harness.healthcheck() else {
            Issue.record("the first run was not counted")
            return
        }
        #expect(first.hasPrefix("no probe round passed in 1m"))
        var state = try harness.state()
        #expect(state.phase == .activated && state.healthCheckFailures == 1 && state.lastFailureReason == "probe")
        #expect(try harness.decisions()["healthcheck.rollback"] == "skip")
        #expect(try harness.decisions()["healthcheck.commit"] == nil)
        guard case .failed(2, true, let reason) = try harness.healthcheck() else {
            Issue.record("the second run did not roll back")
            return
        }
        #expect(reason.hasPrefix("rolled back to slot a after 2 consecutive failed verification runs"))
        state = try harness.state()
        #expect(state.phase == .rolledBack && state.lastFailureReason == "probe")
        #expect(try harness.setup.backend.nextSlot() == .a || harness.setup.backend.bootedNow == .a)
        #expect(try harness.decisions()["healthcheck.rollback"] == "done")
    }

    /// The node came up on the old slot: the fallback is recorded as a rollback, with the
    /// probe code, and nothing after the boot check runs.
    @Test func aBootloaderFallbackIsRecorded() throws {
        let harness = try ExecutorHarness(policy: Self.policy(), scenario: Self.scenario("boot: old"))
        #expect(try harness.apply() == .activated(version: "1.1.0", rebooted: true))
        guard case .fellBack(let message) = try harness.healthcheck() else {
            Issue.record("no fallback")
            return
        }
        #expect(message.contains("the bootloader fell back"))
        #expect(Self.decisions(harness, .postBoot).map { "\($0.0) \($0.1)" } == ["boot.slot fail"])
        #expect(try harness.state().phase == .rolledBack && harness.state().lastFailureReason == "probe")
    }

    /// A round passes but the backend cannot commit: the update stays unverified, nothing is
    /// counted.
    @Test func aFailedCommitKeepsTheUpdateInVerification() throws {
        let harness = try ExecutorHarness(policy: Self.policy(), scenario: Self.scenario(), failing: [.commit])
        #expect(try harness.apply() == .activated(version: "1.1.0", rebooted: true))
        guard case .refused(let message) = try harness.healthcheck() else {
            Issue.record("the commit did not fail")
            return
        }
        #expect(message.hasPrefix("the probes passed but the backend could not commit"))
        #expect(message.hasSuffix("the state stays verifying and the next run verifies again"), "\(message)")
        #expect(try harness.state().phase == .verifying)
        #expect(try harness.decisions()["healthcheck.commit"] == "fail")
    }

    /// A gate that says no defers the run: phase idle, the gate recorded, no attempt spent.
    @Test func aGateThatSaysNoDefers() throws {
        let harness = try ExecutorHarness(policy: Self.policy(), scenario: Self.scenario("gates: {free_space: block}"))
        #expect(try harness.apply() == .deferred(gate: "free_space", reason: "says no (scripted)"))
        let state = try harness.state()
        #expect(state.phase == .idle && state.attemptCount == 0 && state.deferral?.gate == "free_space")
    }

    /// A dry run and a check evaluate everything up to the download and write nothing.
    @Test func aDryRunAndACheckChangeNothing() throws {
        let harness = try ExecutorHarness(policy: Self.policy(), scenario: Self.scenario())
        #expect(try harness.apply(dryRun: true) == .dryRun(blockedBy: nil))
        #expect(try harness.apply(dryRun: true, checkOnly: true) == .available(version: "1.1.0", deferredBy: nil))
        guard case .missing = try harness.environment.store.read() else {
            Issue.record("a state file was written")
            return
        }
        #expect(Self.decisions(harness, .apply).contains { $0 == ("download.files", "skip") })
    }

    /// `activation: separate`: apply rests at staged; activate runs the activation steps the
    /// plan derives (the reboot included).
    @Test func aSeparateActivationRestsAtStaged() throws {
        let harness = try ExecutorHarness(policy: Self.policy("  activation: separate"), scenario: Self.scenario())
        #expect(try harness.apply() == .staged(version: "1.1.0"))
        #expect(try harness.state().phase == .staged)
        #expect(try harness.activate() == .activated(version: "1.1.0", rebooted: true))
        #expect(try harness.state().phase == .activated)
        #expect(harness.reported.suffix(2) == ["activate.slot done", "reboot.auto done"])
    }

    /// The handler table covers every operation: a plan of every kind and backend step, each
    /// operation handed to the handler of its part, and none of the other part's.
    @Test func everyOperationHasAHandlerInItsPart() throws {
        let harness = try ExecutorHarness(policy: Self.policy(), scenario: Self.scenario())
        let context = ApplyContext(
            run: ApplyRun(
                plan: harness.plan, policy: harness.setup.policy, policySHA256: nil,
                environment: harness.environment), lock: nil)
        for step in harness.plan.steps {
            let misplaced = context.handler(for: step.operation) is MisplacedStep
            #expect(misplaced == (step.part == .postBoot) || step.id.hasPrefix("release."), "\(step.id)")
        }
    }
}
