import Crypto
import Foundation
import Testing

/// A rollout wave in the release's signed `latest.json`, end to end: a real HTTP server on
/// 127.0.0.1 serves KubeSolo OS's layout with the wave, the `updatectl` binary runs on nodes of
/// different machine ids and wariness, and the clock is the injected one.
@Suite struct RolloutWaveTests {
    static let wave = #"{"start": "2026-12-07T08:00:00Z", "duration": "48h", "start_percentage": 5}"#
    static let start = "2026-12-07T08:00:00Z"
    static let end = "2026-12-09T08:00:00Z"
    static let machineA = "0123456789abcdef0123456789abcdef"
    static let machineB = "fedcba9876543210fedcba9876543210"

    static func publish(_ release: UpstreamRelease, _ server: TestServer, wave: String = wave, signed: Bool = true) throws {
        var options = UpstreamRelease.Options()
        options.json = [("rollout", wave)]
        if !signed { options.metadataSignature = .none }
        try release.publish(server, version: "1.1.0", options: options)
    }

    static func environment(_ node: TestNode, machine: String, at time: String) -> [String: String] {
        node.amd64.merging(["UPDATECTL_TEST_MACHINE_ID": machine, "UPDATECTL_TEST_NOW": time]) { $1 }
    }

    static func time(_ text: String) throws -> Date {
        try #require(ISO8601DateFormatter().date(from: text), "\(text) is not an RFC 3339 time")
    }

    static func text(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    /// The time after "admitted from " in the output.
    static func admission(in output: String) throws -> String {
        let range = try #require(output.range(of: "admitted from "), "no admission time in: \(output)")
        return String(output[range.upperBound...].prefix(20))
    }

    /// Four nodes (two machine ids, wariness 0 to 1): `check` before the wave starts prints when
    /// each will be admitted; `apply` one second before that time is deferred (exit 3, no attempt
    /// spent, nothing downloaded), and at that time it is admitted and the update runs.
    @Test func eachNodeIsAdmittedAtTheTimeTheToolPrintsForIt() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let release = UpstreamRelease()
        try Self.publish(release, server)
        let nodes: [(machine: String, wariness: String?)] = [
            (Self.machineA, nil), (Self.machineA, "1"), (Self.machineB, "0.2"), (Self.machineB, "0"),
        ]
        var admissions: [String] = []
        for (machine, wariness) in nodes {
            let node = try TestNode.upstream(
                release, server: server, extra: wariness.map { "  rollout_wariness: \($0)" } ?? "")
            let before = try await node.run("check", environment: Self.environment(node, machine: machine, at: "2026-12-07T07:00:00Z"))
            #expect(before.status == 0, "\(before.stdout)\(before.stderr)")
            #expect(before.stdout.contains("`apply` would be deferred by rollout_wave now"), "\(before.stdout)")
            let admitted = try Self.admission(in: before.stdout)
            admissions.append(admitted)
            let at = try Self.time(admitted)
            let (first, last) = (try Self.time(Self.start), try Self.time(Self.end))
            #expect(at >= first && at <= last, "\(admitted)")

            let downloads = server.requests.filter { $0 == "/1.1.0/vmlinuz" }.count
            let early = try await node.apply(environment: Self.environment(node, machine: machine, at: Self.text(at - 1)))
            #expect(early.status == 3, "\(early.stdout)\(early.stderr)")
            #expect(early.stdout.contains("not admitted yet, admitted from \(admitted)"), "\(early.stdout)")
            let deferred = try node.state()
            #expect(deferred["phase"] as? String == "idle")
            #expect(deferred["deferred_gate"] as? String == "rollout_wave")
            #expect(deferred["attempt_count"] as? Int == 0)
            #expect(server.requests.filter { $0 == "/1.1.0/vmlinuz" }.count == downloads, "nothing is downloaded")

            let onTime = try await node.apply(environment: Self.environment(node, machine: machine, at: admitted))
            #expect(onTime.status == 0, "\(onTime.stdout)\(onTime.stderr)")
            #expect(onTime.stdout.contains("pass  admitted from \(admitted)"), "\(onTime.stdout)")
            #expect(try node.state()["phase"] as? String == "activated")
        }
        // Wariness 0 goes when the wave starts, 1 when it ends; 0.5 is the bucket itself, in between.
        #expect(admissions[3] == Self.start)
        #expect(admissions[1] == Self.end)
        #expect(admissions[0] > Self.start && admissions[0] < admissions[1], "\(admissions)")
        #expect(admissions[2] >= admissions[3], "\(admissions)")
    }

    /// Stopping (`max_percentage: 0`) and widening again are a re-signed `latest.json`: the same
    /// node, its policy untouched, is held, then admitted.
    @Test func aStoppedWaveHoldsAndAWidenedOneAdmitsWithNoNodeTouched() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let release = UpstreamRelease()
        try Self.publish(
            release, server,
            wave: #"{"start": "2026-12-07T08:00:00Z", "duration": "48h", "start_percentage": 5, "max_percentage": 0}"#)
        let node = try TestNode.upstream(release, server: server)
        let environment = Self.environment(node, machine: Self.machineA, at: "2026-12-10T08:00:00Z")
        let held = try await node.apply(environment: environment)
        #expect(held.status == 3, "\(held.stdout)\(held.stderr)")
        #expect(held.stdout.contains("not admitted while the wave is held"), "\(held.stdout)")
        #expect(held.stdout.contains("held at 0%"), "\(held.stdout)")

        try Self.publish(release, server)
        let widened = try await node.apply(environment: environment)
        #expect(widened.status == 0, "\(widened.stdout)\(widened.stderr)")
        #expect(widened.stdout.contains("pass  admitted from "), "\(widened.stdout)")
    }

    /// A stop re-signed with a later `release_date` cannot be undone by replaying the earlier,
    /// wider document: it is older than the newest signed metadata the node accepted.
    @Test func aReplayOfTheWaveBeforeItWasStoppedIsRefused() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let release = UpstreamRelease()
        var wide = UpstreamRelease.Options()
        wide.releaseDate = "2026-12-07T07:00:00Z"
        wide.json = [("rollout", Self.wave)]
        var stopped = wide
        stopped.releaseDate = "2026-12-09T09:00:00Z"
        stopped.json = [("rollout", #"{"start": "2026-12-07T08:00:00Z", "duration": "48h", "max_percentage": 0}"#)]
        try release.publish(server, version: "1.1.0", options: stopped)
        let node = try TestNode.upstream(release, server: server)
        let environment = Self.environment(node, machine: Self.machineA, at: "2026-12-10T08:00:00Z")
        let held = try await node.apply(environment: environment)
        #expect(held.status == 3, "\(held.stdout)\(held.stderr)")
        #expect(held.stdout.contains("not admitted while the wave is held"), "\(held.stdout)")

        try release.publish(server, version: "1.1.0", options: wide)
        let replayed = try await node.apply(environment: environment)
        #expect(replayed.status == 3, "\(replayed.stdout)\(replayed.stderr)")
        #expect(replayed.stdout.contains("older than the newest signed metadata accepted"), "\(replayed.stdout)")
        #expect(!replayed.stdout.contains("admitted from"), "\(replayed.stdout)")
    }

    /// A wave in unsigned metadata (`require_signed_metadata: false`, every file signed) is not
    /// honoured: the node takes the release, and says why.
    @Test func aWaveInUnsignedMetadataIsIgnoredAndSaidSo() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let release = UpstreamRelease()
        try Self.publish(release, server, signed: false)
        let node = try TestNode.upstream(release, server: server, extra: "  require_signed_metadata: false")
        let applied = try await node.apply(environment: Self.environment(node, machine: Self.machineA, at: "2026-12-07T07:00:00Z"))
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(applied.stdout.contains("the release's rollout wave is ignored: its metadata is not signed"), "\(applied.stdout)")
    }

    /// From a registry the wave is the manifest's `dev.updatectl.rollout.*` annotations, honoured
    /// once the cosign signature verifies: deferred before this node's time, admitted at it.
    @Test(.enabled(if: RegistryTests.available))
    func aRegistryManifestCarriesTheWaveInItsAnnotations() async throws {
        let registry = try await TestRegistry()
        defer { Task { await registry.stop() } }
        let built = try registry.pushRelease(
            version: "1.1.0", architecture: "amd64",
            annotations: [
                "dev.updatectl.rollout.start": Self.start, "dev.updatectl.rollout.duration": "48h",
                "dev.updatectl.rollout.start_percentage": "5",
            ], tag: "stable")
        let key = Curve25519.Signing.PrivateKey()
        try registry.sign(built.digest, with: key)
        let node = try RegistryTests().node(registry, key: key)
        let before = try await node.apply(environment: Self.environment(node, machine: Self.machineA, at: Self.start))
        #expect(before.status == 3, "\(before.stdout)\(before.stderr)")
        let admitted = try Self.admission(in: before.stdout)
        #expect(before.stdout.contains("not admitted yet, admitted from \(admitted)"), "\(before.stdout)")
        let onTime = try await node.apply(environment: Self.environment(node, machine: Self.machineA, at: admitted))
        #expect(onTime.status == 0, "\(onTime.stdout)\(onTime.stderr)")
        #expect(onTime.stdout.contains("pass  admitted from \(admitted)"), "\(onTime.stdout)")
    }

    /// `rollout_wariness` is a number from 0 to 1: anything else is an error at its value.
    @Test func aWarinessOutsideZeroToOneIsAnErrorAtItsValue() async throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            "policy.yaml", "updates:\n  server: https://updates.example.com\n  rollout_wariness: 1.5\n")
        let lint = try await CLI.runAsync(["lint", directory.url.appendingPathComponent("policy.yaml").path])
        #expect(lint.status == 1, "\(lint.stdout)\(lint.stderr)")
        #expect(lint.stdout.contains("error[UPD307]: `rollout_wariness` is 1.5; it must be from 0 to 1"), "\(lint.stdout)")
        #expect(lint.stdout.contains("policy.yaml:3:21"), "\(lint.stdout)")
    }

    /// A wave with a misspelt key is refused rather than read as no cap.
    @Test func aWaveWithAnUnknownKeyFailsTheCheck() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let release = UpstreamRelease()
        try Self.publish(release, server, wave: #"{"start": "2026-12-07T08:00:00Z", "duration": "48h", "max_percent": 20}"#)
        let node = try TestNode.upstream(release, server: server)
        let checked = try await node.run("check", environment: Self.environment(node, machine: Self.machineA, at: Self.end))
        #expect(checked.status == 1, "\(checked.stdout)\(checked.stderr)")
        #expect((checked.stdout + checked.stderr).contains("`rollout` has the unknown key `max_percent`"), "\(checked.stdout)")
    }

    /// A wave without its start says that it is missing, not that it is no time.
    @Test func aWaveWithoutAStartSaysItIsMissing() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let release = UpstreamRelease()
        try Self.publish(release, server, wave: #"{"duration": "48h"}"#)
        let node = try TestNode.upstream(release, server: server)
        let checked = try await node.run("check", environment: Self.environment(node, machine: Self.machineA, at: Self.end))
        #expect(checked.status == 1, "\(checked.stdout)\(checked.stderr)")
        #expect(
            (checked.stdout + checked.stderr).contains("`rollout.start` is missing: a wave needs a start and a duration"),
            "\(checked.stdout)\(checked.stderr)")
    }
}
