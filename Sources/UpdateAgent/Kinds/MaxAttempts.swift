import UpdatePlan
public import UpdatePolicy

extension MaxAttemptsGate: GateEvaluating {
    func evaluate(_ gate: Gate, _ input: GateInput, _ env: CheckEnvironment) -> GateOutcome {
        let state = input.state
        var used = state.toVersion == input.offered.version ? state.attemptCount : 0
        // A staged release that a gate made wait (the fleet lock had no slot, the window
        // closed) is taken up by the attempt that staged it: that attempt is not one used before.
        let continuing = state.phase == .staged && used > 0
        if continuing { used -= 1 }
        return used < max.value
            ? .pass(
                "\(used) of \(max.value) attempts at \(input.offered.version) used"
                    + (continuing ? " before the one that staged it, which goes on" : ""))
            : .block("\(input.offered.version) was attempted \(used) times, the most max_attempts allows (\(max.value))")
    }
}
