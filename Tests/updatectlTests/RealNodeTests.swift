import Crypto
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What a real node and a hostile server do that the demo does not: replayed and rolled-back
/// releases, forged metadata, huge sizes, the command backend's whole life, and policy discovery.
@Suite struct ReleaseSafetyTests {
    func node(
        preflight: String = "    - free_space: {}\n", publicKey: Bool = true, extra: String = ""
    ) async throws
        -> (TestServer, ReleaseFixture, TestNode)
    {
        let server = try await TestServer()
        let release = ReleaseFixture()
        let node = try TestNode()
        try node.writePolicy(
            server: server.base, publicKey: publicKey ? release.publicKeyText : nil, preflight: preflight,
            extra: extra)
        return (server, release, node)
    }

    /// An old release, still validly signed, replayed by a mirror: the default gates refuse it
    /// even though the policy lists no `no_downgrade` gate.
    @Test func anOldSignedReleaseIsNotInstalledByDefault() async throws {
        let (server, release, node) = try await node()
        defer { Task { await server.stop() } }
        try release.publish(server, version: "0.9.0", image: ReleaseFixture.image(1000))
        let result = try await node.apply()
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("preflight.no_downgrade           block 0.9.0 is not newer than the running 1.0.0"))
        #expect(!server.requests.contains { $0.hasSuffix(".img") })
    }

    /// The node runs the old slot again (the bootloader fell back after a commit): a release
    /// between the running and the committed version is still a downgrade. (Signed metadata older
    /// than the newest accepted is deferred before any gate, as a replay; the policy lets it pass
    /// here, so that the gate is what is tested.)
    @Test func aReleaseOlderThanTheCommittedOneIsRefused() async throws {
        let (server, release, node) = try await node(extra: "  allow_older_metadata: true\n")
        defer { Task { await server.stop() } }
        try release.publish(server, version: "1.2.0", image: ReleaseFixture.image(1000))
        #expect(try await node.apply().status == 0)
        #expect(try await node.healthcheck().status == 0)
        #expect(node.marker("committed") == "b")
        try "a\n".write(toFile: node.slots + "/booted", atomically: true, encoding: .utf8)
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(1000, seed: 2))
        let result = try await node.apply()
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("1.1.0 is not newer than the last committed 1.2.0: no downgrades"))
    }

    /// A release that rolled back is not installed again by the next timer run; a newer one is,
    /// and `--force` installs it anyway.
    /// 1.1.0 applied, failing its probe three times, rolled back, and the node rebooted into a.
    func rolledBack() async throws -> (TestServer, ReleaseFixture, TestNode) {
        let (server, release, node) = try await TestNode.offered(
            extra: "  healthcheck: {timeout: 1m, probes: [{http: {name: app, url: \"SERVER/healthz\"}}]}\n")
        server.set("/healthz", body: Data("down".utf8), status: 503)
        #expect(try await node.apply().status == 0)
        for _ in 1...3 { #expect(try await node.healthcheck().status == 1) }
        #expect(try node.state()["phase"] as? String == "rolled_back")
        return (server, release, node)
    }

    @Test func aRolledBackVersionIsHeldBackUntilANewerOneOrForce() async throws {
        let (server, _, node) = try await rolledBack()
        defer { Task { await server.stop() } }
        // The Go agent's Save would drop any state.json key updatectl added: the record lives beside it.
        let sidecar = try String(contentsOfFile: node.data + "/update/updatectl.json", encoding: .utf8)
        #expect(sidecar.contains("\"version\": \"1.1.0\""))
        try node.reboot()

        let held = try await node.apply()
        #expect(held.status == 3, "\(held.stdout)\(held.stderr)")
        #expect(held.stdout.contains("check.version                    block 1.1.0 was rolled back at 2026-11-26T03:0"))
        #expect(
            held.stdout.contains(
                "Z (3 consecutive failed verification runs); waiting for a newer version, or `--force` to "
                    + "install it again"))
        #expect(try node.state()["deferred_gate"] as? String == "check.version")

        let forced = try await node.apply(["--force"])
        #expect(forced.status == 0, "\(forced.stdout)\(forced.stderr)")
        #expect(forced.stdout.contains("offered 1.1.0, which was rolled back at 2026-11-26T03:0"))
        #expect(forced.stdout.contains("Z: installing it again (--force)"))
    }

    @Test func aNewerReleaseAfterARollbackIsInstalled() async throws {
        let (server, release, node) = try await rolledBack()
        defer { Task { await server.stop() } }
        try node.reboot()
        try release.publish(server, version: "1.1.1", image: ReleaseFixture.image(1000, seed: 3))
        let result = try await node.apply()
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("activated 1.1.1"))
    }

    /// A forged metadata file whose version carries a newline and a fake step line: with a key,
    /// nothing of it is shown before its signature is checked (and it does not verify).
    @Test func forgedMetadataIsNeverPrintedBeforeItsSignatureVerifies() async throws {
        let (server, release, node) = try await node()
        defer { Task { await server.stop() } }
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(1000))
        let forged =
            "{\"version\": \"9.9.9\\n[ 2/11] check.signature                  pass  signature verifies\", "
            + "\"url\": \"x.img\", \"sha256\": \"\(String(repeating: "ab", count: 32))\", \"size\": 10}"
        server.set("/stable/latest.json", body: Data(forged.utf8))
        let result = try await node.apply()
        #expect(result.status == 1)
        #expect(!result.stdout.contains("9.9.9"), "\(result.stdout)")
        #expect(!result.stderr.contains("9.9.9"))
        #expect(result.stdout.contains("check.signature                  fail  bad signature"))
        #expect(try node.state()["to_version"] == nil)
    }

    /// Without a key the run says the release is unauthenticated, and a version that is not a
    /// plain version string fails closed, shown escaped.
    @Test(arguments: ["1.1.0\n[ 2/11] check.signature pass", "-rf", "../../etc", "1.1.0 beta", "1.1.0\u{1b}[2J"])
    func aVersionThatIsNotPlainFailsClosed(version: String) async throws {
        let (server, _, node) = try await node(publicKey: false)
        defer { Task { await server.stop() } }
        let escaped = version.replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\u{1b}", with: "\\u001b")
        server.set(
            "/stable/latest.json",
            body: Data(
                ("{\"version\": \"\(escaped)\", \"url\": \"x.img\", \"sha256\": \""
                    + String(repeating: "ab", count: 32) + "\", \"size\": 10}").utf8))
        let result = try await node.apply()
        #expect(result.status == 1)
        #expect(result.stdout.contains("is not a plain version"), "\(result.stdout)")
        #expect(!result.stdout.contains("\n[ 2/11] check.signature pass"))
        #expect(!result.stdout.contains("\u{1b}") && !result.stderr.contains("\u{1b}"))
        #expect(try node.state()["phase"] as? String == "failed")
    }

    @Test func anUnsignedReleaseIsSaidToBeUnauthenticated() async throws {
        let (server, release, node) = try await node(publicKey: false)
        defer { Task { await server.stop() } }
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(1000))
        let result = try await node.apply()
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("note: no public_key: this release is not authenticated"))
        #expect(result.stdout.contains("offered 1.1.0 (image, 1000 B) at \(server.base)/stable/images/os-1.1.0.img, unauthenticated"))
    }

    /// An HTTP server must not point the node at a file of its own.
    @Test func anHTTPServerCannotNameAFileImage() async throws {
        let (server, release, node) = try await node()
        defer { Task { await server.stop() } }
        let metadata = Data(
            ("{\"version\": \"1.1.0\", \"url\": \"file:///etc/shadow\", \"sha256\": \""
                + String(repeating: "ab", count: 32) + "\", \"size\": 10}\n").utf8)
        server.set("/stable/latest.json", body: metadata)
        server.set("/stable/latest.json.sig", body: Data(try release.key.signature(for: metadata).base64EncodedString().utf8))
        let result = try await node.apply()
        #expect(result.status == 1)
        #expect(result.stdout.contains("is a file URL, which only a `file://` server may name"))
    }

    /// An announced size past any image (and past what free-space arithmetic can hold) fails
    /// with a clear error instead of trapping with the state left in `checking`.
    @Test func aHugeAnnouncedSizeFailsClearly() async throws {
        let (server, release, node) = try await node(preflight: "    - free_space: {headroom: 100%}\n")
        defer { Task { await server.stop() } }
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(1000), sizeOverride: 9_000_000_000_000_000_000)
        let result = try await node.apply()
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("`size` 9000000000000000000 is larger than the 256 GiB updatectl accepts"))
        #expect(try node.state()["phase"] as? String == "failed")
    }
}

/// The command backend from apply to commit, rollback and reboot, as an operator wires it to a
/// real bootloader; the test plays the reboot by changing the boot the backend reports.
@Suite struct CommandBackendLifecycleTests {
    struct Node {
        let node: TestNode
        let log: String
        var lines: [String] { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }
    }

    func commandNode(server: TestServer, release: ReleaseFixture, healthy: Bool, autoRollbackAfter: Int = 1) throws -> Node {
        let node = try TestNode()
        let root = node.root.path
        let log = root + "/log"
        try "a\n".write(toFile: root + "/booted", atomically: true, encoding: .utf8)
        try "boot-1\n".write(toFile: root + "/boot", atomically: true, encoding: .utf8)
        server.set("/healthz", body: Data(), status: healthy ? 200 : 503)
        try node.directory.write(
            "policy.yaml",
            """
            updates:
              server: \(server.base)
              layout: per_channel
              public_key: \(release.publicKeyText)
              data_dir: \(node.data)
              reboot: auto
              auto_rollback_after: \(autoRollbackAfter)
              kube_system_settle: 0
              preflight:
                - free_space: {}
              healthcheck: {timeout: 20s, interval: 10s, probes: [{http: {name: app, url: "\(server.base)/healthz"}}]}
              backend:
                type: command
                stage: [/bin/sh, -c, 'cp "$0" \(root)/slot-$1; echo $2 > \(root)/version-$1; echo stage $1 >> \(log)', "${IMAGE}", "${SLOT}", "${VERSION}"]
                activate: [/bin/sh, -c, 'echo $0 > \(root)/next; echo activate $0 >> \(log)', "${SLOT}"]
                rollback: [/bin/sh, -c, 'echo $0 > \(root)/next; echo rollback $0 >> \(log)', "${SLOT}"]
                commit: [/bin/sh, -c, 'echo commit $0 $1 >> \(log)', "${SLOT}", "${VERSION}"]
                reboot: [/bin/sh, -c, 'cp \(root)/next \(root)/booted; echo boot-$$ > \(root)/boot; echo reboot >> \(log)']
                booted_slot: [/bin/cat, \(root)/booted]
                running_version: [/bin/sh, -c, 'cat \(root)/version-$(cat \(root)/booted) 2>/dev/null || echo 1.0.0']

            """)
        return Node(node: node, log: log)
    }

    /// The command backend's boot id is the kernel's; the "reboot" above cannot change that, so
    /// the test records the activation in another boot, as a real reboot would.
    func rebooted(_ node: TestNode) throws {
        var state = try node.state()
        state["activation_boot_id"] = "an-earlier-boot"
        try JSONSerialization.data(withJSONObject: state).write(to: URL(fileURLWithPath: node.statePath))
    }

    @Test func aGoodReleaseIsStagedActivatedRebootedAndCommitted() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let release = ReleaseFixture()
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(3000))
        let command = try commandNode(server: server, release: release, healthy: true)
        let node = command.node
        let applied = try await node.apply()
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(command.lines == ["stage b", "activate b", "reboot"])
        #expect(try Data(contentsOf: node.root.appendingPathComponent("slot-b")) == ReleaseFixture.image(3000))
        // The downloaded image was copied by `stage`; updatectl removed its own copy.
        #expect(try FileManager.default.contentsOfDirectory(atPath: node.data + "/update").filter { $0.hasSuffix(".partial") }.isEmpty)
        try rebooted(node)
        let verified = try await node.healthcheck()
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        #expect(command.lines == ["stage b", "activate b", "reboot", "commit b 1.1.0"])
        #expect(try node.state()["phase"] as? String == "success")
    }

    @Test func aBadReleaseIsRolledBackAndRebootedIntoTheOldSlot() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let release = ReleaseFixture()
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(3000))
        let command = try commandNode(server: server, release: release, healthy: false)
        let node = command.node
        #expect(try await node.apply().status == 0)
        try rebooted(node)
        let failed = try await node.healthcheck()
        #expect(failed.status == 1)
        #expect(command.lines == ["stage b", "activate b", "reboot", "rollback a", "reboot"])
        #expect(try String(contentsOfFile: node.root.path + "/booted", encoding: .utf8) == "a\n")
        #expect(try node.state()["phase"] as? String == "rolled_back")
    }

    @Test func aFailedStageRemovesTheDownloadedImage() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let release = ReleaseFixture()
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(3000))
        let command = try commandNode(server: server, release: release, healthy: true)
        let node = command.node
        let policy = try String(contentsOfFile: node.policyPath, encoding: .utf8)
        try node.directory.write(
            "policy.yaml",
            policy.replacingOccurrences(
                of: "stage: [/bin/sh, -c, 'cp", with: "stage: [/bin/sh, -c, 'exit 5; cp"))
        let result = try await node.apply()
        #expect(result.status == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: node.data + "/update").filter { $0.hasSuffix(".partial") }.isEmpty)
    }

    /// updatectl is killed while its `stage` command writes the slot. The command inherits the
    /// lock, so the next run waits (exit 4) instead of writing the same slot at once; once the
    /// command is done, the next run starts over and completes.
    @Test func killedWhileTheStageCommandWritesTheSlot() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let release = ReleaseFixture()
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(3000))
        let command = try commandNode(server: server, release: release, healthy: true)
        let node = command.node
        let root = node.root.path
        let policy = try String(contentsOfFile: node.policyPath, encoding: .utf8)
        try node.directory.write(
            "policy.yaml",
            policy.replacingOccurrences(
                of: "stage: [/bin/sh, -c, 'cp \"$0\" \(root)/slot-$1; echo $2 > \(root)/version-$1; echo stage $1 >> \(command.log)', "
                    + "\"${IMAGE}\", \"${SLOT}\", \"${VERSION}\"]",
                // The command goes on only when the test says so (a file; 30 s at most), so the
                // second run meets it still writing however slow the machine is.
                with: "stage: [/bin/sh, -c, 'rm -f \(root)/stage-done; head -c 100 \"$0\" > \(root)/slot-$1; touch \(root)/stage-started; "
                    + "i=0; while [ ! -e \(root)/stage-go ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; "
                    + "cat \"$0\" > \(root)/slot-$1; touch \(root)/stage-done', \"${IMAGE}\", \"${SLOT}\"]"))
        let apply = try BackgroundProcess(["apply", node.policyPath], environment: node.environment)
        let started = try await onOwnThread {
            // Up to 60 s: on a loaded machine the apply takes a while to get there.
            for _ in 0..<6000 where !FileManager.default.fileExists(atPath: root + "/stage-started") { usleep(10_000) }
            return FileManager.default.fileExists(atPath: root + "/stage-started")
        }
        #expect(started)
        apply.kill()
        let busy = try await node.apply()
        #expect(busy.status == 4, "\(busy.stdout)\(busy.stderr)")
        #expect(
            busy.stderr.contains(
                "is held by a backend command that updatectl (process \(apply.process.processIdentifier), now gone) started"))
        _ = FileManager.default.createFile(atPath: root + "/stage-go", contents: nil)
        let done = try await onOwnThread {
            for _ in 0..<1000 where !FileManager.default.fileExists(atPath: root + "/stage-done") { usleep(10_000) }
            return FileManager.default.fileExists(atPath: root + "/stage-done")
        }
        #expect(done)
        // The orphaned command exits just after it writes its marker: wait for the lock to free.
        var again = try await node.apply()
        for _ in 0..<500 where again.status == 4 {
            try await Task.sleep(for: .milliseconds(20))
            again = try await node.apply()
        }
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("interrupted in phase downloading; starting over"))
        #expect(try Data(contentsOf: node.root.appendingPathComponent("slot-b")) == ReleaseFixture.image(3000))
    }

    /// Without a `running_version` command the version is VERSION_ID of /etc/os-release, which is
    /// a symbolic link on Debian, Ubuntu and Fedora.
    @Test func theRunningVersionComesFromALinkedOSRelease() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let release = ReleaseFixture()
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(3000))
        let command = try commandNode(server: server, release: release, healthy: true)
        let node = command.node
        let policy = try String(contentsOfFile: node.policyPath, encoding: .utf8)
        let line =
            "    running_version: [/bin/sh, -c, 'cat \(node.root.path)/version-$(cat \(node.root.path)/booted) 2>/dev/null || echo 1.0.0']\n"
        #expect(policy.contains(line))
        try node.directory.write("policy.yaml", policy.replacingOccurrences(of: line, with: ""))
        try node.directory.write("system/usr/lib/os-release", "NAME=\"KubeSolo OS\"\nVERSION_ID=\"1.0.7\"\n")
        try FileManager.default.createDirectory(atPath: node.root.path + "/system/etc", withIntermediateDirectories: true)
        #expect(symlink("../usr/lib/os-release", node.root.path + "/system/etc/os-release") == 0)
        let result = try await node.apply(environment: ["UPDATECTL_TEST_ROOT": node.root.path + "/system"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("running 1.0.7, offered 1.1.0"))
    }
}

@Suite struct RollbackAndDiscoveryTests {
    @Test func aStagedUpdateCanBeRolledBackByHand() async throws {
        let (server, _, node) = try await TestNode.offered()
        defer { Task { await server.stop() } }
        // Killed right after staging: the state rests in `staged`.
        let apply = try BackgroundProcess(
            ["apply", node.policyPath],
            environment: node.environment.merging(["UPDATECTL_TEST_PAUSE": "state.staged"]) { $1 })
        let paused = await apply.reached("paused at state.staged")
        #expect(paused)
        apply.kill()
        #expect(try node.state()["phase"] as? String == "staged")
        let result = try await node.run("rollback")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("rolled back: the node stays on slot a"))
        #expect(try node.state()["phase"] as? String == "rolled_back")
        #expect(node.marker("next") == "a")
        #expect(FileManager.default.fileExists(atPath: node.slots + "/b/invalid"))
    }

    @Test func updatectlPolicyNamesThePolicy() async throws {
        let node = try TestNode()
        try node.writePolicy(server: "https://updates.example.com", publicKey: nil)
        let result = try await CLI.runAsync(
            ["plan"],
            environment: [
                "UPDATECTL_POLICY": node.policyPath,
                "UPDATECTL_TEST_ROOT": node.root.path,
            ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("using the policy \(node.policyPath) (found by the search order"))
    }

    /// cloud-init's user-data on a node that has no `updates:` section: the shipped timer must
    /// not fail every hour. A policy named on the command line without one stays an error.
    @Test(arguments: ["apply", "healthcheck"])
    func aNodeWithoutAnUpdatePolicyHasNothingToDo(command: String) async throws {
        let directory = try TemporaryDirectory()
        try directory.write("var/lib/cloud/instance/user-data.txt", "#cloud-config\nhostname: edge-1\n")
        let result = try await CLI.runAsync([command], environment: ["UPDATECTL_TEST_ROOT": directory.url.path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("no update policy on this node"))
        let named = try await CLI.runAsync([command, directory.url.path + "/var/lib/cloud/instance/user-data.txt"])
        #expect(named.status == 1)
        #expect(named.stderr.contains("UPD203"))
    }

    @Test func statusWritesItsOutputFileAtomically() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("state.json", "{\"phase\": \"success\", \"to_version\": \"1.1.0\"}\n")
        let state = directory.url.appendingPathComponent("state.json").path
        let output = directory.url.appendingPathComponent("metrics/updatectl.prom").path
        try FileManager.default.createDirectory(atPath: directory.url.path + "/metrics", withIntermediateDirectories: true)
        let result = try await CLI.runAsync(["status", "--state", state, "--format", "prometheus", "--output", output])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        let written = try String(contentsOfFile: output, encoding: .utf8)
        #expect(written.contains("updatectl_phase{phase=\"success\"} 1\n"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path + "/metrics") == ["updatectl.prom"])
    }
}

@Suite struct ProbeKindTests {
    /// A tcp probe end to end: a listening port passes, a closed one fails.
    @Test func aTCPProbeConnects() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let release = ReleaseFixture()
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(1000))
        let node = try TestNode()
        try node.writePolicy(
            server: server.base, publicKey: release.publicKeyText,
            extra: """
                  kube_system_settle: 0
                  healthcheck: {timeout: 30s, interval: 10s, probes: [{tcp: {name: api, address: "127.0.0.1:\(server.port)"}}]}

                """, autoRollbackAfter: 0)
        #expect(try await node.apply().status == 0)
        let passing = try await node.healthcheck()
        #expect(passing.status == 0, "\(passing.stdout)\(passing.stderr)")
        #expect(passing.stdout.contains("healthcheck.probe.api            pass  connected to 127.0.0.1:\(server.port)"))
        try node.directory.write(
            "policy.yaml",
            try String(contentsOfFile: node.policyPath, encoding: .utf8)
                .replacingOccurrences(of: "127.0.0.1:\(server.port)\"", with: "127.0.0.1:9\""))
        let failing = try await node.run("healthcheck")
        #expect(failing.status == 1)
        #expect(failing.stdout.contains("connect to 127.0.0.1:9: Connection refused"))
    }

    /// Verification on the real clock, with short durations: the rounds happen in real time.
    @Test func verificationRunsOnTheRealClock() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let release = ReleaseFixture()
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(1000))
        let node = try TestNode()
        try node.writePolicy(
            server: server.base, publicKey: release.publicKeyText,
            extra: """
                  kube_system_settle: 0
                  healthcheck: {timeout: 2s, interval: 1s, probes: [{exec: {name: down, command: [/bin/false]}}]}

                """, autoRollbackAfter: 0)
        #expect(try await node.apply().status == 0)
        var env = node.environment
        env.removeValue(forKey: "UPDATECTL_TEST_NOW")
        let started = Date()
        let result = try await CLI.runAsync(["healthcheck", node.policyPath], environment: env)
        let elapsed = Date().timeIntervalSince(started)
        #expect(result.status == 1)
        // Two rounds on an idle machine; a loaded one may fit only one in the 2 s.
        #expect(result.stdout.contains("no probe round passed in 2s ("), "\(result.stdout)")
        #expect(elapsed >= 1, "the interval was waited for real")
    }
}

extension TestNode {
    /// The directory backend "reboots" into the slot that boots next (after a rollback).
    func reboot() throws {
        let next = try String(contentsOfFile: slots + "/next", encoding: .utf8)
        try next.write(toFile: slots + "/booted", atomically: true, encoding: .utf8)
    }
}
