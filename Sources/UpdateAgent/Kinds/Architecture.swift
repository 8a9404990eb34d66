import UpdatePolicy

extension ArchitectureGate: GateEvaluating, SimulatesFacts {
    func evaluate(_ gate: Gate, _ input: GateInput, _ env: CheckEnvironment) -> GateOutcome {
        let machine = env.system.architecture()
        guard let architecture = input.offered.architecture else {
            return .pass("the release names no architecture; this machine is \(machine)")
        }
        return architecture == machine
            ? .pass("the release is built for \(architecture), as this machine is")
            : .refuse("the release is built for \(architecture), but this machine is \(machine)")
    }

    static func simulate(_ facts: ScenarioFacts, _ node: inout SimulatedNode) {
        node.architecture = facts.text(entry.name)
    }
}
