public import UpdatePolicy

extension NoDowngradeGate: GateEvaluating {
    /// Newer than the running version and, when it is known and differs, the committed one.
    func evaluate(_ gate: Gate, _ input: GateInput, _ env: CheckEnvironment) -> GateOutcome {
        guard let offered = SemanticVersion(input.offered.version), let running = SemanticVersion(input.runningVersion) else {
            return .error("cannot compare \(input.offered.version) with the running \(input.runningVersion) as semantic versions")
        }
        guard offered > running else { return .block("\(offered) is not newer than the running \(running): no downgrades") }
        if let text = input.committedVersion, text != input.runningVersion, let committed = SemanticVersion(text) {
            guard offered > committed else {
                return .block("\(offered) is not newer than the last committed \(committed): no downgrades")
            }
            return .pass("\(offered) is newer than the running \(running) and the committed \(committed)")
        }
        return .pass("\(offered) is newer than the running \(running)")
    }
}
