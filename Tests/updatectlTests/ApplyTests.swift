import Crypto
import Foundation
import Testing

@Suite(.serialized) struct ApplyTests {
    /// A node on 1.0.0 and a server offering a signed 1.1.0.
    func setUp(
        preflight: String = "    - free_space: {headroom: 10%}\n", reboot: String = "auto",
        extra: String = ""
    ) async throws -> (TestServer, ReleaseFixture, TestNode) {
        let server = try await TestServer()
        let release = ReleaseFixture()
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(300_000))
        let node = try TestNode()
        try node.writePolicy(
            server: server.base, publicKey: release.publicKeyText, preflight: preflight, reboot: reboot,
            extra: extra)
        return (server, release, node)
    }

    @Test func theHappyPathActivatesAndRebootsIntoTheNewSlot() async throws {
        let (server, _, node) = try await setUp()
        defer { Task { await server.stop() } }
        let result = try await node.apply()
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("[ 1/15] check.metadata"))
        #expect(result.stdout.contains("[ 3/15] check.version"))
        #expect(result.stdout.contains("preflight.no_downgrade           pass  1.1.0 is newer than the running 1.0.0"))
        #expect(result.stdout.contains("verify.files                     pass  image sha256"))
        #expect(result.stdout.contains("activated 1.1.0; the node is rebooting into it"))
        let state = try node.state()
        #expect(state["phase"] as? String == "activated")
        #expect(state["to_version"] as? String == "1.1.0" && state["from_version"] as? String == "1.0.0")
        #expect(state["attempt_count"] as? Int == 1)
        #expect(node.marker("booted") == "b" && node.marker("next") == "b")
        #expect(node.marker("b/version") == "1.1.0")
        let image = try Data(contentsOf: URL(fileURLWithPath: node.slots + "/b/image"))
        #expect(image == ReleaseFixture.image(300_000))
        #expect(server.requests.contains("/stable/latest.json.sig"))
    }

    @Test func manualRebootLeavesTheBootedSlotAlone() async throws {
        let (server, _, node) = try await setUp(reboot: "manual")
        defer { Task { await server.stop() } }
        let result = try await node.apply()
        #expect(result.status == 0)
        #expect(result.stdout.contains("reboot.manual                    stop  reboot the node, then run `updatectl healthcheck`"))
        #expect(node.marker("booted") == "a" && node.marker("next") == "b")
    }

    @Test func upToDateChangesNothing() async throws {
        let (server, release, node) = try await setUp()
        defer { Task { await server.stop() } }
        try release.publish(server, version: "1.0.0", image: ReleaseFixture.image(1000))
        let result = try await node.apply()
        #expect(result.status == 0)
        #expect(result.stdout.contains("up to date: the node runs 1.0.0"))
        #expect(try node.state()["phase"] as? String == "idle")
        #expect(try node.state()["attempt_count"] as? Int == 0)
        #expect(node.marker("booted") == "a")
    }

    struct GateCase: Sendable, CustomStringConvertible {
        var name: String
        var preflight: String
        var environment: [String: String] = [:]
        var expected: String
        var description: String { name }
    }

    static let gateCases: [GateCase] = [
        GateCase(
            name: "free_space", preflight: "    - free_space: {headroom: 10%, path: /dev/shm}\n",
            environment: [:], expected: "only"),
        GateCase(
            name: "maintenance_window",
            preflight: "    - maintenance_window: {start: \"01:00\", end: \"02:00\", timezone: Europe/Berlin}\n",
            expected: "now thu 04:00 Europe/Berlin is outside the maintenance window 01:00–02:00 Europe/Berlin"),
        GateCase(name: "no_downgrade", preflight: "    - no_downgrade: true\n", expected: "is not newer than the running"),
        GateCase(
            name: "rollout", preflight: "    - rollout: {percent: 0.01, salt: wave}\n",
            environment: ["UPDATECTL_TEST_MACHINE_ID": "0123456789abcdef0123456789abcdef"],
            expected: "is not under the 0.01% rollout yet"),
        GateCase(
            name: "exec", preflight: "    - exec: {command: [/bin/sh, -c, \"echo not on mains power >&2; exit 3\"]}\n",
            expected: "exit status 3: not on mains power"),
        GateCase(name: "http", preflight: "    - http: {name: fleet, url: \"SERVER/fleet/ok\"}\n", expected: "answered 404, not 200"),
    ]

    @Test(arguments: gateCases)
    func eachGateThatSaysNoDefersTheRun(gate: GateCase) async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let release = ReleaseFixture()
        // no_downgrade: offer an older version; free_space: announce more than /dev/shm can hold.
        let version = gate.name == "no_downgrade" ? "0.9.0" : "1.1.0"
        let image = ReleaseFixture.image(1000)
        try release.publish(
            server, version: version, image: image,
            sizeOverride: gate.name == "free_space" ? 200 << 30 : nil)
        let node = try TestNode()
        try node.writePolicy(
            server: server.base, publicKey: release.publicKeyText,
            preflight: gate.preflight.replacingOccurrences(of: "SERVER", with: server.base))
        let result = try await node.apply(environment: gate.environment)
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("block"))
        #expect(result.stdout.contains(gate.expected), "\(result.stdout)")
        let state = try node.state()
        #expect(state["phase"] as? String == "idle")
        #expect(state["deferred_gate"] as? String == (gate.name == "http" ? "fleet" : gate.name))
        #expect(state["attempt_count"] as? Int == 0)
        #expect(node.marker("booted") == "a" && node.marker("next") == "a")
        #expect(!FileManager.default.fileExists(atPath: node.slots + "/b/image"))
        #expect(!server.requests.contains { $0.hasSuffix(".img") })
        let status = try await CLI.runAsync(["status", node.policyPath])
        #expect(status.stdout.contains("deferred         by \(gate.name == "http" ? "fleet" : gate.name)"))
        #expect(status.stdout.contains("last run:\n  check.metadata"))
    }

    @Test func maxAttemptsCountsAttemptsAtTheOfferedVersion() async throws {
        let (server, release, node) = try await setUp(preflight: "    - max_attempts: 2\n")
        defer { Task { await server.stop() } }
        // Two attempts fail on a tampered image; the third is deferred without a download.
        server.set("/stable/images/os-1.1.0.img", body: ReleaseFixture.image(300_000, seed: 9))
        #expect(try await node.apply().status == 1)
        #expect(try await node.apply().status == 1)
        let third = try await node.apply()
        #expect(third.status == 3)
        #expect(third.stdout.contains("1.1.0 was attempted 2 times, the most max_attempts allows (2)"))
        _ = release
    }

    @Test func aTamperedImageFailsAndLeavesTheActiveSlotAlone() async throws {
        let (server, _, node) = try await setUp()
        defer { Task { await server.stop() } }
        server.set("/stable/images/os-1.1.0.img", body: ReleaseFixture.image(300_000, seed: 7))
        let result = try await node.apply()
        #expect(result.status == 1)
        #expect(result.stderr.contains("verify.files: sha256 mismatch: image hashes to"))
        let state = try node.state()
        #expect(state["phase"] as? String == "failed")
        #expect((state["last_error"] as? String)?.contains("sha256 mismatch") == true)
        #expect(node.marker("booted") == "a" && node.marker("next") == "a")
        #expect(FileManager.default.fileExists(atPath: node.slots + "/b/invalid"))
        #expect(!FileManager.default.fileExists(atPath: node.slots + "/b/image"))
    }

    @Test func anImageLargerThanAnnouncedIsCutOff() async throws {
        let (server, release, node) = try await setUp()
        defer { Task { await server.stop() } }
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(300_000), sizeOverride: 1000)
        let result = try await node.apply()
        #expect(result.status == 1)
        #expect(result.stderr.contains("larger than the 1000 bytes announced"))
        #expect(node.marker("next") == "a")
    }

    @Test func aBadSignatureFailsBeforeAnythingIsStaged() async throws {
        let (server, release, node) = try await setUp()
        defer { Task { await server.stop() } }
        let metadata = try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(300_000))
        // A valid signature, but over other bytes.
        var other = metadata
        other.append(contentsOf: Array(" ".utf8))
        server.set("/stable/latest.json.sig", body: Data(try release.key.signature(for: other).base64EncodedString().utf8))
        let result = try await node.apply()
        #expect(result.status == 1)
        #expect(result.stderr.contains("bad signature: the signature of latest.json does not verify with the configured public key"))
        #expect(!server.requests.contains { $0.hasSuffix(".img") })
        #expect(try node.state()["phase"] as? String == "failed")
    }

    @Test func aSignatureFromAnotherKeyFails() async throws {
        let (server, release, node) = try await setUp()
        defer { Task { await server.stop() } }
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(300_000), signWith: Curve25519.Signing.PrivateKey())
        let result = try await node.apply()
        #expect(result.status == 1)
        #expect(result.stderr.contains("bad signature"))
        #expect(!FileManager.default.fileExists(atPath: node.slots + "/b/image"))
    }

    @Test func aMissingSignatureFails() async throws {
        let (server, _, node) = try await setUp()
        defer { Task { await server.stop() } }
        server.remove("/stable/latest.json.sig")
        let result = try await node.apply()
        #expect(result.status == 1)
        #expect(result.stderr.contains("the metadata is not signed: no signature at \(server.base)/stable/latest.json.sig (HTTP 404)"))
    }

    @Test func expiredMetadataFails() async throws {
        let (server, release, node) = try await setUp()
        defer { Task { await server.stop() } }
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(1000), extra: ["expires": "\"2026-11-01T00:00:00Z\""])
        let result = try await node.apply()
        #expect(result.status == 1)
        #expect(result.stderr.contains("the metadata expired at 2026-11-01T00:00:00Z"))
    }

    @Test func malformedMetadataFails() async throws {
        let (server, _, node) = try await setUp()
        defer { Task { await server.stop() } }
        try node.writePolicy(server: server.base, publicKey: nil)
        server.set("/stable/latest.json", body: Data("{\"version\": \"1.1.0\"}".utf8))
        let result = try await node.apply()
        #expect(result.status == 1)
        #expect(result.stderr.contains("the metadata is not valid: no `url` string"))
    }

    @Test func oversizedMetadataIsCutOff() async throws {
        let (server, _, node) = try await setUp()
        defer { Task { await server.stop() } }
        server.set("/stable/latest.json", body: Data(repeating: UInt8(ascii: " "), count: 1 << 20))
        let result = try await node.apply()
        #expect(result.status == 1)
        #expect(result.stderr.contains("the metadata at \(server.base)/stable/latest.json is larger than 65536 bytes; cut off"))
        #expect(!server.requests.contains { $0.hasSuffix(".img") })
    }

    @Test func aRedirectLoopIsCutOff() async throws {
        let (server, _, node) = try await setUp()
        defer { Task { await server.stop() } }
        server.set("/stable/latest.json", TestServer.Answer(status: 302, headers: ["Location": "/loop"]))
        server.set("/loop", TestServer.Answer(status: 302, headers: ["Location": "/stable/latest.json"]))
        let result = try await node.apply()
        #expect(result.status == 1)
        #expect(result.stderr.contains("more than 5 redirects"))
        #expect(node.marker("next") == "a")
    }

    @Test func aRedirectToAnotherSchemeIsRefused() async throws {
        let (server, _, node) = try await setUp()
        defer { Task { await server.stop() } }
        server.set("/stable/latest.json", TestServer.Answer(status: 302, headers: ["Location": "file:///etc/passwd"]))
        let result = try await node.apply()
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot fetch the metadata"))
        #expect(!result.stderr.contains("root:"))
    }

    @Test func anUnreachableServerFails() async throws {
        let node = try TestNode()
        try node.writePolicy(server: "http://127.0.0.1:9", publicKey: nil)
        let result = try await node.apply()
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot fetch the metadata http://127.0.0.1:9/stable/latest.json"))
        #expect(try node.state()["phase"] as? String == "failed")
    }

    @Test func dryRunEvaluatesEverythingAndChangesNothing() async throws {
        let (server, _, node) = try await setUp(preflight: "    - free_space: {}\n    - no_downgrade: true\n")
        defer { Task { await server.stop() } }
        let result = try await node.apply(["--dry-run"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("preflight.no_downgrade           pass"))
        #expect(result.stdout.contains("download.files                   skip  dry run: would download image (293 KiB) into slot b"))
        #expect(!server.requests.contains { $0.hasSuffix(".img") })
        // Nothing on disk: no data_dir, no slot root, no lock or temporary file anywhere.
        #expect(!FileManager.default.fileExists(atPath: node.data))
        #expect(!FileManager.default.fileExists(atPath: node.slots))
        // The same with an existing state: the bytes and the directory listing stay as they were.
        #expect(try await node.apply().status == 0)
        let before = try FileManager.default.contentsOfDirectory(atPath: node.data + "/update").sorted()
        let stateBytes = try Data(contentsOf: URL(fileURLWithPath: node.statePath))
        try FileManager.default.createDirectory(atPath: node.slots + "/x", withIntermediateDirectories: true)
        let slotsBefore = try FileManager.default.subpathsOfDirectory(atPath: node.slots).sorted()
        server.set("/stable/latest.json.sig", body: Data())
        _ = try await node.apply(["--dry-run"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: node.data + "/update").sorted() == before)
        #expect(try Data(contentsOf: URL(fileURLWithPath: node.statePath)) == stateBytes)
        #expect(try FileManager.default.subpathsOfDirectory(atPath: node.slots).sorted() == slotsBefore)
    }

    @Test func dryRunReportsEveryBlockingGate() async throws {
        let (server, _, node) = try await setUp(
            preflight: "    - free_space: {}\n    - exec: {command: [/bin/false]}\n"
                + "    - maintenance_window: {start: \"01:00\", end: \"02:00\"}\n")
        defer { Task { await server.stop() } }
        let result = try await node.apply(["--dry-run"])
        #expect(result.status == 3)
        #expect(result.stdout.contains("preflight.exec                   block"))
        #expect(result.stdout.contains("preflight.maintenance_window     block"))
        #expect(result.stdout.contains("a real run would be deferred by exec"))
        #expect(!FileManager.default.fileExists(atPath: node.statePath))
    }

    @Test func forceSkipsSchedulingGatesAndSaysSo() async throws {
        let (server, _, node) = try await setUp(
            preflight: "    - free_space: {}\n"
                + "    - maintenance_window: {start: \"01:00\", end: \"02:00\"}\n")
        defer { Task { await server.stop() } }
        let result = try await node.apply(["--force"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("preflight.maintenance_window     skip  skipped by --force"))
    }

    @Test func twoAppliesAtOnce() async throws {
        let (server, _, node) = try await setUp()
        defer { Task { await server.stop() } }
        let first = try BackgroundProcess(["apply", node.policyPath], environment: ["UPDATECTL_TEST_PAUSE": "lock.held"])
        let reached = await first.reached("paused at lock.held")
        #expect(reached)
        let second = try await node.apply()
        #expect(second.status == 4)
        #expect(
            second.stderr.contains("another updatectl (process \(first.process.processIdentifier)) holds the lock \(node.statePath).lock"))
        #expect(second.stderr.contains("checking for, applying, verifying or rolling back an update"), "\(second.stderr)")
        first.kill()
        #expect(try await node.apply().status == 0)
    }

    /// Two policies with their own data_dir but the same slots: the backend's lock keeps the
    /// second out while the first holds them.
    @Test func twoPoliciesSharingSlotsDoNotRunAtOnce() async throws {
        let (server, release, node) = try await setUp()
        defer { Task { await server.stop() } }
        let other = node.root.appendingPathComponent("other.yaml").path
        let policy = try String(contentsOfFile: node.policyPath, encoding: .utf8)
            .replacingOccurrences(of: "data_dir: \(node.data)", with: "data_dir: \(node.data)-2")
        try policy.write(toFile: other, atomically: true, encoding: .utf8)
        _ = release
        let first = try BackgroundProcess(
            ["apply", node.policyPath], environment: node.environment.merging(["UPDATECTL_TEST_PAUSE": "lock.held"]) { $1 })
        let reached = await first.reached("paused at lock.held")
        #expect(reached)
        let second = try await CLI.runAsync(["apply", other], environment: node.environment)
        #expect(second.status == 4, "\(second.stdout)\(second.stderr)")
        #expect(second.stderr.contains("holds the lock \(node.slots)/.updatectl.lock"))
        #expect(!FileManager.default.fileExists(atPath: node.data + "-2/update/state.json"), "the second run changed nothing")
        first.kill()
        #expect(try await CLI.runAsync(["apply", other], environment: node.environment).status == 0)
    }

    @Test func applyRefusesWhileAnUpdateWaitsForItsHealthcheck() async throws {
        let (server, _, node) = try await setUp()
        defer { Task { await server.stop() } }
        #expect(try await node.apply().status == 0)
        let again = try await node.apply()
        #expect(again.status == 1)
        #expect(again.stderr.contains("waits for its post-boot check: run `updatectl healthcheck`"))
    }

    @Test func theCommandBackendRunsTheOperatorsCommands() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let release = ReleaseFixture()
        try release.publish(server, version: "2.0.0", image: ReleaseFixture.image(5000))
        let node = try TestNode()
        let log = node.root.appendingPathComponent("log").path
        let slotFile = node.root.appendingPathComponent("slot").path
        try "a\n".write(toFile: slotFile, atomically: true, encoding: .utf8)
        let policy = """
            updates:
              server: \(server.base)  # updatectl: disable=UPD406
              layout: per_channel
              public_key: \(release.publicKeyText)
              data_dir: \(node.data)
              reboot: manual
              preflight:
                - free_space: {}
              backend:
                type: command
                stage: [/bin/sh, -c, "cp \\"$0\\" \(node.root.path)/staged-$1; echo stage $1 $2 >> \(log)", "${IMAGE}", "${SLOT}", "${VERSION}"]
                activate: [/bin/sh, -c, "echo activate $0 from $1 >> \(log)", "${SLOT}", "${FROM_VERSION}"]
                rollback: [/bin/true]
                booted_slot: [/bin/cat, \(slotFile)]
                running_version: [/bin/echo, 1.5.0]

            """
        try node.directory.write("policy.yaml", policy)
        let result = try await node.apply()
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let lines = try String(contentsOfFile: log, encoding: .utf8)
        #expect(lines == "stage b 2.0.0\nactivate b from 1.5.0\n")
        let staged = try Data(contentsOf: node.root.appendingPathComponent("staged-b"))
        #expect(staged == ReleaseFixture.image(5000))
    }

    @Test func aFailingBackendCommandFailsTheStepWithItsStderr() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let release = ReleaseFixture()
        try release.publish(server, version: "2.0.0", image: ReleaseFixture.image(500))
        let node = try TestNode()
        try node.directory.write(
            "policy.yaml",
            """
            updates:
              server: \(server.base)  # updatectl: disable=UPD406
              layout: per_channel
              public_key: \(release.publicKeyText)
              data_dir: \(node.data)
              preflight: [free_space: {}]
              backend:
                type: command
                stage: [/bin/sh, -c, "echo disk on fire >&2; exit 2"]
                activate: [/bin/true]
                rollback: [/bin/true]
                booted_slot: [/bin/echo, a]
                running_version: [/bin/echo, 1.0.0]

            """)
        let result = try await node.apply()
        #expect(result.status == 1)
        #expect(
            result.stderr.contains(
                "stage.slot: the backend's `stage` command (/bin/sh -c echo disk on fire >&2; exit 2) failed with exit status 2: disk on fire"
            ))
        #expect(try node.state()["phase"] as? String == "failed")
    }
}
