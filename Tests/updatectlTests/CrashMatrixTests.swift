import Foundation
import Testing

/// For every persisted step of apply, healthcheck and rollback: SIGKILL the real process there,
/// check the state file and the slots, start it again, and check that it resumes or fails clearly.
@Suite(.serialized) struct CrashMatrixTests {
    func node(healthy: Bool = true, autoRollbackAfter: Int = 3, reboot: String = "auto") async throws -> (TestServer, TestNode) {
        let server = try await TestServer()
        let release = ReleaseFixture()
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(20_000))
        server.set("/healthz", body: Data(), status: healthy ? 200 : 503)
        let node = try TestNode()
        try node.writePolicy(
            server: server.base, publicKey: release.publicKeyText, reboot: reboot,
            extra: "  healthcheck:\n    timeout: 1m\n    probes:\n      - http: {name: app, url: \"\(server.base)/healthz\"}\n",
            autoRollbackAfter: autoRollbackAfter)
        return (server, node)
    }

    /// Starts `command`, waits until it stops at `point`, and kills it. The waiting happens on a
    /// Dispatch thread, so the in-process test server keeps answering on the cooperative pool.
    func kill(_ node: TestNode, _ command: String, at point: String) async throws {
        let process = try BackgroundProcess(
            [command, node.policyPath],
            environment: node.environment.merging(["UPDATECTL_TEST_PAUSE": point]) { $1 })
        let reached = await process.reached("paused at \(point)")
        #expect(reached, "never reached \(point): \(process.stderr)")
        process.kill()
    }

    /// The state file parses and names a phase.
    func phase(_ node: TestNode) throws -> String {
        let phase = try #require(try node.state()["phase"] as? String)
        return phase
    }

    @Test func applyKilledMidDownloadStartsOver() async throws {
        let (server, node) = try await node()
        defer { Task { await server.stop() } }
        try await kill(node, "apply", at: "state.downloading")
        #expect(try phase(node) == "downloading")
        #expect(node.marker("booted") == "a" && node.marker("next") == "a")
        let again = try await node.apply()
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("interrupted in phase downloading; starting over"))
        #expect(node.marker("booted") == "b")
        #expect(try node.state()["attempt_count"] as? Int == 2)
    }

    @Test func applyKilledBetweenActivationAndItsSaveDoesNotBootAHalfRecordedSlot() async throws {
        let (server, node) = try await node()
        defer { Task { await server.stop() } }
        try await kill(node, "apply", at: "apply.activated-unsaved")
        #expect(try phase(node) == "staged")
        #expect(node.marker("booted") == "a")
        let again = try await node.apply()
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(try phase(node) == "activated")
        #expect(node.marker("booted") == "b")
    }

    @Test func applyKilledBeforeItsRebootRebootsOnTheNextRun() async throws {
        let (server, node) = try await node()
        defer { Task { await server.stop() } }
        try await kill(node, "apply", at: "state.activated")
        #expect(try phase(node) == "activated")
        #expect(node.marker("booted") == "a" && node.marker("next") == "b")
        // A healthcheck in the same boot knows the node has not rebooted yet.
        let early = try await node.healthcheck()
        #expect(early.status == 1)
        #expect(early.stderr.contains("has not rebooted since 1.1.0 was activated"))
        #expect(try phase(node) == "activated")
        let again = try await node.apply()
        #expect(again.status == 0)
        #expect(again.stdout.contains("has not rebooted since; rebooting now"))
        #expect(node.marker("booted") == "b")
        #expect(try await node.healthcheck().status == 0)
    }

    @Test func healthcheckKilledWhileVerifyingRunsAgain() async throws {
        let (server, node) = try await node()
        defer { Task { await server.stop() } }
        #expect(try await node.apply().status == 0)
        try await kill(node, "healthcheck", at: "state.verifying")
        #expect(try phase(node) == "verifying")
        let again = try await node.healthcheck()
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("the previous verification run was interrupted"))
        #expect(try phase(node) == "success")
    }

    @Test func healthcheckKilledAfterCountingAFailureKeepsTheCount() async throws {
        let (server, node) = try await node(healthy: false)
        defer { Task { await server.stop() } }
        #expect(try await node.apply().status == 0)
        try await kill(node, "healthcheck", at: "state.activated")
        #expect(try phase(node) == "activated")
        #expect(try node.state()["health_check_failures"] as? Int == 1)
        #expect(try await node.healthcheck().status == 1)
        #expect(try node.state()["health_check_failures"] as? Int == 2)
    }

    @Test func healthcheckKilledMidRollbackFinishesTheRollback() async throws {
        let (server, node) = try await node(healthy: false, autoRollbackAfter: 1)
        defer { Task { await server.stop() } }
        #expect(try await node.apply().status == 0)
        try await kill(node, "healthcheck", at: "healthcheck.rollback-unsaved")
        // The backend already points back at a, the state still says activated: both are safe.
        #expect(try phase(node) == "activated")
        #expect(node.marker("next") == "a")
        let again = try await node.healthcheck()
        #expect(again.status == 1)
        #expect(try phase(node) == "rolled_back")
        #expect(node.marker("booted") == "a")
    }

    @Test func rollbackKilledBeforeItsSaveRollsBackAgain() async throws {
        let (server, node) = try await node()
        defer { Task { await server.stop() } }
        #expect(try await node.apply().status == 0)
        try await kill(node, "rollback", at: "rollback.unsaved")
        #expect(try phase(node) == "activated")
        let again = try await node.run("rollback")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try phase(node) == "rolled_back")
        #expect(node.marker("booted") == "a")
    }

    /// The backend moved the image into slot b but the run died before saving `staged`: the next
    /// run starts over (the half-recorded slot is never activated) and completes.
    @Test func applyKilledBetweenStageAndItsSaveStartsOver() async throws {
        let (server, node) = try await node()
        defer { Task { await server.stop() } }
        try await kill(node, "apply", at: "apply.staged-unsaved")
        #expect(try phase(node) == "downloading")
        #expect(node.marker("next") == "a")
        let again = try await node.apply()
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("interrupted in phase downloading; starting over"))
        #expect(node.marker("booted") == "b" && node.marker("b/version") == "1.1.0")
        #expect(!FileManager.default.fileExists(atPath: node.slots + "/b/invalid"))
    }

    /// The backend committed the slot but the run died before saving `success`: the next run
    /// verifies again and records the success.
    @Test func healthcheckKilledBetweenCommitAndSuccessVerifiesAgain() async throws {
        let (server, node) = try await node()
        defer { Task { await server.stop() } }
        #expect(try await node.apply().status == 0)
        try await kill(node, "healthcheck", at: "healthcheck.committed-unsaved")
        #expect(try phase(node) == "verifying")
        #expect(node.marker("committed") == "b")
        let again = try await node.healthcheck()
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(try phase(node) == "success")
    }

    /// The rollback was saved but the node was not rebooted yet: the next apply reboots it into
    /// the previous slot instead of calling the bad version "up to date".
    @Test func healthcheckKilledBetweenTheRollbackSaveAndTheReboot() async throws {
        let (server, node) = try await node(healthy: false, autoRollbackAfter: 1)
        defer { Task { await server.stop() } }
        #expect(try await node.apply().status == 0)
        try await kill(node, "healthcheck", at: "state.rolled_back")
        #expect(try phase(node) == "rolled_back")
        #expect(node.marker("booted") == "b" && node.marker("next") == "a")
        let again = try await node.apply()
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("was rolled back, but the node still runs it; rebooting into slot a now"))
        #expect(node.marker("booted") == "a")
        // The rolled-back version stays held back on the next timer run.
        let next = try await node.apply()
        #expect(next.status == 3, "\(next.stdout)")
        #expect(next.stdout.contains("1.1.0 was rolled back at"))
    }

    @Test func aLoopOfCrashesEndsAfterABoundedNumberOfTries() async throws {
        let (server, node) = try await node()
        defer { Task { await server.stop() } }
        for _ in 0..<3 { try await kill(node, "apply", at: "state.downloading") }
        let stopped = try await node.apply()
        #expect(stopped.status == 1)
        #expect(stopped.stderr.contains("the last 3 attempts at 1.1.0 were interrupted"))
        #expect(try phase(node) == "failed")
        #expect(node.marker("booted") == "a" && node.marker("next") == "a")
        // Still stopped on the next run, until someone resets.
        #expect(try await node.apply().status == 1)
        #expect(try await CLI.runAsync(["state", "reset", "--yes", node.policyPath]).status == 0)
        #expect(try await node.apply().status == 0)
        #expect(node.marker("booted") == "b")
    }
}
