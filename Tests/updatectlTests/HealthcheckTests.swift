import Foundation
import Testing

@Suite(.serialized) struct HealthcheckTests {
    /// A node that applied 1.1.0 and rebooted into slot b, with an http probe on the test server.
    func activated(
        healthcheck: String =
            "  healthcheck:\n    timeout: 1m\n    interval: 10s\n    probes:\n      - http: {name: app, url: \"SERVER/healthz\"}\n",
        autoRollbackAfter: Int = 3, healthy: Bool = true
    ) async throws -> (TestServer, TestNode) {
        let server = try await TestServer()
        let release = ReleaseFixture()
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(4000))
        server.set("/healthz", body: Data("ok".utf8), status: healthy ? 200 : 503)
        let node = try TestNode()
        try node.writePolicy(
            server: server.base, publicKey: release.publicKeyText,
            extra: healthcheck.replacingOccurrences(of: "SERVER", with: server.base),
            autoRollbackAfter: autoRollbackAfter)
        let applied = try await node.apply()
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(node.marker("booted") == "b")
        return (server, node)
    }

    /// The `[n/total]` counters of a run's output, in order.
    static func counters(_ output: String) -> [(number: Int, total: Int)] {
        output.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("["), let close = line.firstIndex(of: "]") else { return nil }
            let parts = line[line.index(after: line.startIndex)..<close].split(separator: "/")
            guard parts.count == 2, let number = Int(parts[0].trimmingCharacters(in: .whitespaces)), let total = Int(parts[1]) else {
                return nil
            }
            return (number, total)
        }
    }

    /// Every counter of a run numbers the steps shown, 1, 2, 3… without gaps, out of as many.
    static func expectGapless(_ result: CLI.Result, sourceLocation: SourceLocation = #_sourceLocation) {
        let counters = counters(result.stdout)
        #expect(!counters.isEmpty, "\(result.stdout)", sourceLocation: sourceLocation)
        #expect(counters.map(\.number) == Array(1...max(1, counters.count)), "\(result.stdout)", sourceLocation: sourceLocation)
        #expect(counters.allSatisfy { $0.total == counters.count }, "\(result.stdout)", sourceLocation: sourceLocation)
    }

    /// The counter numbers the steps a run shows out of the steps it shows when it goes through:
    /// `check` ends before the download; a dry run and a real run show every apply step.
    @Test(arguments: [["check"], ["apply", "--dry-run"], ["apply"]])
    func theApplyCounterCountsTheStepsShown(command: [String]) async throws {
        let (server, _, node) = try await TestNode.offered()
        defer { Task { await server.stop() } }
        let result = try await node.run(command[0], Array(command.dropFirst()))
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        Self.expectGapless(result)
    }

    /// `activate` (after `activation: separate` staged a release) counts the activation's steps.
    @Test func theActivationCounterCountsItsOwnSteps() async throws {
        let (server, _, node) = try await TestNode.offered(extra: "  activation: separate\n")
        defer { Task { await server.stop() } }
        let staged = try await node.apply()
        #expect(staged.status == 0, "\(staged.stdout)\(staged.stderr)")
        let activated = try await node.run("activate")
        #expect(activated.status == 0, "\(activated.stdout)\(activated.stderr)")
        Self.expectGapless(activated)
    }

    /// A verification run shows one verdict: the failure (with how far it is from a rollback),
    /// then the rollback that the third failure makes.
    @Test func theVerificationCounterCountsTheStepsShown() async throws {
        let (server, node) = try await activated(healthy: false)
        defer { Task { await server.stop() } }
        for run in 1...3 {
            let result = try await node.healthcheck()
            #expect(result.status == 1)
            Self.expectGapless(result)
            let last = result.stdout.split(separator: "\n").last { $0.hasPrefix("[") } ?? ""
            #expect(
                last.hasSuffix(
                    run < 3
                        ? "fail  \(run) consecutive failed run\(run == 1 ? "" : "s"); an automatic rollback at 3"
                        : "done  3 consecutive failed runs: slot a boots next"), "\(result.stdout)")
        }
    }

    @Test func successOnTheFirstRunCommits() async throws {
        let (server, node) = try await activated()
        defer { Task { await server.stop() } }
        let result = try await node.healthcheck()
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("round 1 at +0s: all 3 probes passed"))
        #expect(result.stdout.contains("verified and committed 1.1.0"))
        let state = try node.state()
        #expect(state["phase"] as? String == "success")
        #expect(state["health_check_failures"] == nil)
        #expect(node.marker("committed") == "b")
    }

    @Test func successAfterASettle() async throws {
        let (server, node) = try await activated(
            healthcheck: "  healthcheck:\n    settle: 2m\n    timeout: 5m\n    probes:\n"
                + "      - http: {name: app, url: \"SERVER/healthz\"}\n")
        defer { Task { await server.stop() } }
        let result = try await node.healthcheck()
        #expect(result.status == 0)
        #expect(result.stdout.contains("healthcheck.settle               done  waited 2m"))
        #expect(result.stdout.contains("round 1 at +2m: all 3 probes passed"))
    }

    @Test func aProbeThatRecoversPassesInALaterRound() async throws {
        let (server, node) = try await activated(healthy: false)
        defer { Task { await server.stop() } }
        // The endpoint recovers while updatectl waits between rounds: rounds go on until the timeout.
        var result = try await node.healthcheck()
        #expect(result.status == 1)
        // Six rounds 10 s apart fit in the 1m timeout (virtual time also counts the probes' real
        // time, so a loaded machine may show +51s).
        #expect(result.stdout.contains("round 6 at +5") && result.stdout.contains("1 of 3 probes failed: app (GET"), "\(result.stdout)")
        #expect(!result.stdout.contains("round 7 at"))
        server.set("/healthz", body: Data("ok".utf8), status: 200)
        result = try await node.healthcheck()
        #expect(result.status == 0)
        #expect(try node.state()["phase"] as? String == "success")
    }

    @Test func aFailureBelowTheThresholdIsCountedWithoutRollback() async throws {
        let (server, node) = try await activated(healthy: false)
        defer { Task { await server.stop() } }
        let result = try await node.healthcheck()
        #expect(result.status == 1)
        #expect(result.stderr.contains("verification failed (1 in a row)"))
        #expect(result.stdout.contains("healthcheck.failure              fail  1 consecutive failed run; an automatic rollback at 3"))
        let state = try node.state()
        #expect(state["phase"] as? String == "activated")
        #expect(state["health_check_failures"] as? Int == 1)
        #expect((state["last_error"] as? String)?.contains("app: GET") == true)
        #expect(node.marker("booted") == "b")
    }

    @Test func rollbackHappensAtExactlyTheThreshold() async throws {
        let (server, node) = try await activated(healthy: false)
        defer { Task { await server.stop() } }
        for run in 1...2 {
            #expect(try await node.healthcheck().status == 1)
            #expect(try node.state()["health_check_failures"] as? Int == run)
            #expect(node.marker("booted") == "b")
        }
        let third = try await node.healthcheck()
        #expect(third.status == 1)
        #expect(third.stderr.contains("rolled back"))
        let state = try node.state()
        #expect(state["phase"] as? String == "rolled_back")
        #expect((state["last_error"] as? String)?.contains("rolled back to slot a after 3 consecutive failed verification runs") == true)
        #expect(state["health_check_failures"] == nil)
        // reboot: auto — the node runs the old slot again.
        #expect(node.marker("booted") == "a" && node.marker("next") == "a")
    }

    @Test func thresholdZeroNeverRollsBack() async throws {
        let (server, node) = try await activated(autoRollbackAfter: 0, healthy: false)
        defer { Task { await server.stop() } }
        for _ in 1...4 { #expect(try await node.healthcheck().status == 1) }
        let state = try node.state()
        #expect(state["phase"] as? String == "activated")
        #expect(state["health_check_failures"] as? Int == 4)
        #expect(node.marker("booted") == "b")
    }

    @Test func aBootloaderFallbackIsDetected() async throws {
        let (server, node) = try await activated()
        defer { Task { await server.stop() } }
        try "a\n".write(toFile: node.slots + "/booted", atomically: true, encoding: .utf8)
        let result = try await node.healthcheck()
        #expect(result.status == 1)
        #expect(result.stderr.contains("the node booted slot a (1.0.0), not the new slot b: the bootloader fell back"), "\(result.stderr)")
        #expect(try node.state()["phase"] as? String == "rolled_back")
    }

    @Test func aHangingExecProbeIsKilledAtItsTimeout() async throws {
        let (server, node) = try await activated(
            healthcheck: "  kube_system_settle: 0\n  healthcheck:\n    timeout: 15s\n    interval: 10s\n    probes:\n"
                + "      - exec: {name: stuck, command: [/bin/sh, -c, \"trap '' TERM; sleep 30\"], timeout: 300ms}\n")
        defer { Task { await server.stop() } }
        let result = try await node.healthcheck()
        #expect(result.status == 1)
        #expect(result.stdout.contains("stuck (/bin/sh -c trap '' TERM; sleep 30 was killed after its 300ms timeout)"))
    }

    /// Probes of a round run at once, at most 16 at a time: the first 16 all start before any
    /// ends, and never more than 16 are running.
    @Test func theProbesOfARoundRunAtTheSameTimeUpToABound() async throws {
        let directory = try TemporaryDirectory()
        let log = directory.url.appendingPathComponent("log").path
        var probes = "  healthcheck:\n    timeout: 1m\n    probes:\n"
        for index in 0..<24 {
            probes += "      - exec: {name: p\(index), command: [/bin/sh, -c, \"echo start >> \(log); sleep 0.2; echo end >> \(log)\"]}\n"
        }
        let (server, node) = try await activated(healthcheck: probes)
        defer { Task { await server.stop() } }
        let result = try await node.healthcheck()
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 48)
        #expect(lines.prefix(16).allSatisfy { $0 == "start" })
        var running = 0
        var most = 0
        for line in lines {
            running += line == "start" ? 1 : -1
            most = max(most, running)
        }
        #expect(most == 16)
    }

    @Test func theFullCycleRollsBackABadReleaseToTheOldSlot() async throws {
        let (server, node) = try await activated(healthy: false)
        defer { Task { await server.stop() } }
        for _ in 1...3 { _ = try await node.healthcheck() }
        #expect(node.marker("booted") == "a")
        let status = try await node.run("status")
        #expect(status.stdout.contains("phase            rolled_back: the last update was rolled back"))
        // Once rolled back, a later healthcheck only probes.
        let probe = try await node.healthcheck()
        #expect(probe.stdout.contains("phase rolled_back: no update waits for verification"))
    }

    @Test func outsideAnActivationTheProbesRunOnceAndNothingChanges() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        server.set("/healthz", body: Data(), status: 200)
        let node = try TestNode()
        try node.writePolicy(
            server: server.base, publicKey: nil,
            extra: "  healthcheck:\n    probes:\n      - http: {url: \"\(server.base)/healthz\"}\n")
        let result = try await node.healthcheck()
        #expect(result.status == 0)
        #expect(result.stdout.contains("all probes passed"))
        #expect(!FileManager.default.fileExists(atPath: node.statePath))
    }

    @Test func rollbackByHand() async throws {
        let (server, node) = try await activated()
        defer { Task { await server.stop() } }
        let result = try await node.run("rollback")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("rolled back: rebooting into slot a"))
        #expect(node.marker("booted") == "a")
        #expect(try node.state()["phase"] as? String == "rolled_back")
        let again = try await node.run("rollback")
        #expect(again.status == 1)
        #expect(again.stderr.contains("nothing to roll back in phase rolled_back"))
    }
}

/// kube_system_ready against the real kubectl and a fake API server whose pods the test moves,
/// with pod lists of a real cluster's size.
@Suite(.serialized) struct KubeSystemProbeTests {
    static let kubectl = TestComponents.program("kubectl")

    /// A node applied to 1.1.0 whose kube-system pods the server answers; now is 03:00:00Z.
    func activatedNode(server: TestServer) async throws -> (TestNode, [String: String]) {
        let release = ReleaseFixture()
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(1000))
        let node = try TestNode()
        let kubeconfig = try node.writeKubeconfig(server: server.base)
        try node.writePolicy(
            server: server.base, publicKey: release.publicKeyText,
            extra: "  kube_system_settle: 30s\n  healthcheck: {timeout: 2m, interval: 10s}\n")
        let env = TestNode.withKubectl.merging(["KUBECONFIG": kubeconfig]) { $1 }
        #expect(try await node.apply(environment: env).status == 0)
        return (node, env)
    }

    @Test(.enabled(if: kubectl != nil))
    func podsMustHoldRunningForTheSettle() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let (node, env) = try await activatedNode(server: server)
        // 34 pods: pod 3 is still Pending, pod 20 restarted 10s ago.
        let failingList = KubePayloads.podList(
            count: 34, started: "2026-11-26T02:58:30Z",
            special: [
                3: ("Pending", nil), 20: ("Running", "2026-11-26T02:59:50Z"),
            ])
        #expect(failingList.utf8.count >= 200 << 10, "a pod list of a real cluster's size")
        server.set("/api/v1/namespaces/kube-system/pods", json: failingList)
        let failing = try await node.healthcheck(environment: env)
        #expect(failing.status == 1)
        #expect(failing.stdout.contains("kube-pod-3-"))
        #expect(failing.stdout.contains(" is Pending"))
        #expect(failing.stdout.contains("Running for 10s < 30s"))
        // All have been Running for a minute and a half.
        server.set("/api/v1/namespaces/kube-system/pods", json: KubePayloads.podList(count: 34, started: "2026-11-26T02:58:30Z"))
        let passing = try await node.healthcheck(environment: env)
        #expect(passing.status == 0, "\(passing.stdout)\(passing.stderr)")
        #expect(passing.stdout.contains("all 34 kube-system pods Running for ≥ 30s"))
    }

    /// After an update the API server that does not come back is what this probe exists to catch.
    @Test(.enabled(if: kubectl != nil))
    func anAPIServerThatRefusesConnectionsFails() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let (node, env) = try await activatedNode(server: server)
        let refusing = try node.writeKubeconfig(server: "http://127.0.0.1:9")
        let result = try await node.healthcheck(environment: env.merging(["KUBECONFIG": refusing]) { $1 })
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("the API server does not answer through \(refusing)"))
        #expect(try node.state()["health_check_failures"] as? Int == 1)
    }

    /// A kubeconfig but no kubectl: Kubernetes is expected and cannot be asked.
    @Test func aKubeconfigWithoutKubectlFails() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let (node, env) = try await activatedNode(server: server)
        let result = try await node.healthcheck(environment: env.merging(["PATH": node.environment["PATH"]!]) { $1 })
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("but kubectl is not installed (not on PATH): cannot check kube-system"))
    }

    /// Upstream's air-gap case: no kubectl and no kubeconfig at all passes, and says so.
    @Test func noKubectlAndNoKubeconfigPassesAndSaysSo() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let (node, _) = try await activatedNode(server: server)
        let result = try await node.healthcheck()
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("no kubectl and no kubeconfig"))
        #expect(result.stdout.contains("passing, as the upstream agent does"))
        #expect(!server.requests.contains("/api/v1/namespaces/kube-system/pods"))
    }
}
