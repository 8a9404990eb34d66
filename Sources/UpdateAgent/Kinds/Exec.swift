public import UpdatePolicy

extension ExecGate: GateEvaluating {
    /// Exit 0 passes; anything else defers the run; a command that cannot run fails it.
    func evaluate(_ gate: Gate, _ input: GateInput, _ env: CheckEnvironment) -> GateOutcome {
        switch CommandCheck.run(command.value, variables: input.variables, timeout: gate.timeout.value, runner: env.runner) {
        case .passed(let detail): .pass(detail)
        case .failed(let detail): .block(detail)
        case .unrunnable(let detail): .error(detail)
        }
    }
}

extension ExecProbe: ProbeEvaluating {
    func evaluate(_ probe: Probe, variables: [String: String], _ env: CheckEnvironment) -> (passed: Bool, detail: String) {
        switch CommandCheck.run(command.value, variables: variables, timeout: probe.timeout.value, runner: env.runner) {
        case .passed(let detail): (true, detail)
        case .failed(let detail), .unrunnable(let detail): (false, detail)
        }
    }
}
