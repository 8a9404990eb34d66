import UpdatePlan

extension AgentEnvironment {
    /// Rolled back, but the node runs the rolled-back release: the reboot into the previous slot
    /// was missed (a run stopped before it), or the bootloader booted the release again.
    func runsRolledBackRelease(_ state: UpdateState) -> Bool {
        guard state.phase == .rolledBack, let version = state.toVersion, version != state.fromVersion else { return false }
        return (try? backend.runningVersion()) == version
    }

    /// Points the bootloader at the previous slot again (the booted one runs a release that was
    /// rolled back, which is never marked good), then reboots into it when `reboot`. Returns the
    /// slot that boots next.
    func returnToPrevious(_ state: UpdateState, reboot: Bool) throws -> Slot {
        let previous = try backend.bootedSlot().other
        try backend.rollback(to: previous, version: state.fromVersion ?? "", fromVersion: state.toVersion ?? "")
        if reboot { try backend.reboot() }
        return previous
    }
}
