import UpdatePolicy

extension MinCompatibleVersionGate: GateEvaluating {
    func evaluate(_ gate: Gate, _ input: GateInput, _ env: CheckEnvironment) -> GateOutcome {
        guard let minimum = input.offered.minCompatibleVersion else {
            return .pass("the release names no min_compatible_version")
        }
        guard let needed = SemanticVersion(minimum), let running = SemanticVersion(input.runningVersion) else {
            return .error("cannot compare the running version \(input.runningVersion) with min_compatible_version \(minimum)")
        }
        // KubeSolo OS compares the three numbers only; a pre-release suffix does not count.
        let runningCore = (running.major, running.minor, running.patch)
        let neededCore = (needed.major, needed.minor, needed.patch)
        return runningCore >= neededCore
            ? .pass("the running version \(input.runningVersion) is at least \(minimum), the release's min_compatible_version")
            : .refuse(
                "the release needs at least \(minimum) to update from, and this node runs \(input.runningVersion): "
                    + "install an intermediate release first")
    }
}
