public import UpdatePolicy

/// What a gate decided.
public enum GateOutcome: Sendable, Equatable {
    case pass(String)
    /// Defers the run, with a reason a person understands.
    case block(String)
    /// The gate could not decide; the attempt fails.
    case error(String)
    /// `--force` skipped it.
    case skipped(String)
}

/// What gates need to know about the run.
public struct GateInput: Sendable {
    public var offered: ReleaseMetadata
    public var runningVersion: String
    /// The version last verified and committed, when known.
    public var committedVersion: String?
    public var state: UpdateState
    /// The directory the image is written in (the default `free_space` path).
    public var imageDirectory: String
    public var force: Bool
    public var channel: String
    public var dataDir: String

    public init(offered: ReleaseMetadata, runningVersion: String, committedVersion: String?, state: UpdateState,
                imageDirectory: String, force: Bool, channel: String, dataDir: String) {
        self.offered = offered
        self.runningVersion = runningVersion
        self.committedVersion = committedVersion
        self.state = state
        self.imageDirectory = imageDirectory
        self.force = force
        self.channel = channel
        self.dataDir = dataDir
    }
}

/// Decides gates. `Gates` is the real one; `simulate` scripts the answers.
public protocol GateEvaluator: Sendable {
    func evaluate(_ gate: Gate, _ input: GateInput) -> GateOutcome
}

/// Evaluates pre-flight gates.
public struct Gates: GateEvaluator {
    public let clock: any WallClock
    public let runner: any CommandRunner
    public let transport: any Transport
    public let system: any SystemProbe

    public init(clock: any WallClock, runner: any CommandRunner, transport: any Transport, system: any SystemProbe) {
        self.clock = clock
        self.runner = runner
        self.transport = transport
        self.system = system
    }

    /// Gates that `--force` skips: the ones about when and where an update may run. Safety gates
    /// (free space, downgrades, the operator's own exec and http checks) always run.
    public static func skippedByForce(_ kind: GateKind) -> Bool {
        switch kind {
        case .nodeNotBlocked, .maintenanceWindow, .rollout, .maxAttempts: true
        case .freeSpace, .noDowngrade, .exec, .http: false
        }
    }

    public func evaluate(_ gate: Gate, _ input: GateInput) -> GateOutcome {
        if input.force, Self.skippedByForce(gate.kind) { return .skipped("skipped by --force") }
        switch gate.kind {
        case .freeSpace(let headroom, let path):
            return freeSpace(headroom: headroom.value, path: path?.value ?? input.imageDirectory, size: input.offered.size)
        case .nodeNotBlocked(let label, let node, let kubeconfig):
            return nodeNotBlocked(label: label.value, node: node?.value ?? system.hostname(), kubeconfig: kubeconfig?.value,
                                  timeout: gate.timeout.value)
        case .maintenanceWindow(let window):
            let now = LocalTime.reading(at: clock.now(), zone: window.timezone.value)
            let days = window.days.value.count == 7 ? "every day" : window.days.value.map(\.rawValue).joined(separator: ", ")
            let bounds = "\(window.start.value)–\(window.end.value) \(window.timezone.value) (\(days))"
            return LocalTime.isInside(now, window)
                ? .pass("now \(now.text) is inside \(bounds)")
                : .block("now \(now.text) is outside the maintenance window \(bounds)")
        case .maxAttempts(let max):
            let used = input.state.toVersion == input.offered.version ? input.state.attemptCount : 0
            return used < max.value
                ? .pass("\(used) of \(max.value) attempts at \(input.offered.version) used")
                : .block("\(input.offered.version) was attempted \(used) times, the most max_attempts allows (\(max.value))")
        case .noDowngrade:
            guard let offered = SemanticVersion(input.offered.version), let running = SemanticVersion(input.runningVersion) else {
                return .error("cannot compare \(input.offered.version) with the running \(input.runningVersion) as semantic versions")
            }
            guard offered > running else { return .block("\(offered) is not newer than the running \(running): no downgrades") }
            if let text = input.committedVersion, text != input.runningVersion, let committed = SemanticVersion(text) {
                guard offered > committed else {
                    return .block("\(offered) is not newer than the last committed \(committed): no downgrades")
                }
                return .pass("\(offered) is newer than the running \(running) and the committed \(committed)")
            }
            return .pass("\(offered) is newer than the running \(running)")
        case .rollout(let percent, let salt):
            do {
                let bucket = Self.rolloutBucket(machineID: try system.machineID(), salt: salt.value, version: input.offered.version)
                let shown = String(format2: bucket)
                return bucket < percent.value
                    ? .pass("this node's bucket \(shown) is under the \(PercentText.show(percent.value)) rollout")
                    : .block("this node's bucket \(shown) is not under the \(PercentText.show(percent.value)) rollout yet")
            } catch {
                return .error("\(error)")
            }
        case .exec(let command):
            let argv = command.value.map {
                CommandTemplate.substitute($0, ["VERSION": input.offered.version, "FROM_VERSION": input.runningVersion,
                                                "CHANNEL": input.channel, "DATA_DIR": input.dataDir])
            }
            do {
                let result = try runner.run(argv, timeout: gate.timeout.value, environment: [:])
                if result.succeeded { return .pass("\(argv.joined(separator: " ")) exited 0") }
                let tail = result.stderr.trimmingSpaces
                return .block("\(argv.joined(separator: " ")) \(result.ending)" + (tail.isEmpty ? "" : ": \(tail.suffix(300))"))
            } catch {
                return .error("\(error)")
            }
        case .http(let url, let status):
            do {
                let response = try transport.get(TransportRequest(url: url.value.text, maxBytes: 1 << 20, timeout: gate.timeout.value,
                                                                  schemes: ["http", "https"])) { _ in }
                return response.status == status.value
                    ? .pass("GET \(url.value.text) answered \(response.status)")
                    : .block("GET \(url.value.text) answered \(response.status), not \(status.value)")
            } catch {
                return .block("GET \(url.value.text) failed: \(error)")
            }
        }
    }

    private func freeSpace(headroom: Double, path: String, size: Int) -> GateOutcome {
        let needed = UInt64((Double(size) * (1 + headroom / 100)).rounded(.up))
        do {
            let free = try system.freeBytes(at: path)
            let detail = "free space \(ByteText.show(free)) on \(path), needed \(ByteText.show(needed)) "
                + "(image \(ByteText.show(UInt64(size))) + \(PercentText.show(headroom)))"
            return free >= needed ? .pass(detail) : .block(detail.replacingFirst("free space", with: "only"))
        } catch {
            return .error("\(error)")
        }
    }

    private func nodeNotBlocked(label: String, node: String, kubeconfig: String?, timeout: Duration) -> GateOutcome {
        let kubernetes = Kubernetes(system: system, runner: runner)
        switch kubernetes.access(kubeconfig: kubeconfig) {
        case .noKubernetes(let reason), .incomplete(let reason):
            return .pass("\(reason): passing, as the upstream agent does")
        case .ready(let kubectl, let config):
            switch kubernetes.getRaw("/api/v1/nodes/\(node)", kubectl: kubectl, kubeconfig: config, timeout: timeout) {
            case .unreachable(let reason):
                return .pass("no cluster reachable through \(config) (\(reason)): passing, as the upstream agent does")
            case .notFound:
                return .error("node \(node) is not in the cluster; set `node:` on the gate if its name is not the host name")
            case .failed(let reason):
                return .error(reason)
            case .json(let object):
                let value = object["metadata"]?["labels"]?[label]?.stringValue
                return value == "true"
                    ? .block("node \(node) carries \(label)=true")
                    : .pass("node \(node) does not carry \(label)=true")
            }
        }
    }

    /// A stable bucket in [0, 100) from the machine id, the salt and the target version: a node
    /// stays in or out of a rollout until the version or salt changes.
    public static func rolloutBucket(machineID: String, salt: String, version: String) -> Double {
        let digest = SHA256Stream.digest(Array("\(machineID)\n\(salt)\n\(version)".utf8))
        var value: UInt64 = 0
        for byte in digest.prefix(8) { value = value << 8 | UInt64(byte) }
        return Double(value % 1_000_000) / 10_000
    }
}

enum ByteText {
    /// 1.0 GiB, 812 MiB, 4 KiB, 17 B.
    static func show(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        return (value >= 100 ? String(Int(value.rounded())) : String(format1: value)) + " " + units[unit]
    }
}

enum PercentText {
    static func show(_ value: Double) -> String {
        (value == value.rounded() ? String(Int(value)) : String(value)) + "%"
    }
}

extension String {
    /// One decimal place.
    init(format1 value: Double) {
        let tenths = Int((value * 10).rounded())
        self = "\(tenths / 10).\(tenths % 10)"
    }

    /// Two decimal places.
    init(format2 value: Double) {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        self = "\(hundredths / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }

    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return String(self[..<range.lowerBound]) + replacement + String(self[range.upperBound...])
    }
}
