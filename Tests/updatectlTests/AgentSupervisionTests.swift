import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What starts `updatectl agent` on a node, each checked by the real consumer: the systemd unit
/// by `systemd-analyze verify`, the KubeSolo OS init-stage script under busybox's own `sh` with
/// nothing but busybox applets on PATH, the Kubernetes manifest against the Kubernetes OpenAPI
/// schema (kubernetes-validate, strict).
@Suite(.serialized) struct AgentSupervisionTests {
    static let systemdAnalyze = TestComponents.program("systemd-analyze")
    static let busybox = TestComponents.program("busybox")
    static let kubernetesValidate = TestComponents.program("kubernetes-validate")

    /// The unit as installed, with ExecStart naming this build's binary (systemd-analyze checks
    /// that it exists): no finding at all, and it runs the agent, restarted always.
    @Test(.enabled(if: systemdAnalyze != nil))
    func theAgentUnitVerifies() throws {
        let analyze = try #require(Self.systemdAnalyze)
        let text = try String(
            contentsOf: Paths.root.appendingPathComponent("examples/systemd/updatectl-agent.service"), encoding: .utf8)
        #expect(text.contains("ExecStart=/usr/local/bin/updatectl agent\n") && text.contains("Restart=always\n"))
        let directory = try TemporaryDirectory()
        let unit = directory.url.appendingPathComponent("updatectl-agent.service")
        try text.replacingOccurrences(of: "/usr/local/bin/updatectl", with: CLI.binary.path).write(
            to: unit, atomically: true, encoding: .utf8)
        let verified = try CLI.runProgram(analyze, ["verify", "--man=no", unit.path])
        #expect(verified.status == 0 && verified.stdout.isEmpty && verified.stderr.isEmpty, "\(verified.stdout)\(verified.stderr)")
        // The check is not blind: a misspelt setting is reported.
        try text.replacingOccurrences(of: "Restart=always", with: "Restart=allways").replacingOccurrences(
            of: "/usr/local/bin/updatectl", with: CLI.binary.path
        ).write(to: unit, atomically: true, encoding: .utf8)
        let broken = try CLI.runProgram(analyze, ["verify", "--man=no", unit.path])
        #expect(broken.stderr.contains("restart specifier"), "\(broken.stderr)")
    }

    /// The manifest is valid Kubernetes (every document, strictly: no unknown field), and its
    /// pod runs the node's own binary as the agent, privileged in the node's PID namespace.
    @Test(.enabled(if: kubernetesValidate != nil))
    func theDaemonSetValidates() throws {
        let validate = try #require(Self.kubernetesValidate)
        let manifest = Paths.root.appendingPathComponent("examples/kubernetes/updatectl-agent.yaml")
        let checked = try CLI.runProgram(validate, ["--strict", manifest.path])
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
        #expect(checked.stdout.contains("passed for resource daemonset/updatectl-agent"), "\(checked.stdout)")
        let text = try String(contentsOf: manifest, encoding: .utf8)
        #expect(text.contains("command: [\"chroot\", \"/host\", \"/usr/local/bin/updatectl\", \"agent\"]"))
        #expect(text.contains("hostPID: true") && text.contains("privileged: true"))
        // A field Kubernetes does not know fails the same check.
        let directory = try TemporaryDirectory()
        try directory.write("bad.yaml", text.replacingOccurrences(of: "hostPID: true", with: "hostPid: true"))
        let bad = try CLI.runProgram(validate, ["--strict", directory.url.appendingPathComponent("bad.yaml").path])
        #expect(bad.status != 0 && (bad.stdout + bad.stderr).contains("hostPid"), "\(bad.stdout)\(bad.stderr)")
    }

    /// The init-stage script under busybox `sh`, with only busybox applets on PATH: `start`
    /// supervises the real agent in the background, an agent that dies is started again,
    /// `status` says so, and `stop` ends both with the agent's own clean stop.
    @Test(.enabled(if: busybox != nil))
    func theInitScriptSupervisesTheAgentUnderBusybox() async throws {
        let busybox = try #require(Self.busybox)
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let release = ReleaseFixture()
        try release.publish(server, version: "1.0.0", image: ReleaseFixture.image(2_000))
        let node = try TestNode()
        try node.writePolicy(
            server: server.base, publicKey: release.publicKeyText,
            extra: "  kube_system_settle: 0\n  agent: {check_every: 1h, jitter: 0s}\n")
        // busybox's applets, and nothing else, on PATH.
        let bin = node.root.appendingPathComponent("busybox-bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        for applet in ["sh", "sleep", "date", "kill", "mkdir", "cat", "dirname", "rm", "echo"] {
            try FileManager.default.createSymbolicLink(atPath: bin.appendingPathComponent(applet).path, withDestinationPath: busybox)
        }
        let log = node.root.appendingPathComponent("log/agent.log").path
        let scriptPath = Paths.root.appendingPathComponent("examples/kubesolo/updatectl-agent.sh").path
        var environment = node.environment.filter { $0.key != "UPDATECTL_TEST_NOW" }
        environment.merge([
            "PATH": bin.path, "UPDATECTL": CLI.binary.path, "UPDATECTL_POLICY": node.policyPath, "UPDATECTL_LOG": log,
            "UPDATECTL_RUN_DIR": node.root.appendingPathComponent("run").path, "UPDATECTL_RESPAWN_PAUSE": "1",
        ]) { $1 }
        func script(_ command: String) throws -> CLI.Result {
            try Self.runAsInit(busybox, ["sh", scriptPath, command], environment: environment, in: node.root)
        }
        func logText() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        /// Waits (up to 60 s of real time, for a loaded machine) until the log says `text` `count` times.
        func logSays(_ text: String, count: Int = 1) async -> Bool {
            for _ in 0..<600 {
                if logText().components(separatedBy: text).count - 1 >= count { return true }
                try? await Task.sleep(for: .milliseconds(100))
            }
            return false
        }
        let started = try script("start")
        #expect(started.status == 0 && started.stdout.contains("updatectl agent started"), "\(started.stdout)\(started.stderr)")
        defer { _ = try? script("stop") }
        #expect(await logSays("agent event: waiting"), "\(logText())")
        #expect(try script("status").stdout.contains("updatectl agent is running"))
        #expect(try script("start").stdout.contains("is running"), "a second start starts nothing")

        // The agent dies: the supervisor starts it again.
        let first = try #require(logText().components(separatedBy: "started the agent (process ").dropFirst().first?.prefix { $0.isNumber })
        #expect(kill(pid_t(String(first))!, SIGKILL) == 0)
        #expect(await logSays("the agent exited with status 137; starting it again in 1s"), "\(logText())")
        #expect(await logSays("agent event: waiting", count: 2), "\(logText())")

        let stopped = try script("stop")
        #expect(stopped.status == 0 && stopped.stdout.contains("updatectl agent stopped"), "\(stopped.stdout)\(stopped.stderr)")
        #expect(logText().contains("agent: stopping (asked to)") || logText().contains("stopping (asked to)"), "\(logText())")
        #expect(logText().hasSuffix("updatectl-agent.sh: stopped\n"), "\(logText())")
        #expect(try script("status").status == 3)
        #expect(try node.state()["phase"] as? String == "idle")
    }

    /// Runs `program` the way an init system starts a service: no signal blocked and every signal
    /// at its default (a test's threads block SIGTERM, and a child inherits that), its output in
    /// files; waits for it to exit.
    static func runAsInit(
        _ program: String, _ arguments: [String], environment: [String: String], in directory: URL
    ) throws
        -> CLI.Result
    {
        let out = directory.appendingPathComponent("init-\(UUID().uuidString).out").path
        let err = out + ".err"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        let envp = controlledEnvironment(environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid = pid_t()
        guard posix_spawn(&pid, program, &actions, &attributes, argv, envp) == 0 else {
            throw CocoaError(.fileReadUnknown)
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return CLI.Result(
            status: exit, stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }
}
