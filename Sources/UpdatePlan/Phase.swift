/// The phases of the upstream update state machine, with the strings `state.json` uses.
public enum Phase: String, Sendable, Hashable, Codable, CaseIterable {
    case idle
    case checking
    case downloading
    case staged
    case activated
    case verifying
    case success
    case rolledBack = "rolled_back"
    case failed
}
