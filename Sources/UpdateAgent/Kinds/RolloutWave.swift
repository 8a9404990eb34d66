public import UpdatePolicy

extension RolloutWaveGate: GateEvaluating, SimulatesFacts {
    func evaluate(_ gate: Gate, _ input: GateInput, _ env: CheckEnvironment) -> GateOutcome {
        guard let wave = input.offered.rollout else { return .pass("the release announces no rollout wave") }
        guard input.offered.authenticated else {
            return .pass(
                "the release's rollout wave is ignored: its metadata is not signed, and a wave is honoured only from "
                    + "signed metadata")
        }
        let machineID: String
        do {
            machineID = try env.system.machineID()
        } catch {
            return .error("\(error)")
        }
        let bucket = StableBucket.of(machineID: machineID, salt: "", version: input.offered.version)
        let position = ReleaseWave.position(bucket: bucket, wariness: wariness.value)
        let now = env.clock.now()
        let place =
            "this node's place \(String(format2: position))% (bucket \(String(format2: bucket))%, rollout_wariness "
            + "\(Self.show(wariness.value)))"
        let share = "the wave (\(wave.description)) admits \(String(format2: wave.share(at: now)))% now"
        guard let admission = wave.admission(position: position) else {
            return .block("not admitted while the wave is held: \(place); \(share)")
        }
        let from = "admitted from \(admission.wholeSeconds)"
        return wave.admits(position: position, at: now)
            ? .pass("\(from): \(place); \(share)")
            : .block("not admitted yet, \(from): \(place); \(share)")
    }

    static func simulate(_ facts: ScenarioFacts, _ node: inout SimulatedNode) {
        node.machineID = facts.text(Key.machineIDFact.name)
    }
}
