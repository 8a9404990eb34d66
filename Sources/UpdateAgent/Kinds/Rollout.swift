public import UpdatePolicy

extension RolloutGate: GateEvaluating, SimulatesFacts {
    func evaluate(_ gate: Gate, _ input: GateInput, _ env: CheckEnvironment) -> GateOutcome {
        do {
            let bucket = Self.bucket(machineID: try env.system.machineID(), salt: salt.value, version: input.offered.version)
            let shown = String(format2: bucket)
            return bucket < percent.value
                ? .pass("this node's bucket \(shown) is under the \(PercentText.show(percent.value)) rollout")
                : .block("this node's bucket \(shown) is not under the \(PercentText.show(percent.value)) rollout yet")
        } catch {
            return .error("\(error)")
        }
    }

    /// A stable bucket in [0, 100) from the machine id, the salt and the target version: a node
    /// stays in or out of a rollout until the version or salt changes.
    public static func bucket(machineID: String, salt: String, version: String) -> Double {
        StableBucket.of(machineID: machineID, salt: salt, version: version)
    }

    static func simulate(_ facts: ScenarioFacts, _ node: inout SimulatedNode) {
        node.machineID = facts.text(Key.machineIDFact.name)
    }
}
