public import UpdatePolicy

extension FreeSpaceGate: GateEvaluating, SimulatesFacts {
    func evaluate(_ gate: Gate, _ input: GateInput, _ env: CheckEnvironment) -> GateOutcome {
        let target = path?.value ?? input.imageDirectory
        guard let known = input.offered.size else {
            let unknown = input.offered.files.filter { $0.size == nil }.map(\.name).joined(separator: " and ")
            return .error(
                "the size of \(unknown) is unknown (the metadata gives none and the server sent no Content-Length), "
                    + "so free space cannot be checked")
        }
        let size = UInt64(known)
        let needed = UInt64((Double(size) * (1 + headroom.value / 100)).rounded(.up))
        do {
            let names = input.offered.files.map(\.name)
            if path == nil, let space = try input.passiveSpace(names) {
                let detail =
                    "free space \(ByteText.show(space.available)) on the passive slot's partition "
                    + "(\(ByteText.show(space.free)) free + \(ByteText.show(space.reclaimable)) in files the release replaces), "
                    + "needed \(ByteText.show(needed)) (release \(ByteText.show(size)) + \(PercentText.show(headroom.value)))"
                return space.available >= needed ? .pass(detail) : .block(detail.replacingFirst("free space", with: "only"))
            }
            let free = try env.system.freeBytes(at: target)
            let detail =
                "free space \(ByteText.show(free)) on \(target), needed \(ByteText.show(needed)) "
                + "(release \(ByteText.show(size)) + \(PercentText.show(headroom.value)))"
            return free >= needed ? .pass(detail) : .block(detail.replacingFirst("free space", with: "only"))
        } catch {
            return .error("\(error)")
        }
    }

    static func simulate(_ facts: ScenarioFacts, _ node: inout SimulatedNode) {
        node.freeBytes = facts.text(entry.name) == "short" ? 1024 : 1 << 40
    }
}
