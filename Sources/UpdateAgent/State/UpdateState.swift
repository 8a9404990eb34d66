public import JSONValue
public import UpdatePlan
import UpdatePolicy

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

    // Beyond upstream: optional keys the Go agent ignores.

    /// The gate that deferred the last run, its reason, and when.
    public var deferral: Deferral?
    /// SHA-256 (hex) of the policy file the last run used.
    public var policySHA256: String?
    /// The slot the node booted when the attempt started (`a` or `b`).
    public var bootedSlot: String?
    /// The slot the attempt writes and activates.
    public var targetSlot: String?
    /// The backend's boot id when the update was activated: a healthcheck in the same boot knows
    /// the node has not rebooted yet.
    public var activationBootID: String?
    /// Consecutive attempts at `to_version` that were interrupted (killed, power cut); past a
    /// bound, apply stops retrying.
    public var interruptedAttempts: Int = 0
    /// The code of `last_error` (`RunFailure.Reason`'s raw value), when it has one.
    public var lastFailureReason: String?
    /// Each step of the last run with its decision, for `status`.
    public var lastRun: [StepRecord] = []

    public struct StepRecord: Sendable, Hashable {
        public var step: String
        public var decision: String
        public var detail: String

        public init(step: String, decision: String, detail: String) {
            self.step = step
            self.decision = decision
            self.detail = detail
        }
    }

    public struct Deferral: Sendable, Hashable {
        public var gate: String
        public var reason: String
        public var at: Timestamp

        public init(gate: String, reason: String, at: Timestamp) {
            self.gate = gate
            self.reason = reason
            self.at = at
        }
    }

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
        "health_check_failures", "deferred_gate", "deferred_reason", "deferred_at", "policy_sha256", "booted_slot",
        "target_slot", "last_run", "activation_boot_id", "interrupted_attempts", "last_failure_reason",
    ]

    /// Reads the JSON bytes of a state file.
    public static func decode(_ bytes: [UInt8]) throws(FormatError) -> UpdateState {
        let json: JSON
        do {
            json = try JSON.parse(bytes, replacingInvalidUTF8: true)
        } catch {
            throw FormatError(message: "not JSON: \(error)")
        }
        guard case .object(let pairs) = json else { throw FormatError(message: "the top level is not a JSON object") }
        guard let phaseText = json["phase"]?.stringValue else { throw FormatError(message: "no \"phase\" string") }
        guard let phase = Phase(rawValue: phaseText) else {
            throw FormatError(
                message: "unknown phase \"\(phaseText)\"; the phases are "
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
        if let gate = try text("deferred_gate") {
            state.deferral = Deferral(gate: gate, reason: try text("deferred_reason") ?? "", at: try time("deferred_at") ?? .goZero)
        }
        state.policySHA256 = try text("policy_sha256")
        state.bootedSlot = try text("booted_slot")
        state.targetSlot = try text("target_slot")
        state.activationBootID = try text("activation_boot_id")
        state.interruptedAttempts = try count("interrupted_attempts")
        state.lastFailureReason = try text("last_failure_reason")
        if case .array(let items)? = json["last_run"] {
            state.lastRun = items.compactMap { item in
                guard let step = item["step"]?.stringValue, let decision = item["decision"]?.stringValue else { return nil }
                return StepRecord(step: step, decision: decision, detail: item["detail"]?.stringValue ?? "")
            }
        }
        state.unknown = pairs.filter { !knownKeys.contains($0.0) }
        return state
    }

    /// The bytes of the file: the JSON object indented by two spaces and a final newline, as the
    /// Go agent's `json.MarshalIndent` writes it.
    public var fileBytes: [UInt8] { Array((json.render() + "\n").utf8) }

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
        if let deferral {
            pairs.append(("deferred_gate", .string(deferral.gate)))
            pairs.append(("deferred_reason", .string(deferral.reason)))
            pairs.append(("deferred_at", .string(deferral.at.description)))
        }
        if let policySHA256 { pairs.append(("policy_sha256", .string(policySHA256))) }
        if let bootedSlot { pairs.append(("booted_slot", .string(bootedSlot))) }
        if let targetSlot { pairs.append(("target_slot", .string(targetSlot))) }
        if let activationBootID { pairs.append(("activation_boot_id", .string(activationBootID))) }
        if interruptedAttempts > 0 { pairs.append(("interrupted_attempts", .int(interruptedAttempts))) }
        if let lastFailureReason { pairs.append(("last_failure_reason", .string(lastFailureReason))) }
        if !lastRun.isEmpty {
            pairs.append(
                (
                    "last_run",
                    .array(
                        lastRun.map { record in
                            .object([
                                ("step", .string(record.step)), ("decision", .string(record.decision)), ("detail", .string(record.detail)),
                            ])
                        })
                ))
        }
        return .object(pairs + unknown)
    }
}
