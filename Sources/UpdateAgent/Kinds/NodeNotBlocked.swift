import JSONValue
public import UpdatePolicy

extension NodeNotBlockedGate: GateEvaluating, SimulatesFacts {
    /// As upstream: no kubectl, no kubeconfig or no cluster answering skips the gate (it passes)
    /// and says so, unless `when_unreachable: fail` defers the run; a node the cluster does not
    /// know is an error.
    func evaluate(_ gate: Gate, _ input: GateInput, _ env: CheckEnvironment) -> GateOutcome {
        let name = node?.value ?? env.system.hostname()
        func unreachable(_ why: String) -> GateOutcome {
            failsWhenUnreachable
                ? .block("\(why): cannot tell whether node \(name) is blocked (when_unreachable: fail)")
                : .skipped("skipped: \(why); passing, as the upstream agent does (when_unreachable: pass)")
        }
        switch env.kubernetes.access(kubeconfig: kubeconfig?.value) {
        case .noKubernetes(let reason), .incomplete(let reason):
            return unreachable(reason)
        case .ready(let access):
            switch env.kubernetes.get("/api/v1/nodes/\(name)", access, timeout: gate.timeout.value) {
            case .unreachable(let reason):
                return unreachable("no cluster reachable through \(access.kubeconfig) (\(reason))")
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
