public import UpdatePolicy

extension MaxAttemptsGate: GateEvaluating {
    func evaluate(_ gate: Gate, _ input: GateInput, _ env: CheckEnvironment) -> GateOutcome {
        let used = input.state.toVersion == input.offered.version ? input.state.attemptCount : 0
        return used < max.value
            ? .pass("\(used) of \(max.value) attempts at \(input.offered.version) used")
            : .block("\(input.offered.version) was attempted \(used) times, the most max_attempts allows (\(max.value))")
    }
}
