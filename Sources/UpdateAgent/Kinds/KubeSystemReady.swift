import JSONValue
public import UpdatePolicy

extension KubeSystemReadyProbe: ProbeEvaluating, SimulatesFacts {
    /// Every kube-system pod Running, its containers running for the settle since their latest
    /// start (a crash-looping pod keeps restarting). An API server that does not answer fails:
    /// after an update that is what this probe is for. Only a node with neither kubectl nor a
    /// kubeconfig passes without asking (upstream's air-gap case).
    func evaluate(_ probe: Probe, variables: [String: String], _ env: CheckEnvironment) -> (passed: Bool, detail: String) {
        let access: KubernetesAccess.Ready
        switch env.kubernetes.access(kubeconfig: nil) {
        case .ready(let ready): access = ready
        case .noKubernetes(let reason): return (true, "\(reason): passing, as the upstream agent does")
        case .incomplete(let reason): return (false, "\(reason): cannot check kube-system")
        }
        switch env.kubernetes.get("/api/v1/namespaces/kube-system/pods", access, timeout: probe.timeout.value) {
        case .unreachable(let reason):
            return (false, "the API server does not answer through \(access.kubeconfig) (\(reason))")
        case .status(404):
            return (false, "the kube-system namespace does not exist")
        case .status(let status):
            return (false, "the API server answered \(status) for the kube-system pods")
        case .failed(let reason):
            return (false, reason)
        case .json(let list):
            return pods(list, now: env.clock.now())
        }
    }

    private func pods(_ list: JSON, now: Timestamp) -> (passed: Bool, detail: String) {
        guard case .array(let pods)? = list["items"] else { return (false, "kubectl answered no pod list") }
        if pods.isEmpty { return (false, "no kube-system pods are scheduled yet") }
        let settle = self.settle.value
        var waiting: [String] = []
        for pod in pods {
            let name = pod["metadata"]?["name"]?.stringValue ?? "?"
            let phase = pod["status"]?["phase"]?.stringValue ?? "Unknown"
            guard phase == "Running" else {
                waiting.append("\(name) is \(phase)")
                continue
            }
            var since = pod["status"]?["startTime"]?.stringValue.flatMap(Timestamp.parse)
            if case .array(let containers)? = pod["status"]?["containerStatuses"] {
                for container in containers {
                    guard let started = container["state"]?["running"]?["startedAt"]?.stringValue.flatMap(Timestamp.parse) else {
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
                waiting.append(
                    "\(name) Running for \(DurationText.format(.seconds(max(0, held.components.seconds)))) "
                        + "< \(DurationText.format(settle))")
            }
        }
        return waiting.isEmpty
            ? (true, "all \(pods.count) kube-system pods Running for ≥ \(DurationText.format(settle))")
            : (false, waiting.prefix(3).joined(separator: "; ") + (waiting.count > 3 ? "; and \(waiting.count - 3) more" : ""))
    }

    static func simulate(_ facts: ScenarioFacts, _ node: inout SimulatedNode) {
        node.kubernetes = facts.text("kubernetes") == "present"
    }
}
