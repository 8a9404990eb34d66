public import UpdatePolicy

/// kubectl, as upstream uses it: no client library, and no cluster reachable means "pass, and
/// say so" (the air-gapped case).
public struct Kubernetes: Sendable {
    public let system: any SystemProbe
    public let runner: any CommandRunner

    public init(system: any SystemProbe, runner: any CommandRunner) {
        self.system = system
        self.runner = runner
    }

    public static let defaultKubeconfigs = ["/etc/rancher/k3s/k3s.yaml", "/var/lib/kubesolo/pki/admin/admin.kubeconfig"]

    public enum Access: Sendable {
        case ready(kubectl: String, kubeconfig: String)
        /// No cluster to ask, with the reason said in the output.
        case unavailable(String)
    }

    /// The kubectl and kubeconfig to use: the policy's, else `$KUBECONFIG`, else the defaults.
    public func access(kubeconfig: String?) -> Access {
        guard let kubectl = system.kubectl() else { return .unavailable("kubectl is not installed") }
        let candidates = [kubeconfig, system.environment("KUBECONFIG")].compactMap { $0 } + Self.defaultKubeconfigs
        guard let found = candidates.first(where: system.fileExists) else {
            return .unavailable("no kubeconfig reachable (looked for " + candidates.joined(separator: ", ") + ")")
        }
        return .ready(kubectl: kubectl, kubeconfig: found)
    }

    public enum Answer: Sendable {
        case json(JSON)
        case unreachable(String)
        case notFound
        case failed(String)
    }

    /// `kubectl get --raw PATH`: no discovery round trips, the API object as JSON.
    public func getRaw(_ path: String, kubectl: String, kubeconfig: String, timeout: Duration) -> Answer {
        let argv = [kubectl, "--kubeconfig", kubeconfig, "--request-timeout", "\(max(1, DurationText.milliseconds(timeout) / 1000))s",
                    "get", "--raw", path]
        let result: CommandResult
        do {
            result = try runner.run(argv, timeout: timeout + .seconds(2), environment: [:])
        } catch {
            return .failed("\(error)")
        }
        if result.succeeded {
            guard let json = try? JSON.parse(Array(result.stdout.utf8)) else {
                return .failed("kubectl printed something that is not JSON")
            }
            return .json(json)
        }
        let message = result.stderr.trimmingSpaces
        if message.contains("NotFound") || message.contains("not found") { return .notFound }
        if result.timedOut || message.contains("connection refused") || message.contains("was refused") || message.contains("Unable to connect")
            || message.contains("no such host") || message.contains("i/o timeout") || message.contains("dial tcp")
        {
            return .unreachable(result.timedOut ? "kubectl timed out" : String(message.suffix(200)))
        }
        return .failed("kubectl failed with \(result.ending): \(String(message.suffix(300)))")
    }
}
