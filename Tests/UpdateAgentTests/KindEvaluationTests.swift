import Foundation
import JSONValue
import Testing
import UpdatePolicy

@testable import UpdateAgent

#if canImport(Glibc)
import Glibc
#endif

/// Every gate and probe kind evaluated through `KindHarness`, as a policy writes it, against a
/// machine, cluster, web and fleet the test scripts: a pass, a no (a block, a refusal, a failed
/// probe) and an error where the kind has one. Kinds without an error case say so below.
/// `KindCompletenessTests.everyKindIsEvaluatedInATest` fails when a kind is missing here.
@Suite struct KindEvaluationTests {
    static func decision(_ outcome: GateOutcome) -> String {
        switch outcome {
        case .pass: "pass"
        case .block: "block"
        case .refuse: "refuse"
        case .error: "error"
        case .skipped: "skip"
        }
    }

    // MARK: Gates

    @Test func freeSpace() throws {
        var harness = KindHarness()
        harness.system.free = 200 << 20
        #expect(Self.decision(try harness.evaluate("- free_space: {headroom: 10%}")) == "pass")
        harness.system.free = 105 << 20
        #expect(Self.decision(try harness.evaluate("- free_space: {headroom: 10%}")) == "block")
        // A release whose size nobody said cannot be measured against the disk.
        let unsized = ReleaseMetadata(
            version: "1.1.0", format: .image,
            files: [
                ReleaseMetadata.File(
                    name: "image", url: "https://u.example.com/i", sha256: "", size: nil, sizeAnnounced: false,
                    signatureURL: nil)
            ])
        #expect(Self.decision(try harness.evaluate("- free_space: {}", offered: unsized)) == "error")
        // A slot partition the backend measures: the files the release replaces count as free.
        harness.passiveSlot = SlotSpace(free: 60 << 20, reclaimable: 55 << 20)
        let outcome = try harness.evaluate("- free_space: {headroom: 10%}")
        #expect(Self.decision(outcome) == "pass", "\(outcome)")
        #expect("\(outcome)".contains("(60.0 MiB free + 55.0 MiB in files the release replaces), needed 110 MiB"), "\(outcome)")
        harness.passiveSlot = SlotSpace(free: 60 << 20, reclaimable: 40 << 20)
        #expect(Self.decision(try harness.evaluate("- free_space: {headroom: 10%}")) == "block")
        // A `path:` is measured as it is.
        #expect(Self.decision(try harness.evaluate("- free_space: {headroom: 10%, path: /var}")) == "block")
    }

    @Test func nodeNotBlocked() throws {
        var harness = KindHarness()
        harness.system.host = "edge-1"
        func node(_ labels: String) -> KubernetesAnswer {
            .json(try! JSON.parse(Array("{\"metadata\": {\"name\": \"edge-1\", \"labels\": {\(labels)}}}".utf8)))
        }
        harness.kubernetes = ScriptedKubernetes(answers: [("/api/v1/nodes/edge-1", node("\"role\": \"edge\""))])
        #expect(Self.decision(try harness.evaluate("- node_not_blocked: {}")) == "pass")
        harness.kubernetes = ScriptedKubernetes(answers: [("/api/v1/nodes/edge-1", node("\"updates.kubesolo.io/block\": \"true\""))])
        #expect(Self.decision(try harness.evaluate("- node_not_blocked: {}")) == "block")
        harness.kubernetes = ScriptedKubernetes(answers: [])
        #expect(Self.decision(try harness.evaluate("- node_not_blocked: {}")) == "error")
        // No cluster at all is skipped, passes and says so (upstream's air-gap behaviour)…
        harness.kubernetes = ScriptedKubernetes(access: .noKubernetes("no kubectl and no kubeconfig"))
        guard case .skipped(let detail) = try harness.evaluate("- node_not_blocked: {}") else {
            Issue.record("a node without Kubernetes must be skipped")
            return
        }
        #expect(detail == "skipped: no kubectl and no kubeconfig; passing, as the upstream agent does (when_unreachable: pass)")
        // … unless the policy says otherwise: then the run is deferred.
        guard case .block(let reason) = try harness.evaluate("- node_not_blocked: {when_unreachable: fail}") else {
            Issue.record("when_unreachable: fail must defer")
            return
        }
        #expect(reason == "no kubectl and no kubeconfig: cannot tell whether node edge-1 is blocked (when_unreachable: fail)")
    }

    /// No error case: a window is inside or outside (its time zone is checked by lint).
    @Test func maintenanceWindow() throws {
        var harness = KindHarness()
        harness.clock = FixedWallClock(Timestamp.parse("2026-01-05T02:10:00Z")!)  // a Monday
        #expect(Self.decision(try harness.evaluate("- maintenance_window: {start: \"02:00\", end: \"03:00\"}")) == "pass")
        #expect(Self.decision(try harness.evaluate("- maintenance_window: {days: [tue], start: \"02:00\", end: \"03:00\"}")) == "block")
        #expect(Self.decision(try harness.evaluate("- maintenance_window: {start: \"23:00\", end: \"02:00\"}")) == "block")
    }

    /// No error case: the count is the state's.
    @Test func maxAttempts() throws {
        var harness = KindHarness()
        harness.state.toVersion = "1.1.0"
        harness.state.attemptCount = 1
        #expect(Self.decision(try harness.evaluate("- max_attempts: 2")) == "pass")
        harness.state.attemptCount = 2
        #expect(Self.decision(try harness.evaluate("- max_attempts: 2")) == "block")
    }

    @Test func noDowngrade() throws {
        var harness = KindHarness()
        #expect(Self.decision(try harness.evaluate("- no_downgrade: true")) == "pass")
        harness.committedVersion = "1.2.0"
        #expect(Self.decision(try harness.evaluate("- no_downgrade: true")) == "block")
        harness.runningVersion = "not a version"
        #expect(Self.decision(try harness.evaluate("- no_downgrade: true")) == "error")
    }

    @Test func rollout() throws {
        var harness = KindHarness()
        #expect(Self.decision(try harness.evaluate("- rollout: {percent: 100%}")) == "pass")
        #expect(Self.decision(try harness.evaluate("- rollout: {percent: 0%}")) == "block")
        harness.system.machine = ""
        #expect(Self.decision(try harness.evaluate("- rollout: {percent: 50%}")) == "error")
    }

    /// A wave in signed metadata defers the node until the share passes its place; none, or one
    /// in unsigned metadata, passes; a held wave blocks; an unreadable machine id is an error.
    @Test func rolloutWave() throws {
        var harness = KindHarness()
        let now = harness.clock.now()
        func offered(_ wave: ReleaseWave?, authenticated: Bool = true) -> ReleaseMetadata {
            var release = Self.release()
            release.rollout = wave
            release.authenticated = authenticated
            return release
        }
        let soon = ReleaseWave(start: now + .seconds(3600), duration: .seconds(48 * 3600), startPercentage: 5)
        let over = ReleaseWave(start: now + .seconds(-72 * 3600), duration: .seconds(48 * 3600))
        let stopped = ReleaseWave(start: over.start, duration: over.duration, maxPercentage: 0)
        #expect(Self.decision(try harness.evaluate("- rollout_wave: true", offered: offered(nil))) == "pass")
        #expect(Self.decision(try harness.evaluate("- rollout_wave: true", offered: offered(soon))) == "block")
        #expect(Self.decision(try harness.evaluate("- rollout_wave: true", offered: offered(soon, authenticated: false))) == "pass")
        #expect(Self.decision(try harness.evaluate("- rollout_wave: true", offered: offered(over))) == "pass")
        #expect(Self.decision(try harness.evaluate("- rollout_wave: true", offered: offered(stopped))) == "block")
        let started = ReleaseWave(start: now, duration: .seconds(48 * 3600), startPercentage: 5)
        let canary = "- rollout_wave: true\n  rollout_wariness: 0"
        #expect(Self.decision(try harness.evaluate(canary, offered: offered(started))) == "pass")
        harness.system.machine = ""
        #expect(Self.decision(try harness.evaluate("- rollout_wave: true", offered: offered(soon))) == "error")
    }

    /// The share grows linearly from the start percentage; a node's first admitted second is the
    /// one the share first passes its place; wariness moves the place monotonically from 0 to 100.
    @Test func aWavesAdmissionIsTheFirstSecondItsShareCoversTheNode() throws {
        let start = try #require(Timestamp.parse("2026-12-07T08:00:00Z"))
        let wave = ReleaseWave(start: start, duration: .seconds(48 * 3600), startPercentage: 5)
        #expect(wave.share(at: start + .seconds(-1)) == 0)
        #expect(wave.share(at: start) == 5)
        #expect(wave.share(at: start + .seconds(24 * 3600)) == 52.5)
        #expect(wave.share(at: start + .seconds(96 * 3600)) == 100)
        for position in [0, 4.99, 5, 37.1234, 52.5, 99.99, 100] {
            let admitted = try #require(wave.admission(position: position))
            #expect(wave.admits(position: position, at: admitted), "\(position)")
            if admitted > start { #expect(!wave.admits(position: position, at: admitted + .seconds(-1)), "\(position)") }
        }
        #expect(wave.admission(position: 3) == start)
        #expect(wave.admission(position: 100) == start + .seconds(48 * 3600))
        let held = ReleaseWave(start: start, duration: wave.duration, startPercentage: 5, maxPercentage: 20)
        #expect(held.admission(position: 19) != nil && held.admission(position: 20) == nil)
        #expect(ReleaseWave.position(bucket: 37, wariness: 0) == 0)
        #expect(ReleaseWave.position(bucket: 37, wariness: 0.5) == 37)
        #expect(ReleaseWave.position(bucket: 37, wariness: 1) == 100)
        #expect(ReleaseWave.position(bucket: 37, wariness: 0.25) < 37 && ReleaseWave.position(bucket: 37, wariness: 0.75) > 37)
    }

    @Test func exec() throws {
        let harness = KindHarness()
        #expect(Self.decision(try harness.evaluate("- exec: {command: [/bin/true]}")) == "pass")
        #expect(Self.decision(try harness.evaluate("- exec: {command: [/bin/false]}")) == "block")
        #expect(Self.decision(try harness.evaluate("- exec: {command: [/usr/local/bin/not-installed-anywhere]}")) == "error")
    }

    /// No error case: an HTTP gate that gets no answer says no, as one that gets another status.
    @Test func http() throws {
        var harness = KindHarness()
        harness.transport = ScriptedTransport(answers: ["https://ok.example.com/": 200, "https://down.example.com/": 503])
        #expect(Self.decision(try harness.evaluate("- http: {url: \"https://ok.example.com/\"}")) == "pass")
        #expect(Self.decision(try harness.evaluate("- http: {url: \"https://down.example.com/\"}")) == "block")
        #expect(Self.decision(try harness.evaluate("- http: {url: \"https://gone.example.com/\"}")) == "block")
    }

    /// No error case: a lock that does not answer defers the activation like a denied slot (the
    /// release stays staged), and says which it was.
    @Test func fleetLock() throws {
        var harness = KindHarness()
        let entry = "- fleet_lock: {engine: fleetlock, url: \"https://fleetlock.example.com\", group: edge}"
        harness.fleet = ScriptedFleet(script: ["granted"])
        #expect(Self.decision(try harness.evaluate(entry)) == "pass")
        harness.fleet = ScriptedFleet(script: ["denied"])
        guard case .block(let denied) = try harness.evaluate(entry) else {
            Issue.record("a denied slot must defer")
            return
        }
        #expect(denied.hasPrefix("no reboot slot"), "\(denied)")
        harness.fleet = ScriptedFleet(script: ["down"])
        guard case .block(let down) = try harness.evaluate(entry) else {
            Issue.record("a lock that does not answer must defer")
            return
        }
        #expect(down.hasPrefix("the fleet lock did not answer"), "\(down)")
    }

    static func release(channel: String? = nil, architecture: String? = nil, minimum: String? = nil) -> ReleaseMetadata {
        var release = ReleaseMetadata(version: "1.1.0", format: .image, files: [])
        release.channel = channel
        release.architecture = architecture
        release.minCompatibleVersion = minimum
        return release
    }

    /// No error case: a release for another channel is refused, one naming none passes.
    @Test func channel() throws {
        let harness = KindHarness()
        #expect(Self.decision(try harness.evaluate("- channel: true", offered: Self.release(channel: "stable"))) == "pass")
        #expect(Self.decision(try harness.evaluate("- channel: true", offered: Self.release())) == "pass")
        #expect(Self.decision(try harness.evaluate("- channel: true", offered: Self.release(channel: "beta"))) == "refuse")
    }

    /// No error case: the machine's architecture is always known.
    @Test func architecture() throws {
        var harness = KindHarness()
        harness.system.arch = "arm64"
        #expect(Self.decision(try harness.evaluate("- architecture: true", offered: Self.release(architecture: "arm64"))) == "pass")
        #expect(Self.decision(try harness.evaluate("- architecture: true", offered: Self.release(architecture: "amd64"))) == "refuse")
    }

    @Test func minCompatibleVersion() throws {
        var harness = KindHarness()
        #expect(Self.decision(try harness.evaluate("- min_compatible_version: true", offered: Self.release(minimum: "0.9.0"))) == "pass")
        #expect(Self.decision(try harness.evaluate("- min_compatible_version: true", offered: Self.release(minimum: "1.0.1"))) == "refuse")
        harness.runningVersion = "dev build"
        #expect(Self.decision(try harness.evaluate("- min_compatible_version: true", offered: Self.release(minimum: "1.0.1"))) == "error")
    }

    // MARK: Probes (passed or not; the "error" case is a failure with the reason said)

    @Test func httpProbe() throws {
        var harness = KindHarness()
        harness.transport = ScriptedTransport(answers: ["http://127.0.0.1:8080/health": 200, "http://127.0.0.1:8081/health": 500])
        #expect(try harness.run("- http: {url: \"http://127.0.0.1:8080/health\"}").passed)
        let wrong = try harness.run("- http: {url: \"http://127.0.0.1:8081/health\"}")
        #expect(!wrong.passed && wrong.detail.contains("answered 500, not 200"), "\(wrong.detail)")
        let none = try harness.run("- http: {url: \"http://127.0.0.1:8082/health\"}")
        #expect(!none.passed && none.detail.contains("failed: connection refused"), "\(none.detail)")
    }

    @Test func tcpProbe() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && listen(listener, 4) == 0
                    && getsockname(listener, $0, &length) == 0
            }
        }
        try #require(bound)
        let port = UInt16(bigEndian: address.sin_port)
        let harness = KindHarness()
        #expect(try harness.run("- tcp: {address: \"127.0.0.1:\(port)\"}").passed)
        close(listener)
        let refused = try harness.run("- tcp: {address: \"127.0.0.1:\(port)\"}")
        #expect(!refused.passed && refused.detail.contains("connect to 127.0.0.1:\(port)"), "\(refused.detail)")
        let unknown = try harness.run("- tcp: {address: \"no-such-host.invalid:80\"}")
        #expect(!unknown.passed && unknown.detail.contains("cannot resolve no-such-host.invalid"), "\(unknown.detail)")
    }

    @Test func execProbe() throws {
        let harness = KindHarness()
        #expect(
            try harness.run(
                "- exec: {command: [/bin/sh, -c, 'test \"$0\" = 1.1.0', \"${VERSION}\"]}",
                variables: ["VERSION": "1.1.0"]
            ).passed)
        let failed = try harness.run("- exec: {command: [/bin/false]}")
        #expect(!failed.passed && failed.detail.contains("exit status 1"), "\(failed.detail)")
        let missing = try harness.run("- exec: {command: [/usr/local/bin/not-installed-anywhere]}")
        #expect(!missing.passed && missing.detail.contains("not-installed-anywhere"), "\(missing.detail)")
    }

    @Test func diskWritableProbe() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("updatectl-disk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let harness = KindHarness()
        let written = try harness.run("- disk_writable: {path: \"\(directory.path)\"}")
        #expect(written.passed && written.detail.hasPrefix("wrote, synced and read back"), "\(written.detail)")
        let missing = try harness.run("- disk_writable: {path: \"\(directory.path)/not-there\"}")
        #expect(!missing.passed && missing.detail.hasPrefix("cannot create a file in"), "\(missing.detail)")
    }

    @Test func kubeSystemReadyProbe() throws {
        var harness = KindHarness()
        harness.clock = FixedWallClock(Timestamp.parse("2026-01-05T02:10:00Z")!)
        func pods(_ phase: String, startedAt: String) -> KubernetesAnswer {
            .json(
                try! JSON.parse(
                    Array(
                        """
                        {"items": [{"metadata": {"name": "coredns"}, "status": {"phase": "\(phase)", "startTime": "\(startedAt)",
                         "containerStatuses": [{"state": {"running": {"startedAt": "\(startedAt)"}}}]}}]}
                        """.utf8)))
        }
        let entry = "- kube_system_ready: {settle: 30s}"
        harness.kubernetes = ScriptedKubernetes(answers: [
            ("/api/v1/namespaces/kube-system/pods", pods("Running", startedAt: "2026-01-05T02:00:00Z"))
        ])
        #expect(try harness.run(entry).passed)
        harness.kubernetes = ScriptedKubernetes(answers: [
            ("/api/v1/namespaces/kube-system/pods", pods("Running", startedAt: "2026-01-05T02:09:50Z"))
        ])
        let young = try harness.run(entry)
        #expect(!young.passed && young.detail.contains("coredns Running for 10s < 30s"), "\(young.detail)")
        harness.kubernetes = ScriptedKubernetes(answers: [("/api/v1/namespaces/kube-system/pods", .unreachable("connection refused"))])
        let down = try harness.run(entry)
        #expect(!down.passed && down.detail.contains("the API server does not answer"), "\(down.detail)")
        harness.kubernetes = ScriptedKubernetes(access: .noKubernetes("no kubectl and no kubeconfig"))
        #expect(try harness.run(entry).passed)
    }
}
