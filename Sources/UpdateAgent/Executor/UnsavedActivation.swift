import UpdatePlan

extension AgentEnvironment {
    /// The state under the lock, with an activation the state never saw recovered
    /// (`recoveringActivation`). Every run that acts on the lifecycle loads it this way.
    func loadState(holding lock: StateLock) throws -> UpdateState {
        try recoveringActivation(try store.load(holding: lock, clock: clock), holding: lock)
    }

    /// A power cut between telling the bootloader and saving `activated` leaves `staged` in the
    /// state while the bootloader boots the new slot. The sidecar's activation record on the data
    /// partition, written before the bootloader is told, says what happened: when the node has
    /// rebooted since (another boot id) into the slot the record names and runs the staged
    /// version, the activation is saved now, as it would have been, and verification follows.
    /// Otherwise (the node runs the old slot) the state stays `staged` and the next run
    /// activates again.
    func recoveringActivation(_ state: UpdateState, holding lock: StateLock) throws -> UpdateState {
        guard state.phase == .staged, let version = state.toVersion,
            let activation = try store.readSidecar().activation, activation.version == version,
            let slot = Slot(rawValue: activation.slot), let boot = try? backend.bootID(), boot != activation.bootID,
            (try? backend.bootedSlot()) == slot, (try? backend.runningVersion()) == version
        else { return state }
        reporter.note(
            "\(version) was activated in slot \(slot.rawValue) but the state was not saved before the node "
                + "rebooted (power lost?); the activation record says so, so it is saved now and \(version) is verified")
        var activated = state
        activated.targetSlot = slot.rawValue
        activated.activationBootID = activation.bootID
        return try store.transition(activated, to: .activated, clock: clock)
    }
}
