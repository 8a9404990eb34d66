import UpdatePolicy

extension ChannelGate: GateEvaluating {
    func evaluate(_ gate: Gate, _ input: GateInput, _ env: CheckEnvironment) -> GateOutcome {
        guard let channel = input.offered.channel else {
            return .pass("the release names no channel; this node follows \(input.channel)")
        }
        return channel == input.channel
            ? .pass("the release is for channel \(channel), the one this node follows")
            : .refuse("the release is for channel \(channel), but this node follows \(input.channel)")
    }
}
