/// The update in flight on the node: which slot the node runs, which slot the update went to,
/// and whether the node runs it. Never a guess: the booted slot and the running version come from
/// the backend (for `kubesolo`, GRUB's environment and the running system), and the versions the
/// state records say which of the two slots holds the update; updatectl's own keys (the state's
/// `target_slot`, the sidecar's activation record), which the Go agent may have erased, are a
/// cross-check, and when they disagree with the node nothing is done.
struct InFlight {
    var booted: Slot
    var running: String
    /// The slot the update went to.
    var target: Slot
    /// The slot it came from: the other one.
    var previous: Slot { target.other }
    /// Whether the node runs the update's slot.
    var runsUpdate: Bool { booted == target }

    struct Unknown: Error, CustomStringConvertible {
        var description: String
    }

    /// For phases `activated` and `verifying`: the update was activated, and the node may run it
    /// or (after a bootloader fallback, a rollback) the previous slot.
    static func activated(_ state: UpdateState, sidecar: Sidecar, backend: any UpdateBackend) throws(Unknown) -> InFlight {
        let (booted, running) = try node(backend)
        var keys: [(String, Slot)] = []
        if let slot = state.targetSlot.flatMap(Slot.init(rawValue:)) { keys.append(("state.json's target_slot", slot)) }
        if let activation = sidecar.activation, activation.version == state.toVersion, let slot = Slot(rawValue: activation.slot) {
            keys.append(("updatectl.json's activation record", slot))
        }
        if let first = keys.first, let other = keys.first(where: { $0.1 != first.1 }) {
            throw Unknown(
                description: "\(first.0) says the update is in slot \(first.1.rawValue), but \(other.0) says slot "
                    + "\(other.1.rawValue): check the node, then run `updatectl state reset --yes`")
        }
        // The versions: the node runs the update, or the version it came from.
        var versionsSay: Bool?
        if let to = state.toVersion, running == to, state.fromVersion != to {
            versionsSay = true
        } else if let from = state.fromVersion, running == from, state.toVersion != from {
            versionsSay = false
        }
        if let key = keys.first?.1, let versionsSay, (booted == key) != versionsSay {
            throw Unknown(
                description: "the node runs \(running) on slot \(booted.rawValue), but \(keys[0].0) says "
                    + "\(state.toVersion ?? "the update") is in slot \(key.rawValue): the state and the node disagree; check "
                    + "the node, then run `updatectl state reset --yes`")
        }
        if let key = keys.first?.1 { return InFlight(booted: booted, running: running, target: key) }
        if let versionsSay { return InFlight(booted: booted, running: running, target: versionsSay ? booted : booted.other) }
        throw Unknown(
            description: "cannot tell which slot holds \(state.toVersion ?? "the update"): the node runs \(running) "
                + "(the state names \(state.fromVersion ?? "no") old and \(state.toVersion ?? "no") new version) and no slot key "
                + "survives; check the node, then run `updatectl state reset --yes`")
    }

    /// For phase `staged`: the release waits in the passive slot, the node runs the other.
    static func staged(_ state: UpdateState, backend: any UpdateBackend) throws(Unknown) -> InFlight {
        let (booted, running) = try node(backend)
        if let key = state.targetSlot.flatMap(Slot.init(rawValue:)), key == booted {
            throw Unknown(
                description: "state.json says \(state.toVersion ?? "the release") is staged in slot \(key.rawValue), "
                    + "but the node runs that slot: check the node, then run `updatectl state reset --yes`")
        }
        return InFlight(booted: booted, running: running, target: booted.other)
    }

    private static func node(_ backend: any UpdateBackend) throws(Unknown) -> (Slot, String) {
        do {
            return (try backend.bootedSlot(), try backend.runningVersion())
        } catch {
            throw Unknown(description: "the backend cannot say what the node runs: \(error)")
        }
    }
}
