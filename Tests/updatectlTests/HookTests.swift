import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `hooks:` end to end: the real binary, a release server on 127.0.0.1 and the directory backend
/// in a temporary root; the hook commands are shell scripts that write what they saw to a log.
@Suite(.serialized) struct HookTests {
    /// A node on 1.0.0 offered 1.1.0, with a probe on the server's `/healthz` and `hooks` (in
    /// which LOG stands for the node's hook log and ROOT for its temporary root).
    func node(
        hooks: String, healthy: Bool = true, autoRollbackAfter: Int = 3, reboot: String = "auto", extra: String = "",
        preflight: String = "    - free_space: {headroom: 10%}\n"
    ) async throws -> (server: TestServer, node: TestNode, log: String) {
        let server = try await TestServer()
        let release = ReleaseFixture()
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(4000))
        server.set("/healthz", body: Data("ok".utf8), status: healthy ? 200 : 503)
        let node = try TestNode()
        let log = node.root.appendingPathComponent("hooks.log").path
        let extra =
            "  healthcheck:\n    timeout: 1m\n    interval: 10s\n    probes:\n      - http: {name: app, url: \"\(server.base)/healthz\"}\n"
            + "  hooks:\n" + hooks.replacingOccurrences(of: "LOG", with: log).replacingOccurrences(of: "ROOT", with: node.root.path)
            + extra
        try node.writePolicy(
            server: server.base, publicKey: release.publicKeyText, preflight: preflight, reboot: reboot, extra: extra,
            autoRollbackAfter: autoRollbackAfter)
        return (server, node, log)
    }

    /// A hook command that appends its `UPDATECTL_*` environment, the directory backend's slot
    /// markers as it finds them, and its `${VERSION}` argument to LOG.
    static let recorder =
        "[/bin/sh, -c, 'env | grep ^UPDATECTL_ | sort >> LOG; "
        + "echo next=$(cat ROOT/slots/next 2>/dev/null || echo a) booted=$(cat ROOT/slots/booted 2>/dev/null || echo a) "
        + "committed=$(cat ROOT/slots/committed 2>/dev/null || echo a) arg=$0 >> LOG', '${VERSION}']"

    static func environment(_ hook: String, phase: String, node: TestNode) -> String {
        """
        UPDATECTL_CHANNEL=stable
        UPDATECTL_DATA_DIR=\(node.data)
        UPDATECTL_FROM_VERSION=1.0.0
        UPDATECTL_HOOK=\(hook)
        UPDATECTL_PHASE=\(phase)
        UPDATECTL_TO_VERSION=1.1.0

        """
    }

    static func line(_ output: String, of step: String) -> String {
        output.split(separator: "\n").first { $0.contains(" \(step) ") }.map(String.init) ?? ""
    }

    /// Requests for the release's image.
    static func imageRequests(_ server: TestServer) -> Int {
        server.requests.filter { $0.hasSuffix("/images/os-1.1.0.img") }.count
    }

    @Test func beforeRebootRunsWithTheVersionsBeforeTheActivation() async throws {
        let (server, node, log) = try await node(hooks: "    before_reboot:\n      - \(Self.recorder)\n")
        defer { Task { await server.stop() } }
        let dryRun = try await node.apply(["--dry-run"])
        #expect(dryRun.status == 0, "\(dryRun.stdout)\(dryRun.stderr)")
        #expect(
            Self.line(dryRun.stdout, of: "hook.before_reboot").contains(" skip  dry run: the hook commands are not run"),
            "\(dryRun.stdout)")
        #expect(!FileManager.default.fileExists(atPath: log), "a dry run ran the hook")
        let result = try await node.apply()
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(Self.line(result.stdout, of: "hook.before_reboot").contains(" done "), "\(result.stdout)")
        let steps = result.stdout.split(separator: "\n").map(String.init)
        let hook = try #require(steps.firstIndex { $0.contains(" hook.before_reboot ") })
        let activate = try #require(steps.firstIndex { $0.contains(" activate.slot ") })
        #expect(hook < activate)
        // The slot to boot next was still the running one: the hook ran before the activation.
        let recorded = try String(contentsOfFile: log, encoding: .utf8)
        #expect(
            recorded == Self.environment("before_reboot", phase: "staged", node: node) + "next=a booted=a committed=a arg=1.1.0\n")
        #expect(node.marker("booted") == "b" && node.marker("next") == "b")
    }

    @Test func aFailingBeforeRebootDefersAndTheNextRunRebootsWithoutDownloadingAgain() async throws {
        let ready = "ROOT/drained"
        let (server, node, _) = try await node(
            hooks: "    before_reboot:\n      - [/bin/sh, -c, 'test -f \(ready) || { echo workloads still running >&2; exit 4; }']\n")
        defer { Task { await server.stop() } }
        let deferred = try await node.apply()
        #expect(deferred.status == 3, "\(deferred.stdout)\(deferred.stderr)")
        #expect(Self.line(deferred.stdout, of: "hook.before_reboot").contains(" block "), "\(deferred.stdout)")
        #expect(deferred.stdout.contains("exit status 4: workloads still running"), "\(deferred.stdout)")
        #expect(deferred.stdout.contains("deferred by hook.before_reboot"), "\(deferred.stdout)")
        #expect(!deferred.stdout.contains(" activate.slot "))
        let state = try node.state()
        #expect(state["phase"] as? String == "staged")
        #expect(node.marker("booted") == "a" && node.marker("next") == "a")
        #expect(Self.imageRequests(server) == 1)

        try "".write(toFile: ready.replacingOccurrences(of: "ROOT", with: node.root.path), atomically: true, encoding: .utf8)
        let applied = try await node.apply()
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(Self.line(applied.stdout, of: "hook.before_reboot").contains(" done "), "\(applied.stdout)")
        #expect(Self.imageRequests(server) == 1, "the staged release was not downloaded again")
        #expect(node.marker("booted") == "b")
        #expect(try node.state()["phase"] as? String == "activated")
    }

    /// The fleet slot taken for the reboot is given back when before_reboot defers it, and taken
    /// again by the run that reboots.
    @Test func aDeferringBeforeRebootGivesTheFleetSlotBack() async throws {
        let fleetLock = try await TestFleetLockServer(slots: 1)
        let ready = "ROOT/drained"
        let (server, node, _) = try await node(
            hooks: "    before_reboot:\n      - [/bin/sh, -c, 'test -f \(ready)']\n",
            preflight: "    - fleet_lock: {engine: fleetlock, url: \"\(fleetLock.base)\", group: workers, id: node-a}\n")
        defer { Task { await server.stop() } }
        defer { Task { await fleetLock.stop() } }
        let deferred = try await node.apply()
        #expect(deferred.status == 3, "\(deferred.stdout)\(deferred.stderr)")
        #expect(Self.line(deferred.stdout, of: "preflight.fleet_lock").contains(" pass "), "\(deferred.stdout)")
        #expect(fleetLock.holders("workers") == [], "\(deferred.stdout)")
        #expect(
            fleetLock.requests.map(\.path) == [
                "/fleet_lock/v1/steady-state", "/fleet_lock/v1/pre-reboot", "/fleet_lock/v1/steady-state",
            ])

        try "".write(toFile: ready.replacingOccurrences(of: "ROOT", with: node.root.path), atomically: true, encoding: .utf8)
        let applied = try await node.apply()
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(fleetLock.holders("workers") == ["node-a"])
        #expect(node.marker("booted") == "b")
    }

    /// With `activation: separate`, `apply` stops at staged without the hook; `activate` runs it
    /// before it activates, and is deferred by it as `apply` is.
    @Test func activateRunsBeforeRebootWithActivationSeparate() async throws {
        let ready = "ROOT/drained"
        let (server, node, log) = try await node(
            hooks: "    before_reboot:\n      - [/bin/sh, -c, 'test -f \(ready) || { echo still busy >&2; exit 1; }']\n"
                + "      - \(Self.recorder)\n",
            extra: "  activation: separate\n")
        defer { Task { await server.stop() } }
        let staged = try await node.apply()
        #expect(staged.status == 0, "\(staged.stdout)\(staged.stderr)")
        #expect(!staged.stdout.contains(" hook.before_reboot "), "\(staged.stdout)")
        #expect(try node.state()["phase"] as? String == "staged")
        let deferred = try await node.run("activate")
        #expect(deferred.status == 3, "\(deferred.stdout)\(deferred.stderr)")
        #expect(deferred.stdout.contains("deferred by hook.before_reboot"), "\(deferred.stdout)")
        #expect(!FileManager.default.fileExists(atPath: log), "the commands after the failing one ran")
        #expect(try node.state()["phase"] as? String == "staged")
        #expect(node.marker("next") == "a")

        try "".write(toFile: ready.replacingOccurrences(of: "ROOT", with: node.root.path), atomically: true, encoding: .utf8)
        let activated = try await node.run("activate")
        #expect(activated.status == 0, "\(activated.stdout)\(activated.stderr)")
        let recorded = try String(contentsOfFile: log, encoding: .utf8)
        #expect(
            recorded == Self.environment("before_reboot", phase: "staged", node: node) + "next=a booted=a committed=a arg=1.1.0\n")
        #expect(node.marker("booted") == "b")
    }

    @Test func aHangingBeforeRebootIsKilledWithItsProcessGroupAtItsTimeout() async throws {
        let (server, node, log) = try await node(
            hooks: "    timeout: 2s\n    before_reboot:\n      - [/bin/sh, -c, 'sleep 600 & echo $! > LOG; wait']\n")
        defer { Task { await server.stop() } }
        let result = try await node.apply()
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("was killed after its 2s timeout"), "\(result.stdout)")
        #expect(node.marker("booted") == "a" && node.marker("next") == "a")
        // The shell's child (updatectl's grandchild) went with the group.
        let text = try String(contentsOfFile: log, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let pid = try #require(Int32(text))
        var alive = true
        for _ in 0..<100 {
            let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
            alive = stat.map { !$0.contains(") Z ") } ?? false
            if !alive { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        if alive { kill(pid, SIGKILL) }
        #expect(!alive, "sleep \(pid) outlived its hook")
    }

    /// A hook that starts something in the background (a notifier) and exits 0 has succeeded:
    /// the background process keeps the output pipes open, but the command is judged by its own
    /// exit, not by theirs, and nothing waits for the hook's timeout.
    @Test func aHookThatLeavesABackgroundProcessSucceedsWhenItExits() async throws {
        let (server, node, log) = try await node(
            hooks: "    timeout: 10m\n    before_reboot:\n      - [/bin/sh, -c, 'sleep 600 & echo $! > LOG; exit 0']\n")
        defer { Task { await server.stop() } }
        defer {
            if let pid = try? String(contentsOfFile: log, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
                let number = Int32(pid)
            {
                kill(number, SIGKILL)
            }
        }
        let result = try await node.apply()
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let line = Self.line(result.stdout, of: "hook.before_reboot")
        #expect(line.contains(" done ") && !line.contains("killed"), "\(result.stdout)")
        #expect(node.marker("booted") == "b" && node.marker("next") == "b", "\(result.stdout)")
    }

    @Test func afterCommitRunsOnceTheHealthcheckCommitsAndItsFailureIsAWarning() async throws {
        let (server, node, log) = try await node(
            hooks: "    after_commit:\n      - [/bin/sh, -c, 'echo chat is down >&2; exit 2']\n      - \(Self.recorder)\n")
        defer { Task { await server.stop() } }
        let applied = try await node.apply()
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(!FileManager.default.fileExists(atPath: log), "after_commit ran before the commit")
        let result = try await node.healthcheck()
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        HealthcheckTests.expectGapless(result)
        #expect(try node.state()["phase"] as? String == "success")
        #expect(result.stderr.contains("warning: hook.after_commit: /bin/sh -c echo chat is down"), "\(result.stderr)")
        #expect(result.stderr.contains("exit status 2: chat is down; the outcome stands"), "\(result.stderr)")
        let recorded = try String(contentsOfFile: log, encoding: .utf8)
        #expect(
            recorded == Self.environment("after_commit", phase: "success", node: node) + "next=b booted=b committed=b arg=1.1.0\n")
    }

    @Test func afterRollbackRunsAfterAnAutomaticRollbackBeforeItsReboot() async throws {
        let (server, node, log) = try await node(
            hooks: "    after_rollback:\n      - \(Self.recorder)\n", healthy: false, autoRollbackAfter: 1)
        defer { Task { await server.stop() } }
        let applied = try await node.apply()
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        let result = try await node.healthcheck()
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        HealthcheckTests.expectGapless(result)
        #expect(Self.line(result.stdout, of: "hook.after_rollback").contains(" done "), "\(result.stdout)")
        #expect(try node.state()["phase"] as? String == "rolled_back")
        // Slot a boots next, and the node had not rebooted into it yet.
        let recorded = try String(contentsOfFile: log, encoding: .utf8)
        #expect(
            recorded == Self.environment("after_rollback", phase: "rolled_back", node: node)
                + "next=a booted=b committed=a arg=1.1.0\n")
        #expect(node.marker("booted") == "a")
    }

    @Test func afterRollbackRunsAfterABootloaderFallback() async throws {
        let (server, node, log) = try await node(hooks: "    after_rollback:\n      - \(Self.recorder)\n")
        defer { Task { await server.stop() } }
        let applied = try await node.apply()
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        try "a\n".write(toFile: node.slots + "/booted", atomically: true, encoding: .utf8)
        let result = try await node.healthcheck()
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("the bootloader fell back"), "\(result.stderr)")
        #expect(Self.line(result.stdout, of: "hook.after_rollback").contains(" done "), "\(result.stdout)")
        let recorded = try String(contentsOfFile: log, encoding: .utf8)
        #expect(recorded.hasPrefix(Self.environment("after_rollback", phase: "rolled_back", node: node)), "\(recorded)")
    }

    @Test func afterRollbackRunsAfterARollbackByHand() async throws {
        let (server, node, log) = try await node(hooks: "    after_rollback:\n      - \(Self.recorder)\n")
        defer { Task { await server.stop() } }
        let applied = try await node.apply()
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        let result = try await node.run("rollback")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let recorded = try String(contentsOfFile: log, encoding: .utf8)
        #expect(recorded.hasPrefix(Self.environment("after_rollback", phase: "rolled_back", node: node)), "\(recorded)")
        #expect(recorded.hasSuffix("next=a booted=b committed=a arg=1.1.0\n"), "\(recorded)")
    }

    @Test func planShowsEachHookAtItsPlace() async throws {
        let (server, node, _) = try await node(
            hooks: "    timeout: 90s\n    before_reboot:\n      - [/usr/local/bin/drain, --all]\n"
                + "    after_commit:\n      - [/usr/local/bin/notify, committed]\n"
                + "    after_rollback:\n      - [/usr/local/bin/notify, rolled-back]\n")
        defer { Task { await server.stop() } }
        let result = try await node.run("plan")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let text = result.stdout
        func position(_ step: String) throws -> String.Index {
            try #require(text.range(of: step)?.lowerBound, "\(step) in \(text)")
        }
        #expect(try position("preflight.free_space") < position("hook.before_reboot"))
        #expect(try position("hook.before_reboot") < position("activate.slot"))
        #expect(try position("healthcheck.commit") < position("hook.after_commit"))
        #expect(try position("hook.after_commit") < position("healthcheck.failure"))
        #expect(try position("healthcheck.rollback") < position("hook.after_rollback"))
        #expect(text.contains("command: [/usr/local/bin/drain, --all], timeout: 1m30s"), "\(text)")
        #expect(text.contains("command: [/usr/local/bin/notify, rolled-back], timeout: 1m30s"), "\(text)")
        #expect(text.contains("- a before_reboot hook command that fails or runs past its timeout defers the run"), "\(text)")
        #expect(text.contains("- an after_commit or after_rollback hook command that fails is a warning"), "\(text)")
    }

    @Test func lintFindsARelativeHookProgram() async throws {
        let (server, node, _) = try await node(hooks: "    before_reboot:\n      - [drain-node, --all]\n")
        defer { Task { await server.stop() } }
        let result = try await node.run("lint")
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        let lines = try String(contentsOfFile: node.policyPath, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let row = try #require(lines.firstIndex { $0.contains("drain-node") }) + 1
        #expect(result.stdout.contains("error[UPD311]: the program `drain-node` is not an absolute path"), "\(result.stdout)")
        #expect(result.stdout.contains("policy.yaml:\(row):10\n"), "\(result.stdout)")
    }

    /// Lint's checks of commands reach hook commands: a `${…}` pasted into a shell script, and
    /// with `--on-host` a program that is not installed; and a before_reboot that can never run.
    @Test func lintChecksHookCommandsAsItChecksEveryCommand() async throws {
        let (server, node, _) = try await node(
            hooks: "    before_reboot:\n      - [/bin/sh, -c, 'notify ${VERSION}']\n"
                + "    after_commit:\n      - [/nonexistent/notify, committed]\n",
            reboot: "manual")
        defer { Task { await server.stop() } }
        let lint = try await node.run("lint", ["--format", "concise"])
        #expect(lint.status == 0, "\(lint.stdout)\(lint.stderr)")
        let lines = try String(contentsOfFile: node.policyPath, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let row = try #require(lines.firstIndex { $0.contains("notify ${VERSION}") }) + 1
        #expect(
            lint.stdout.contains(
                "policy.yaml:\(row):7: warning[UPD411] hook `before_reboot` substitutes `${VERSION}` into a shell script"),
            "\(lint.stdout)")
        #expect(
            lint.stdout.contains(
                "policy.yaml:\(row):7: warning[UPD420] reboot is manual, so updatectl never reboots and the before_reboot "
                    + "commands never run"),
            "\(lint.stdout)")
        let host = try await node.run("lint", ["--format", "concise", "--on-host"])
        #expect(host.status == 1, "\(host.stdout)\(host.stderr)")
        #expect(host.stdout.contains("error[UPD501] hook `after_commit`: /nonexistent/notify"), "\(host.stdout)")
    }

    /// A scenario's `hooks:` makes a point's commands fail (before_reboot: deferred) or hang
    /// (after_commit: killed at its timeout on the virtual clock, and the update still succeeds).
    @Test func simulateScriptsFailingAndHangingHooks() throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            "policy.yaml",
            """
            updates:
              server: https://updates.example.com/kubesolo
              reboot: auto
              hooks:
                timeout: 3m
                before_reboot:
                  - [/usr/local/bin/drain-workloads]
                after_commit:
                  - [/usr/local/bin/notify, committed]

            """)
        func simulate(_ hooks: String, expect outcome: String) throws -> CLI.Result {
            try directory.write(
                "scenario.yaml",
                """
                scenario:
                  release: {version: 1.1.0}
                  hooks: \(hooks)
                  expect: {outcome: \(outcome)}

                """)
            return try CLI.run([
                "simulate", directory.url.appendingPathComponent("policy.yaml").path, "--scenario",
                directory.url.appendingPathComponent("scenario.yaml").path,
            ])
        }
        let failing = try simulate("{before_reboot: fail}", expect: "deferred")
        #expect(failing.status == 0, "\(failing.stdout)\(failing.stderr)")
        #expect(Self.line(failing.stdout, of: "hook.before_reboot").contains("block"), "\(failing.stdout)")
        #expect(failing.stdout.contains("Outcome: deferred by hook.before_reboot"), "\(failing.stdout)")
        #expect(!failing.stdout.contains(" activate.slot "), "\(failing.stdout)")

        let hanging = try simulate("{after_commit: hang}", expect: "success")
        #expect(hanging.status == 0, "\(hanging.stdout)\(hanging.stderr)")
        let line = Self.line(hanging.stdout, of: "hook.after_commit")
        #expect(line.contains("fail") && line.contains("was killed after its 3m timeout"), "\(hanging.stdout)")
        #expect(hanging.stdout.contains("Outcome: success"), "\(hanging.stdout)")
    }
}
