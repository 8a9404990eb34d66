public import UpdatePolicy

extension HTTPGate: GateEvaluating {
    /// Another status, or no answer, defers the run.
    func evaluate(_ gate: Gate, _ input: GateInput, _ env: CheckEnvironment) -> GateOutcome {
        switch HTTPCheck.get(url.value, status: status.value, timeout: gate.timeout.value, transport: env.transport) {
        case .passed(let detail): .pass(detail)
        case .failed(let detail), .unanswered(let detail): .block(detail)
        }
    }
}

extension HTTPProbe: ProbeEvaluating {
    func evaluate(_ probe: Probe, variables: [String: String], _ env: CheckEnvironment) -> (passed: Bool, detail: String) {
        switch HTTPCheck.get(url.value, status: status.value, timeout: probe.timeout.value, transport: env.transport) {
        case .passed(let detail): (true, detail)
        case .failed(let detail), .unanswered(let detail): (false, detail)
        }
    }
}
