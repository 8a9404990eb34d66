#if canImport(Glibc)
import Glibc
#endif
public import UpdatePolicy

/// What one probe found.
public struct ProbeResult: Sendable {
    public var name: String
    public var passed: Bool
    public var detail: String
    public var duration: Duration

    public init(name: String, passed: Bool, detail: String, duration: Duration) {
        self.name = name
        self.passed = passed
        self.detail = detail
        self.duration = duration
    }
}

/// Runs probe rounds. `Probes` is the real one; `simulate` scripts the outcomes.
public protocol ProbeRunner: Sendable {
    /// One round: every probe at once. Returns the results in probe order and how long the round took.
    func round(_ probes: [Probe], variables: [String: String]) -> (results: [ProbeResult], duration: Duration)
}

/// Runs health probes, each under its own timeout.
public struct Probes: ProbeRunner {
    public let clock: any RunClock
    public let runner: any CommandRunner
    public let transport: any Transport
    public let system: any SystemProbe

    public init(clock: any RunClock, runner: any CommandRunner, transport: any Transport, system: any SystemProbe) {
        self.clock = clock
        self.runner = runner
        self.transport = transport
        self.system = system
    }

    public func round(_ probes: [Probe], variables: [String: String]) -> (results: [ProbeResult], duration: Duration) {
        let begun = Monotonic.now()
        let results = Slots<ProbeResult>(count: probes.count)
        let copy = self
        Parallel.run(probes.count) { index in
            results.set(index, copy.run(probes[index], variables: variables))
        }
        return (results.values, .nanoseconds(Int64(Monotonic.now() - begun)))
    }

    public func run(_ probe: Probe, variables: [String: String]) -> ProbeResult {
        let started = Monotonic.now()
        let (passed, detail) = evaluate(probe, variables: variables)
        let elapsed = Duration.nanoseconds(Int64(Monotonic.now() - started))
        return ProbeResult(name: probe.name.value, passed: passed, detail: detail, duration: elapsed)
    }

    private func evaluate(_ probe: Probe, variables: [String: String]) -> (Bool, String) {
        let timeout = probe.timeout.value
        switch probe.kind {
        case .http(let url, let status):
            do {
                let response = try transport.get(TransportRequest(
                    url: url.value.text, maxBytes: 1 << 20, connectTimeout: timeout, timeout: timeout, maxRedirects: 3,
                    schemes: ["http", "https"])) { _ in }
                return response.status == status.value
                    ? (true, "GET \(url.value.text) answered \(response.status)")
                    : (false, "GET \(url.value.text) answered \(response.status), not \(status.value)")
            } catch {
                return (false, "GET \(url.value.text) failed: \(error)")
            }
        case .tcp(let address):
            return TCPProbe.connect(address.value, timeout: timeout)
        case .exec(let command):
            let argv = command.value.map { CommandTemplate.substitute($0, variables) }
            do {
                let result = try runner.run(argv, timeout: timeout, environment: [:])
                if result.succeeded { return (true, "\(argv.joined(separator: " ")) exited 0") }
                let tail = result.stderr.trimmingSpaces
                let ending = result.timedOut ? "was killed after its \(DurationText.format(timeout)) timeout" : result.ending
                return (false, "\(argv.joined(separator: " ")) \(ending)" + (tail.isEmpty ? "" : ": \(tail.suffix(200))"))
            } catch {
                return (false, "\(error)")
            }
        case .diskWritable(let path):
            return DiskProbe.check(path.value)
        case .kubeSystemReady(let settle):
            return kubeSystem(settle: settle.value, timeout: timeout)
        }
    }

    private func kubeSystem(settle: Duration, timeout: Duration) -> (Bool, String) {
        let kubernetes = Kubernetes(system: system, runner: runner)
        let kubectl: String, kubeconfig: String
        switch kubernetes.access(kubeconfig: nil) {
        case .ready(let path, let config): (kubectl, kubeconfig) = (path, config)
        case .noKubernetes(let reason): return (true, "\(reason): passing, as the upstream agent does")
        case .incomplete(let reason): return (false, "\(reason): cannot check kube-system")
        }
        switch kubernetes.getRaw("/api/v1/namespaces/kube-system/pods", kubectl: kubectl, kubeconfig: kubeconfig, timeout: timeout) {
        case .unreachable(let reason):
            return (false, "the API server does not answer through \(kubeconfig) (\(reason))")
        case .notFound:
            return (false, "the kube-system namespace does not exist")
        case .failed(let reason):
            return (false, reason)
        case .json(let list):
            guard case .array(let pods)? = list["items"] else { return (false, "kubectl answered no pod list") }
            if pods.isEmpty { return (false, "no kube-system pods are scheduled yet") }
            let now = clock.now()
            var waiting: [String] = []
            for pod in pods {
                let name = pod["metadata"]?["name"]?.stringValue ?? "?"
                let phase = pod["status"]?["phase"]?.stringValue ?? "Unknown"
                guard phase == "Running" else {
                    waiting.append("\(name) is \(phase)")
                    continue
                }
                // Running since the latest container (re)start: a crash-looping pod keeps restarting.
                var since = pod["status"]?["startTime"]?.stringValue.flatMap(Timestamp.parse)
                if case .array(let containers)? = pod["status"]?["containerStatuses"] {
                    for container in containers {
                        guard let started = container["state"]?["running"]?["startedAt"]?.stringValue.flatMap(Timestamp.parse)
                        else {
                            since = nil
                            waiting.append("\(name) has a container that is not running")
                            break
                        }
                        if since == nil || started > since! { since = started }
                    }
                }
                guard let since else { continue }
                let held = now - since
                if held < settle {
                    waiting.append("\(name) Running for \(DurationText.format(.seconds(max(0, held.components.seconds)))) "
                        + "< \(DurationText.format(settle))")
                }
            }
            return waiting.isEmpty
                ? (true, "all \(pods.count) kube-system pods Running for ≥ \(DurationText.format(settle))")
                : (false, waiting.prefix(3).joined(separator: "; ") + (waiting.count > 3 ? "; and \(waiting.count - 3) more" : ""))
        }
    }
}

/// Write-once slots filled from several threads (probe rounds, concurrent lint).
public final class Slots<Value>: @unchecked Sendable {
    private let lock = Mutex()
    private var slots: [Value?]

    public init(count: Int) { slots = Array(repeating: nil, count: count) }

    public func set(_ index: Int, _ value: Value) { lock.withLock { slots[index] = value } }
    public var values: [Value] { lock.withLock { slots.map { $0! } } }
}

enum TCPProbe {
    static func connect(_ address: HostPort, timeout: Duration) -> (Bool, String) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(address.host, String(address.port), &hints, &list) == 0, let first = list else {
            return (false, "cannot resolve \(address.host)")
        }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
                        first.pointee.ai_protocol)
        guard fd >= 0 else { return (false, "cannot make a socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        if Glibc.connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 { return (true, "connected to \(address)") }
        guard errno == EINPROGRESS else { return (false, "connect to \(address): \(String(cString: strerror(errno)))") }
        var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let milliseconds = Int32(min(Int64(Int32.max), DurationText.milliseconds(timeout)))
        let ready = poll(&entry, 1, milliseconds)
        guard ready > 0 else { return (false, "connect to \(address) timed out after \(DurationText.format(timeout))") }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        return error == 0 ? (true, "connected to \(address)") : (false, "connect to \(address): \(String(cString: strerror(error)))")
    }
}

enum DiskProbe {
    /// Writes, fsyncs, reads back and removes a 1 KiB file under `directory`.
    static func check(_ directory: String) -> (Bool, String) {
        let path = directory + "/.updatectl-probe-\(getpid())-\(Monotonic.now() % 1_000_000)"
        var bytes = [UInt8](repeating: 0, count: 1024)
        for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index &* 131 &+ Int(getpid())) }
        defer { unlink(path) }
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return (false, "cannot create a file in \(directory): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        do {
            try AtomicFile.writeAll(fd, bytes, path: path)
        } catch {
            return (false, "\(error)")
        }
        guard fsync(fd) == 0 else { return (false, "fsync in \(directory) failed: \(String(cString: strerror(errno)))") }
        var back = [UInt8](repeating: 0, count: 1024)
        guard pread(fd, &back, back.count, 0) == back.count, back == bytes else {
            return (false, "what was written in \(directory) did not read back the same")
        }
        return (true, "wrote, synced and read back 1 KiB in \(directory)")
    }
}
