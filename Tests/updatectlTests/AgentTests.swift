import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `updatectl agent`, the real binary, against a real HTTP server on 127.0.0.1 and the directory
/// backend: nobody runs a command after starting it. Waits are virtual (`UPDATECTL_TEST_NOW`)
/// where the test is about the schedule, real where it is about signals.
@Suite(.serialized) struct AgentTests {
    /// The policy's verification and schedule, with one `http` probe on the test server.
    static func extra(_ server: TestServer, timeout: String, retryEvery: String) -> String {
        """
          kube_system_settle: 0
          healthcheck:
            timeout: \(timeout)
            interval: 1s
            retry_every: \(retryEvery)
            probes:
              - http: {name: app, url: "\(server.base)/healthz", timeout: 1s}
          agent: {check_every: 1h, jitter: 0s}

        """
    }

    func node(healthy: Bool, rollbackAfter: Int = 3, timeout: String = "2m") async throws -> (TestServer, TestNode) {
        let server = try await TestServer()
        let release = ReleaseFixture()
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(20_000))
        server.set("/healthz", body: Data(), status: healthy ? 200 : 503)
        let node = try TestNode()
        try node.writePolicy(
            server: server.base, publicKey: release.publicKeyText,
            extra: Self.extra(server, timeout: timeout, retryEvery: "1m"),
            autoRollbackAfter: rollbackAfter)
        return (server, node)
    }

    func agent(_ node: TestNode, until event: String, now: String = "2026-01-05T02:00:00Z") async throws -> CLI.Result {
        try await CLI.runAsync(
            ["agent", node.policyPath],
            environment: node.environment.merging(["UPDATECTL_TEST_NOW": now, "UPDATECTL_TEST_AGENT_UNTIL": event]) { $1 })
    }

    /// A release that boots with a failing probe: applied, verified every retry_every, rolled
    /// back at the third failed run and rebooted out of, with no command run by hand, within the
    /// time `plan` prints.
    @Test func aBrokenReleaseIsRolledBackByTheAgentAlone() async throws {
        let (server, node) = try await node(healthy: false)
        defer { Task { await server.stop() } }
        let plan = try await CLI.runAsync(["plan", node.policyPath])
        #expect(
            plan.stdout.contains(
                "an unverified release is rolled back by itself at most 8m after the agent starts on its boot (3 runs of at most 2m, 1m apart)"
            ), "\(plan.stdout)")
        let result = try await agent(node, until: "rolled_back")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let events = result.stdout.split(separator: "\n").filter { $0.hasPrefix("agent event: ") }.map { $0.dropFirst(13) }
        #expect(
            events == [
                "probed", "activated", "waiting", "verification_failed", "waiting", "verification_failed", "waiting",
                "rolled_back",
            ],
            "\(result.stdout)")
        #expect(try node.state()["phase"] as? String == "rolled_back")
        // The reboot into the previous slot was carried out by the agent.
        #expect(node.marker("booted") == "a" && node.marker("next") == "a")
        // The rollback came 3 runs of at most 2m and 2 waits of 1m after the boot, as planned.
        let lines = result.stdout.split(separator: "\n").map(String.init)
        func time(after marker: String) -> Date? {
            guard let index = lines.firstIndex(where: { $0.contains(marker) }) else { return nil }
            for line in lines[index...] where line.hasPrefix("note: agent ") {
                let stamp = line.dropFirst("note: agent ".count).prefix(20)
                return ISO8601DateFormatter().date(from: String(stamp))
            }
            return nil
        }
        let booted = try #require(time(after: "agent event: activated"), "\(result.stdout)")
        // The second failed run ends at most 6m after the boot; the third, which rolls back, takes at most 2m more.
        let secondFailure = try #require(time(after: "2 consecutive failed runs"), "\(result.stdout)")
        #expect(secondFailure.timeIntervalSince(booted) <= 6 * 60, "\(booted) → \(secondFailure)")
        #expect(result.stdout.contains("healthcheck.rollback             done  3 consecutive failed runs: slot a boots next"))
    }

    /// A good release: the agent applies it, verifies it after the reboot and commits it.
    @Test func aGoodReleaseIsCommittedByTheAgentAlone() async throws {
        let (server, node) = try await node(healthy: true)
        defer { Task { await server.stop() } }
        let result = try await agent(node, until: "committed")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(try node.state()["phase"] as? String == "success")
        #expect(node.marker("booted") == "b" && node.marker("committed") == "b")
    }

    /// SIGTERM while the agent waits for its next check ends it at once with exit 0; SIGTERM in
    /// the middle of a verification run lets the run finish, and the next agent goes on from the
    /// saved state to the rollback.
    @Test func sigtermLosesNothing() async throws {
        let (server, node) = try await node(healthy: false, rollbackAfter: 2, timeout: "3s")
        defer { Task { await server.stop() } }
        /// The server offers `version`, signed with a new key the policy names.
        func offer(_ version: String, size: Int) throws {
            let release = ReleaseFixture()
            try release.publish(server, version: version, image: ReleaseFixture.image(size))
            try node.writePolicy(
                server: server.base, publicKey: release.publicKeyText, extra: Self.extra(server, timeout: "3s", retryEvery: "1s"),
                autoRollbackAfter: 2)
        }
        // Up to date first: nothing offered but the running version.
        try offer("1.0.0", size: 2_000)
        // The real clock: these waits take real time, and a signal comes in the middle of one.
        let realTime = node.environment.filter { $0.key != "UPDATECTL_TEST_NOW" }
        var waiting = try BackgroundProcess(["agent", node.policyPath], environment: realTime, withStandardOutput: true)
        #expect(await waiting.reached("agent event: waiting"), "\(waiting.stderr)")
        let asked = Date()
        kill(waiting.process.processIdentifier, SIGTERM)
        #expect(waiting.wait() == 0, "\(waiting.stderr)")
        #expect(Date().timeIntervalSince(asked) < 30, "a waiting agent stops at once")
        #expect(waiting.stderr.contains("stopping (asked to)"), "\(waiting.stderr)")
        #expect(try node.state()["phase"] as? String == "idle")

        // 1.1.0 is offered, boots and fails: SIGTERM during its first verification run.
        try offer("1.1.0", size: 20_000)
        waiting = try BackgroundProcess(["agent", node.policyPath], environment: realTime, withStandardOutput: true)
        #expect(await waiting.reached("agent event: activated"), "\(waiting.stderr)")
        #expect(await waiting.reached("round 1 at"), "\(waiting.stderr)")
        kill(waiting.process.processIdentifier, SIGTERM)
        #expect(waiting.wait() == 0, "\(waiting.stderr)")
        // The run in progress was finished and saved: one failure counted, nothing half-done.
        let state = try node.state()
        #expect(state["phase"] as? String == "activated" && state["health_check_failures"] as? Int == 1, "\(state)")
        let again = try await agent(node, until: "rolled_back")
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(try node.state()["phase"] as? String == "rolled_back")
        #expect(node.marker("booted") == "a")
    }

    /// SIGTERM while an update check is in its gates (phase `checking`): the run goes on to the
    /// end (downloaded, staged, activated, rebooted), is saved, and the agent exits 0; the next
    /// agent verifies and commits from there.
    @Test func sigtermDuringAnUpdateCheckFinishesTheRun() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let release = ReleaseFixture()
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(20_000))
        server.set("/healthz", body: Data(), status: 200)
        let node = try TestNode()
        try node.writePolicy(
            server: server.base, publicKey: release.publicKeyText,
            preflight: "    - free_space: {headroom: 10%}\n    - exec: {name: slow, command: [/bin/sleep, \"2\"]}\n",
            extra: Self.extra(server, timeout: "1m", retryEvery: "1s"))
        let realTime = node.environment.filter { $0.key != "UPDATECTL_TEST_NOW" }
        let running = try BackgroundProcess(["agent", node.policyPath], environment: realTime, withStandardOutput: true)
        // Up to 60 s for a loaded machine; the gate's sleep keeps the phase `checking` for 2 s.
        let statePath = node.statePath
        let checking = try await onOwnThread {
            for _ in 0..<6000 {
                if let data = FileManager.default.contents(atPath: statePath),
                    String(decoding: data, as: UTF8.self).contains("\"phase\": \"checking\"")
                {
                    return true
                }
                usleep(10_000)
            }
            return false
        }
        #expect(checking, "\(running.stderr)")
        kill(running.process.processIdentifier, SIGTERM)
        #expect(running.wait() == 0, "\(running.stderr)")
        #expect(running.stderr.contains("agent event: activated"), "\(running.stderr)")
        #expect(try node.state()["phase"] as? String == "activated")
        #expect(node.marker("booted") == "b")
        let again = try await agent(node, until: "committed")
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(try node.state()["phase"] as? String == "success")
    }
}
