public import UpdatePolicy

/// kubectl, as upstream uses it: no client library. Which answers pass when there is no cluster
/// to ask is the caller's choice (the gate passes and says so; the post-boot probe passes only
/// when the node has neither kubectl nor a kubeconfig).
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
        /// Neither kubectl nor a kubeconfig: a node without Kubernetes (upstream's air-gap case).
        case noKubernetes(String)
        /// Only one of the two: Kubernetes is expected here but cannot be asked.
        case incomplete(String)

        /// Why the cluster cannot be asked, for the two cases that are not `ready`.
        public var reason: String? {
            switch self {
            case .ready: nil
            case .noKubernetes(let reason), .incomplete(let reason): reason
            }
        }
    }

    /// The kubectl and kubeconfig to use: kubectl from `PATH`; the policy's kubeconfig, else
    /// `$KUBECONFIG`, else the defaults.
    public func access(kubeconfig: String?) -> Access {
        let candidates = [kubeconfig, system.environment("KUBECONFIG")].compactMap { $0 } + Self.defaultKubeconfigs
        let looked = "looked for " + candidates.joined(separator: ", ")
        let found = candidates.first(where: system.fileExists)
        switch (system.kubectl(), found) {
        case (let kubectl?, let found?): return .ready(kubectl: kubectl, kubeconfig: found)
        case (nil, nil): return .noKubernetes("no kubectl and no kubeconfig (\(looked)): this node runs no Kubernetes")
        case (nil, let found?): return .incomplete("a kubeconfig is at \(found) but kubectl is not installed (not on PATH)")
        case (_?, nil): return .incomplete("kubectl is installed but no kubeconfig was found (\(looked))")
        }
    }

    /// Parsed output is read whole up to this size (a Node is 20–60 KiB, a kube-system pod list
    /// of a small cluster 100–400 KiB).
    public static let outputCap = 8 << 20

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
