import Foundation
import Testing
import UpdatePlan

@testable import UpdateAgent

/// KubeSolo OS's Go agent's state package (Fixtures/upstream/state/state.go, its upstream source
/// unchanged), compiled with Debian's Go into a small command, writing and reading the same
/// state files as updatectl.
enum GoAgent {
    static let go = TestComponents.program("go")
    static let fixture = Paths.tests.appendingPathComponent("Fixtures/upstream")

    /// The built command, once per test run; nil without Go (the tests that need it are skipped).
    static let binary: String? = {
        guard let go else { return nil }
        guard let directory = try? TemporaryDirectory() else { return nil }
        let work = directory.url.appendingPathComponent("src")
        try? FileManager.default.copyItem(at: fixture, to: work)
        let output = directory.url.appendingPathComponent("gostate").path
        let home = directory.url.path
        let built = try? CLI.runProgram(
            go, ["build", "-o", output, "."],
            environment: [
                "HOME": home, "GOPATH": home + "/gopath", "GOCACHE": home + "/cache", "GOFLAGS": "-mod=mod", "GOPROXY": "off",
                "GO111MODULE": "on", "CGO_ENABLED": "0",
            ], directory: work)
        guard built?.status == 0 else { return nil }
        // Kept for the whole run: the temporary directory object is leaked on purpose.
        _ = Unmanaged.passRetained(directory)
        return output
    }()

    @discardableResult
    static func run(_ arguments: [String]) throws -> CLI.Result {
        let binary = try #require(binary, "the Go agent's state package did not build")
        return try CLI.runProgram(binary, arguments)
    }

    /// What the Go agent reads from `path`.
    static func load(_ path: String) throws -> [String: Any] {
        let result = try run(["load", path])
        #expect(result.status == 0, "\(result.stderr)")
        return try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }
}

@Suite(.serialized) struct GoAgentStateTests {
    static let available = GoAgent.go != nil

    /// The fixture is upstream's file: when the reference copy is at hand, they are the same.
    @Test func theFixtureIsUpstreamsStatePackage() throws {
        let reference = Paths.root.deletingLastPathComponent().appendingPathComponent("shared/reference/kubesolo-update-state.go.txt")
        guard let text = try? String(contentsOf: reference, encoding: .utf8), let start = text.range(of: "// Package state") else {
            return
        }
        let fixture = try String(contentsOf: GoAgent.fixture.appendingPathComponent("state/state.go"), encoding: .utf8)
        #expect(fixture == String(text[start.lowerBound...]))
    }

    /// updatectl's file in every phase, read by the Go agent; rewritten by it, read by updatectl.
    @Test(.enabled(if: available), arguments: Phase.allCases)
    func updatectlsFileInEveryPhaseReadsBothWays(phase: Phase) throws {
        let directory = try TemporaryDirectory()
        let path = directory.url.appendingPathComponent("update/state.json").path
        let store = StateStore(path: path)
        var state = UpdateState(phase: phase)
        state.fromVersion = "v0.2.0"
        state.toVersion = "v0.3.0"
        state.attemptCount = 2
        state.healthCheckFailures = phase == .activated ? 1 : 0
        state.lastError = phase == .failed || phase == .rolledBack ? "download: sha256 mismatch" : nil
        state.startedAt = Timestamp.parse("2026-11-26T02:00:00.123456789Z")
        state.targetSlot = "b"
        state.bootedSlot = "a"
        state.interruptedAttempts = 1
        try store.save(state, clock: FixedWallClock(Timestamp.parse("2026-11-26T02:05:00Z")!))

        let read = try GoAgent.load(path)
        #expect(read["phase"] as? String == phase.rawValue)
        #expect(read["from_version"] as? String == "v0.2.0" && read["to_version"] as? String == "v0.3.0")
        #expect(read["attempt_count"] as? Int == 2)
        #expect(read["started_at"] as? String == "2026-11-26T02:00:00.123456789Z")
        #expect((read["last_error"] as? String) == state.lastError)

        #expect(try GoAgent.run(["save", path]).status == 0)
        guard case .state(let back) = try store.read() else {
            Issue.record("updatectl cannot read the Go agent's file")
            return
        }
        #expect(back.phase == phase && back.toVersion == "v0.3.0" && back.fromVersion == "v0.2.0" && back.attemptCount == 2)
        #expect(back.targetSlot == nil && back.interruptedAttempts == 0, "the Go agent drops updatectl's keys")
    }

    /// The Go agent's transitions, read by `updatectl status`.
    @Test(.enabled(if: available))
    func theGoAgentsTransitionsReadInUpdatectl() throws {
        let directory = try TemporaryDirectory()
        let path = directory.url.appendingPathComponent("state.json").path
        for (phase, to) in [
            ("checking", "v0.3.0"), ("downloading", ""), ("staged", ""), ("activated", ""), ("verifying", ""),
            ("success", ""), ("idle", ""), ("checking", "v0.4.0"), ("failed", ""),
        ] {
            #expect(try GoAgent.run(["transition", path, phase, to, phase == "failed" ? "download failed" : ""]).status == 0)
            let status = try CLI.run(["status", "--json", "--state", path])
            #expect(status.status == 0, "\(status.stderr)")
            let object = try #require(JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
            let state = try #require(object["state"] as? [String: Any])
            #expect(state["phase"] as? String == phase)
        }
        let final = try GoAgent.load(path)
        #expect(final["to_version"] as? String == "v0.4.0" && final["attempt_count"] as? Int == 1)
        #expect(final["last_error"] as? String == "download failed")
    }
}

/// The Go agent and updatectl taking turns on one node (the directory backend): whatever the Go
/// agent erases, the slots come from the node, the safety facts survive, and nothing loops.
@Suite(.serialized) struct GoAgentAlternationTests {
    static let available = GoAgent.go != nil

    func node(reboot: String = "auto", extra: String = "") async throws -> (TestServer, ReleaseFixture, TestNode) {
        let server = try await TestServer()
        let release = ReleaseFixture()
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(2000))
        server.set("/healthz", body: Data("ok".utf8))
        let node = try TestNode()
        try node.writePolicy(
            server: server.base, publicKey: release.publicKeyText, reboot: reboot,
            extra: "  kube_system_settle: 0\n  healthcheck: {timeout: 1m, probes: [{http: {name: app, url: \"\(server.base)/healthz\"}}]}\n"
                + extra)
        return (server, release, node)
    }

    /// What a Go `Save` leaves, and with `sidecar: false` not even updatectl's sidecar.
    func goRewrites(_ node: TestNode, sidecar keep: Bool) throws {
        #expect(try GoAgent.run(["save", node.statePath]).status == 0)
        let state = try node.state()
        #expect(state["target_slot"] == nil && state["activation_boot_id"] == nil, "the Go agent dropped updatectl's keys")
        if !keep { try? FileManager.default.removeItem(atPath: node.data + "/update/updatectl.json") }
    }

    @Test(.enabled(if: available), arguments: [true, false])
    func aGoRewrittenActivationIsVerifiedAndCommitted(keepSidecar: Bool) async throws {
        let (server, _, node) = try await node()
        defer { Task { await server.stop() } }
        #expect(try await node.apply().status == 0)
        try goRewrites(node, sidecar: keepSidecar)
        let verified = try await node.healthcheck()
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        #expect(verified.stdout.contains("boot.slot                        pass  the node runs the new slot b"))
        #expect(node.marker("committed") == "b")
        #expect(try node.state()["phase"] as? String == "success")
    }

    /// A bootloader fallback after the Go agent rewrote the state, with no updatectl-only state
    /// at all: the node runs the old version on the old slot, so it is a rollback, not a success.
    @Test(.enabled(if: available))
    func aFallbackIsDetectedWithoutUpdatectlsKeys() async throws {
        let (server, _, node) = try await node()
        defer { Task { await server.stop() } }
        #expect(try await node.apply().status == 0)
        try goRewrites(node, sidecar: false)
        // The bootloader gave up on b: it boots a, and a boots next.
        try "a\n".write(toFile: node.slots + "/booted", atomically: true, encoding: .utf8)
        try "a\n".write(toFile: node.slots + "/next", atomically: true, encoding: .utf8)
        let result = try await node.healthcheck()
        #expect(result.status == 1)
        #expect(result.stderr.contains("the node booted slot a (1.0.0), not the new slot b: the bootloader fell back"), "\(result.stderr)")
        #expect(try node.state()["phase"] as? String == "rolled_back")
        #expect(node.marker("committed") == "a", "nothing was committed")
    }

    /// Activated by the Go agent, not rebooted yet: said so, nothing changed.
    @Test(.enabled(if: available))
    func aGoActivationBeforeItsRebootIsNotJudged() async throws {
        let (server, _, node) = try await node(reboot: "manual")
        defer { Task { await server.stop() } }
        #expect(try await node.apply().status == 0)
        try goRewrites(node, sidecar: false)
        let result = try await node.healthcheck()
        #expect(result.status == 1)
        #expect(result.stderr.contains("has not rebooted since 1.1.0 was activated (the bootloader boots slot b next)"), "\(result.stderr)")
        #expect(try node.state()["phase"] as? String == "activated")
    }

    /// A manual rollback after the Go agent rewrote the state goes to the slot that runs the old
    /// version, not to "slot a by default".
    @Test(.enabled(if: available))
    func aManualRollbackAfterAGoRewriteGoesToThePreviousSlot() async throws {
        let (server, release, node) = try await node()
        defer { Task { await server.stop() } }
        #expect(try await node.apply().status == 0)
        #expect(try await node.healthcheck().status == 0)
        try release.publish(server, version: "1.2.0", image: ReleaseFixture.image(2000, seed: 3))
        #expect(try await node.apply().status == 0)
        #expect(node.marker("booted") == "a", "1.2.0 went to slot a")
        try goRewrites(node, sidecar: false)
        let rolled = try await node.run("rollback")
        #expect(rolled.status == 0, "\(rolled.stdout)\(rolled.stderr)")
        #expect(node.marker("next") == "b" && node.marker("booted") == "b", "back to slot b, which runs 1.1.0")
    }

    /// The Go agent's `apply` stops at staged: updatectl continues from there.
    @Test(.enabled(if: available))
    func aGoStagedReleaseIsContinuedFrom() async throws {
        let (server, _, node) = try await node(extra: "  activation: separate\n")
        defer { Task { await server.stop() } }
        // What the Go agent did: the files in the passive slot, the state in staged.
        let slot = URL(fileURLWithPath: node.slots).appendingPathComponent("b")
        try FileManager.default.createDirectory(at: slot, withIntermediateDirectories: true)
        try ReleaseFixture.image(2000).write(to: slot.appendingPathComponent("image"))
        try Data("1.1.0\n".utf8).write(to: slot.appendingPathComponent("version"))
        for (phase, to) in [("checking", "1.1.0"), ("downloading", ""), ("staged", "")] {
            #expect(try GoAgent.run(["transition", node.statePath, phase, to]).status == 0)
        }
        #expect(try GoAgent.run(["from", node.statePath, "1.0.0"]).status == 0)
        let again = try await node.apply()
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("1.1.0 is staged already in slot b"))
        #expect(!server.requests.contains("/stable/images/os-1.1.0.img"), "not downloaded again")
        let activated = try await node.run("activate")
        #expect(activated.status == 0, "\(activated.stdout)\(activated.stderr)")
        #expect(try await node.healthcheck().status == 0)
        #expect(try node.state()["phase"] as? String == "success")
    }

    /// Interruptions are counted in the sidecar, so a Go rewrite in between cannot make a loop of
    /// them endless.
    @Test(.enabled(if: available))
    func interruptionsSurviveGoRewrites() async throws {
        let (server, _, node) = try await node()
        defer { Task { await server.stop() } }
        for round in 1...3 {
            let process = try BackgroundProcess(
                ["apply", node.policyPath],
                environment: node.environment.merging(["UPDATECTL_TEST_PAUSE": "state.downloading"]) { $1 })
            #expect(await process.reached("paused at state.downloading"), "\(process.stderr)")
            process.kill()
            if round > 1 { #expect(try GoAgent.run(["save", node.statePath]).status == 0) }
        }
        // The third interrupted attempt is counted by the run that finds it.
        let blocked = try await node.apply()
        #expect(blocked.status == 1)
        #expect(blocked.stderr.contains("the last 3 attempts at 1.1.0 were interrupted"), "\(blocked.stdout)\(blocked.stderr)")
        let reset = try await CLI.runAsync(["state", "reset", "--yes", "--state", node.statePath], environment: node.environment)
        #expect(reset.status == 0, "\(reset.stdout)\(reset.stderr)")
        #expect(try await node.apply().status == 0, "a reset lets it try again")
    }

    /// Attempt counting: the Go agent counts when a run leaves idle, updatectl when a download
    /// starts; both reset at a new version. A Go-failed attempt counts toward max_attempts once.
    @Test(.enabled(if: available))
    func attemptsOfBothAgentsAddUpWithoutLooping() async throws {
        let (server, release, node) = try await node(extra: "")
        defer { Task { await server.stop() } }
        try node.writePolicy(
            server: server.base, publicKey: release.publicKeyText,
            preflight: "    - max_attempts: 2\n", extra: "  kube_system_settle: 0\n")
        for (phase, to, message) in [("checking", "1.1.0", ""), ("downloading", "", ""), ("failed", "", "download failed")] {
            #expect(try GoAgent.run(["transition", node.statePath, phase, to, message]).status == 0)
        }
        #expect(try node.state()["attempt_count"] as? Int == 1)
        server.set("/stable/images/os-1.1.0.img", body: ReleaseFixture.image(2000, seed: 9))
        let failed = try await node.apply()
        #expect(failed.status == 1, "a corrupt image: \(failed.stdout)")
        #expect(try node.state()["attempt_count"] as? Int == 2)
        let deferred = try await node.apply()
        #expect(deferred.status == 3, "two attempts at 1.1.0 were made: \(deferred.stdout)\(deferred.stderr)")
        // A new version starts counting again, in both agents.
        try release.publish(server, version: "1.2.0", image: ReleaseFixture.image(2000, seed: 4))
        let next = try await node.apply()
        #expect(next.status == 0, "\(next.stdout)\(next.stderr)")
        #expect(try node.state()["attempt_count"] as? Int == 1)
    }
}
