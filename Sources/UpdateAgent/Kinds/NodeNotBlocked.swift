import JSONValue
public import UpdatePolicy

extension NodeNotBlockedGate: GateEvaluating, SimulatesFacts {
    /// As upstream: no kubectl, no kubeconfig or no cluster answering passes and says so; a node
    /// the cluster does not know is an error.
    func evaluate(_ gate: Gate, _ input: GateInput, _ env: CheckEnvironment) -> GateOutcome {
        let name = node?.value ?? env.system.hostname()
        switch env.kubernetes.access(kubeconfig: kubeconfig?.value) {
        case .noKubernetes(let reason), .incomplete(let reason):
            return .pass("\(reason): passing, as the upstream agent does")
        case .ready(let access):
            switch env.kubernetes.get("/api/v1/nodes/\(name)", access, timeout: gate.timeout.value) {
            case .unreachable(let reason):
                return .pass("no cluster reachable through \(access.kubeconfig) (\(reason)): passing, as the upstream agent does")
            case .status(404):
                return .error("node \(name) is not in the cluster; set `node:` on the gate if its name is not the host name")
            case .status(let status):
                return .error("the API server answered \(status) for node \(name) (through \(access.kubeconfig))")
            case .failed(let reason):
                return .error(reason)
            case .json(let object):
                return object["metadata"]?["labels"]?[label.value]?.stringValue == "true"
                    ? .block("node \(name) carries \(label.value)=true")
                    : .pass("node \(name) does not carry \(label.value)=true")
            }
        }
    }

    static func simulate(_ facts: ScenarioFacts, _ node: inout SimulatedNode) {
        node.kubernetes = facts.text("kubernetes") == "present"
        let blocked = facts.boolean("node_blocked")
        node.apiObjects.append(
            (
                "/api/v1/nodes/",
                .object([
                    (
                        "metadata",
                        .object([
                            ("name", .string("simulated-node")),
                            ("labels", .object([("updates.kubesolo.io/block", .string(blocked ? "true" : "false"))])),
                        ])
                    )
                ])
            ))
    }
}
