/// `max_attempts`: the offered version has not been attempted too often.
public struct MaxAttemptsGate: DecodableGate {
    public var max: Located<Int>

    public static let entry = EntryKind.gate(
        "max_attempts", example: "- max_attempts: 3", timeout: "1s", scalarKey: "max",
        "Passes while the state's `attempt_count` for the offered version is below `max`; a staged release the run takes "
            + "up (one the fleet lock made wait) goes on with the attempt that staged it, which is not counted against it. "
            + "`- max_attempts: 3` is short for `{max: 3}`.",
        [
            Key("max", .integer(min: 1, max: nil), required: true, "Attempts allowed per target version.")
        ], type: MaxAttemptsGate.self)

    init?(_ options: Fields, _ context: inout KindContext) {
        guard case .integer? = options.mapping["max"]?.value else { return nil }
        max = options.integer("max")
    }

    public var summary: String { "attempt_count for the offered version < \(max.value)" }
    public var parameters: [Parameter] { [Parameter("max", .integer(max.value), max.origin)] }

    public static let skippedByForce = true
    public static let withoutIt: String? = ": a failing version is retried without limit"
}
