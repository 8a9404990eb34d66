import UpdatePolicy

@testable import UpdateAgent

/// A machine a test sets up: what `SystemProbe` answers.
struct TestSystem: SystemProbe {
    var host = "edge-1"
    var machine = "0123456789abcdef0123456789abcdef"
    var free: UInt64 = 1 << 40
    /// Small files by path (`readText`, `fileExists`).
    var files: [String: String] = [:]
    /// Paths that exist but cannot be read.
    var unreadable: Set<String> = []

    func hostname() -> String { host }
    /// An empty `machine` stands for a machine id that cannot be read.
    func machineID() throws -> String {
        if machine.isEmpty { throw SystemError("cannot read", "/etc/machine-id", code: 2) }
        return machine
    }
    var arch = "amd64"
    func architecture() -> String { arch }
    func freeBytes(at path: String) throws -> UInt64 { free }
    func kubectl() -> String? { nil }
    func fileExists(_ path: String) -> Bool { files[path] != nil || unreadable.contains(path) }
    func environment(_ name: String) -> String? { nil }
    func readText(_ path: String, limit: Int) throws -> String {
        if unreadable.contains(path) { throw SystemError("cannot open", path, code: 13) }
        guard let text = files[path] else { throw SystemError("cannot read", path, code: 2) }
        return String(text.prefix(limit)).trimmingSpaces
    }
}

/// Evaluates one gate, written as a policy writes it (`- free_space: {headroom: 10%}`), against
/// a `TestSystem`: the way to test a kind's evaluation (docs/extending.md).
struct KindHarness {
    var system = TestSystem()
    var runner: any CommandRunner = ProcessRunner()
    /// What HTTP gates and probes reach (default: real libcurl).
    var transport: any Transport = CurlTransport()
    /// What Kubernetes gates and probes ask (default: kubectl on the host).
    var kubernetes: (any KubernetesAPI)?
    /// What a fleet lock answers (default: the real engines).
    var fleet: (any FleetEngines)?
    /// The committed version and the state the gates see.
    var committedVersion: String?
    var state = UpdateState()
    var clock = FixedWallClock(Timestamp.parse("2026-01-05T02:00:00Z")!)
    /// The offered release's version and image size.
    var offeredVersion = "1.1.0"
    var imageSize = 100 << 20
    var runningVersion = "1.0.0"

    struct NotAGate: Error, CustomStringConvertible {
        var description: String
    }

    /// The policy whose `preflight:` lists `entries`; lint errors fail the test with their text.
    func policy(_ entries: String) throws -> Policy {
        let text = "updates:\n  server: https://u.example.com\n  preflight:\n    \(entries)\n"
        let result = PolicyLinter.lint(Array(text.utf8), file: "gate.yaml", options: LintOptions(timeZones: ZoneInfo()))
        let errors = result.findings.filter { $0.severity == .error }
        guard errors.isEmpty, let policy = result.policy else {
            throw NotAGate(description: errors.map { "\($0.rule): \($0.message)" }.joined(separator: "; "))
        }
        return policy
    }

    /// The gate an entry under `preflight:` decodes to.
    func gate(_ entry: String) throws -> Gate {
        // Always-on gates come first unless listed; the written one is the last.
        guard let gate = try policy(entry).preflight.last else { throw NotAGate(description: "no gate in \(entry)") }
        return gate
    }

    func evaluate(_ entry: String, force: Bool = false, offered release: ReleaseMetadata? = nil) throws -> GateOutcome {
        let gate = try gate(entry)
        let offered =
            release
            ?? ReleaseMetadata(
                version: offeredVersion, format: .image,
                files: [
                    ReleaseMetadata.File(
                        name: "image", url: "https://u.example.com/image", sha256: "", size: imageSize, sizeAnnounced: true,
                        signatureURL: nil)
                ])
        var input = GateInput(
            offered: offered, runningVersion: runningVersion, committedVersion: committedVersion, state: state,
            imageDirectory: "/var/lib/updatectl/slots/b", force: force, channel: "stable", dataDir: "/var/lib/kubesolo")
        let slot = passiveSlot
        input.passiveSpace = { _ in slot }
        return Gates(environment).evaluate(gate, input)
    }

    /// The passive slot's room as a backend that measures it itself reports it (nil: the
    /// free space of the image directory is measured).
    var passiveSlot: SlotSpace?

    var environment: CheckEnvironment {
        CheckEnvironment(clock: clock, runner: runner, transport: transport, system: system, kubernetes: kubernetes, fleet: fleet)
    }

    /// The probe an entry under `healthcheck.probes:` decodes to (`kube_system_settle: 0`, so the
    /// listed one is the first).
    func probe(_ entry: String) throws -> Probe {
        // The shorthand's probe is off unless the entry is that kind itself.
        let settle = entry.contains("kube_system_ready") ? "" : "  kube_system_settle: 0\n"
        let text = "updates:\n  server: https://u.example.com\n\(settle)  healthcheck:\n    probes:\n      \(entry)\n"
        let result = PolicyLinter.lint(Array(text.utf8), file: "probe.yaml", options: LintOptions(timeZones: ZoneInfo()))
        let errors = result.findings.filter { $0.severity == .error }
        guard errors.isEmpty, let probe = result.policy?.healthcheck.probes.first else {
            throw NotAGate(description: errors.map { "\($0.rule): \($0.message)" }.joined(separator: "; "))
        }
        return probe
    }

    /// Runs one probe, written as a policy writes it (`- tcp: {address: …}`), as a probe round runs it.
    func run(_ entry: String, variables: [String: String] = [:]) throws -> ProbeResult {
        let probe = try probe(entry)
        guard let result = Probes(environment).round([probe], variables: variables).results.first else {
            throw NotAGate(description: "the round ran no probe")
        }
        return result
    }
}

/// HTTP answers by URL: a status, or a failure to connect.
struct ScriptedTransport: Transport {
    var answers: [String: Int] = [:]

    func get(_ request: TransportRequest, onData: (UnsafeRawBufferPointer) throws -> Void) throws -> TransportResponse {
        guard let status = answers[request.url] else { throw TransportError.failed("connection refused (scripted)") }
        return TransportResponse(status: status, bytes: 0, headers: [])
    }
}

/// The Kubernetes API as a test scripts it: whether there is a cluster, and its answers by path.
struct ScriptedKubernetes: KubernetesAPI {
    var access: KubernetesAccess = .ready(.init(kubectl: "/usr/bin/kubectl", kubeconfig: "/etc/kubernetes/admin.conf"))
    var answers: [(prefix: String, answer: KubernetesAnswer)] = []

    func access(kubeconfig: String?) -> KubernetesAccess { access }

    func get(_ path: String, _ access: KubernetesAccess.Ready, timeout: Duration) -> KubernetesAnswer {
        answers.first { path.hasPrefix($0.prefix) }?.answer ?? .status(404)
    }
}
