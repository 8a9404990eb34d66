public import JSONValue
import UpdatePolicy

/// How checks ask the Kubernetes API. `Kubectl` is the real one (as upstream: no client
/// library); `simulate` answers from its scenario.
public protocol KubernetesAPI: Sendable {
    /// The kubectl and kubeconfig to use: the given kubeconfig, else `$KUBECONFIG`, else the
    /// defaults.
    func access(kubeconfig: String?) -> KubernetesAccess
    /// GETs an API path as JSON.
    func get(_ path: String, _ access: KubernetesAccess.Ready, timeout: Duration) -> KubernetesAnswer
}

public enum KubernetesAccess: Sendable {
    public struct Ready: Sendable {
        public var kubectl: String
        public var kubeconfig: String
    }

    case ready(Ready)
    /// Neither kubectl nor a kubeconfig: a node without Kubernetes (upstream's air-gap case).
    case noKubernetes(String)
    /// Only one of the two: Kubernetes is expected here but cannot be asked.
    case incomplete(String)
}

/// What the API server answered, typed: callers decide what each case means for them.
public enum KubernetesAnswer: Sendable {
    case json(JSON)
    /// The server answered with an HTTP status other than success.
    case status(Int)
    /// No answer: the connection failed or timed out.
    case unreachable(String)
    /// kubectl itself failed before it asked, or printed something that is not JSON.
    case failed(String)
}

/// kubectl, found on `PATH` as the product runs it. The answer is typed from kubectl's own request
/// log (`-v=6`: `GET URL STATUS … in N milliseconds`, or `status="…"` in newer releases): the
/// HTTP status when the server answered, none when it could not be reached.
public struct Kubectl: KubernetesAPI {
    public let system: any SystemProbe
    public let runner: any CommandRunner

    public init(system: any SystemProbe, runner: any CommandRunner) {
        self.system = system
        self.runner = runner
    }

    public static let defaultKubeconfigs = ["/etc/rancher/k3s/k3s.yaml", "/var/lib/kubesolo/pki/admin/admin.kubeconfig"]

    /// Parsed output is read whole up to this size (a Node is 20–60 KiB, a kube-system pod list
    /// of a small cluster 100–400 KiB).
    public static let outputCap = 8 << 20

    public func access(kubeconfig: String?) -> KubernetesAccess {
        let candidates = [kubeconfig, system.environment("KUBECONFIG")].compactMap { $0 } + Self.defaultKubeconfigs
        let looked = "looked for " + candidates.joined(separator: ", ")
        let found = candidates.first(where: system.fileExists)
        switch (system.kubectl(), found) {
        case (let kubectl?, let found?): return .ready(.init(kubectl: kubectl, kubeconfig: found))
        case (nil, nil): return .noKubernetes("no kubectl and no kubeconfig (\(looked)): this node runs no Kubernetes")
        case (nil, let found?): return .incomplete("a kubeconfig is at \(found) but kubectl is not installed (not on PATH)")
        case (_?, nil): return .incomplete("kubectl is installed but no kubeconfig was found (\(looked))")
        }
    }

    /// `kubectl get --raw PATH`: no discovery round trips, the API object as JSON.
    public func get(_ path: String, _ access: KubernetesAccess.Ready, timeout: Duration) -> KubernetesAnswer {
        let seconds = max(1, DurationText.milliseconds(timeout) / 1000)
        let argv = [
            access.kubectl, "--kubeconfig", access.kubeconfig, "--request-timeout", "\(seconds)s", "-v=6",
            "get", "--raw", path,
        ]
        let result: CommandResult
        do {
            result = try runner.run(argv, timeout: timeout + .seconds(2), environment: [:], stdout: .whole(max: Self.outputCap))
        } catch {
            return .failed("\(error)")
        }
        if result.succeeded {
            if result.stdoutTruncated {
                return .failed("kubectl printed more than \(Self.outputCap >> 20) MiB for \(path); cut off there, not parsed")
            }
            guard let json = try? JSON.parse(Array(result.stdout.utf8)) else {
                return .failed("kubectl printed something that is not JSON")
            }
            return .json(json)
        }
        if result.timedOut { return .unreachable("kubectl timed out") }
        switch Self.request(in: result.stderrHead) {
        case .answered(let status): return .status(status)
        case .noAnswer(let reason): return .unreachable(reason)
        case .notLogged:
            let message = result.stderr.trimmingSpaces
            return .failed("kubectl failed with \(result.ending): \(String(message.suffix(300)))")
        }
    }

    enum Request: Equatable {
        case answered(Int)
        case noAnswer(String)
        case notLogged
    }

    /// The outcome of the last GET in kubectl's `-v=6` log.
    static func request(in log: String) -> Request {
        var outcome = Request.notLogged
        var connectionError: String?
        for line in log.split(separator: "\n") {
            if let range = line.range(of: "Connection error: ") {
                connectionError = String(line[range.upperBound...])
            }
            guard line.contains("round_trippers") else { continue }
            if let range = line.range(of: "status=\"") {
                // kubectl ≥ 1.30: "Response" verb="GET" url="…" status="404 Not Found" milliseconds=4
                let status = line[range.upperBound...].prefix { $0 != "\"" }
                outcome = Int(status.prefix(3)).map(Request.answered) ?? .noAnswer(connectionError ?? "no response")
            } else if let range = line.range(of: "] GET ") {
                // kubectl < 1.30: GET URL 404 Not Found in 4 milliseconds (no status: no answer)
                let words = line[range.upperBound...].split(separator: " ")
                outcome =
                    words.count > 1 && words[1].count == 3
                    ? Int(words[1]).map(Request.answered) ?? .notLogged
                    : .noAnswer(connectionError ?? "no response")
            }
        }
        if case .noAnswer = outcome, let connectionError { return .noAnswer(connectionError) }
        return outcome
    }
}
