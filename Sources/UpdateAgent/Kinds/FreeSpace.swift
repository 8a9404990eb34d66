public import UpdatePolicy

extension FreeSpaceGate: GateEvaluating, SimulatesFacts {
    func evaluate(_ gate: Gate, _ input: GateInput, _ env: CheckEnvironment) -> GateOutcome {
        let target = path?.value ?? input.imageDirectory
        let size = UInt64(input.offered.size)
        let needed = UInt64((Double(size) * (1 + headroom.value / 100)).rounded(.up))
        do {
            let free = try env.system.freeBytes(at: target)
            let detail = "free space \(ByteText.show(free)) on \(target), needed \(ByteText.show(needed)) "
                + "(image \(ByteText.show(size)) + \(PercentText.show(headroom.value)))"
            return free >= needed ? .pass(detail) : .block(detail.replacingFirst("free space", with: "only"))
        } catch {
            return .error("\(error)")
        }
    }

    static func simulate(_ facts: ScenarioFacts, _ node: inout SimulatedNode) {
        node.freeBytes = facts.text(entry.name) == "short" ? 1024 : 1 << 40
    }
}
