public import UpdatePlan
public import UpdatePolicy

/// The lifecycle record in `state.json`, in the upstream Go agent's format: the same field names,
/// phase strings and times, `omitempty` fields left out when empty, and every key updatectl does
/// not know kept as it was.
public struct UpdateState: Sendable {
    public var phase: Phase
    public var fromVersion: String?
    public var toVersion: String?
    /// When the current attempt left `idle`; the Go agent writes its zero time when unset.
    public var startedAt: Timestamp?
    public var updatedAt: Timestamp?
    public var lastError: String?
    public var attemptCount: Int
    public var healthCheckFailures: Int
    /// Keys this version does not know, in file order, written back unchanged.
    public var unknown: [(String, JSON)]

    public init(phase: Phase = .idle) {
        self.phase = phase
        attemptCount = 0
        healthCheckFailures = 0
        unknown = []
    }

    public struct FormatError: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    static let knownKeys: Set<String> = [
        "phase", "from_version", "to_version", "started_at", "updated_at", "last_error", "attempt_count",
        "health_check_failures",
    ]

    /// Reads the JSON bytes of a state file.
    public static func decode(_ bytes: [UInt8]) throws(FormatError) -> UpdateState {
        let json: JSON
        do {
            json = try JSON.parse(bytes)
        } catch {
            throw FormatError(message: "not JSON: \(error)")
        }
        guard case .object(let pairs) = json else { throw FormatError(message: "the top level is not a JSON object") }
        guard let phaseText = json["phase"]?.stringValue else { throw FormatError(message: "no \"phase\" string") }
        guard let phase = Phase(rawValue: phaseText) else {
            throw FormatError(message: "unknown phase \"\(phaseText)\"; the phases are "
                + Phase.allCases.map(\.rawValue).joined(separator: ", "))
        }
        var state = UpdateState(phase: phase)
        func text(_ key: String) throws(FormatError) -> String? {
            switch json[key] {
            case nil, .null?: return nil
            case .string(let value)?: return value.isEmpty ? nil : value
            default: throw FormatError(message: "\"\(key)\" is not a string")
            }
        }
        func count(_ key: String) throws(FormatError) -> Int {
            switch json[key] {
            case nil, .null?: return 0
            case let value?:
                guard let number = value.intValue, number >= 0 else {
                    throw FormatError(message: "\"\(key)\" is not a whole number ≥ 0")
                }
                return number
            }
        }
        func time(_ key: String) throws(FormatError) -> Timestamp? {
            guard let raw = try text(key) else { return nil }
            guard let value = Timestamp.parse(raw) else { throw FormatError(message: "\"\(key)\" is not an RFC 3339 time") }
            return value
        }
        state.fromVersion = try text("from_version")
        state.toVersion = try text("to_version")
        state.startedAt = try time("started_at").flatMap { $0.isGoZero ? nil : $0 }
        state.updatedAt = try time("updated_at")
        state.lastError = try text("last_error")
        state.attemptCount = try count("attempt_count")
        state.healthCheckFailures = try count("health_check_failures")
        state.unknown = pairs.filter { !knownKeys.contains($0.0) }
        return state
    }

    /// The JSON object the Go agent would write: `phase`, the `omitempty` strings when set,
    /// `started_at` always (Go writes its zero time), `updated_at`, `attempt_count`, and
    /// `health_check_failures` when not 0; then the keys updatectl does not know.
    public var json: JSON {
        var pairs: [(String, JSON)] = [("phase", .string(phase.rawValue))]
        if let fromVersion { pairs.append(("from_version", .string(fromVersion))) }
        if let toVersion { pairs.append(("to_version", .string(toVersion))) }
        pairs.append(("started_at", .string((startedAt ?? .goZero).description)))
        pairs.append(("updated_at", .string((updatedAt ?? .goZero).description)))
        if let lastError { pairs.append(("last_error", .string(lastError))) }
        pairs.append(("attempt_count", .int(attemptCount)))
        if healthCheckFailures != 0 { pairs.append(("health_check_failures", .int(healthCheckFailures))) }
        return .object(pairs + unknown)
    }
}
