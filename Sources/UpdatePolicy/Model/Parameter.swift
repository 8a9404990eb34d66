/// A step parameter, typed so that a diff can say "shortened by 2h".
public struct Parameter: Sendable {
    public var name: String
    public var value: PlanValue
    public var origin: Origin

    public init(_ name: String, _ value: PlanValue, _ origin: Origin) {
        self.name = name
        self.value = value
        self.origin = origin
    }
}

public enum PlanValue: Sendable, Hashable {
    case text(String)
    case integer(Int)
    case duration(Duration)
    case percentage(Double)
    case boolean(Bool)
    case list([String])
    case time(TimeOfDay)

    public var display: String {
        switch self {
        case .text(let text): text
        case .integer(let value): String(value)
        case .duration(let value): DurationText.format(value)
        case .percentage(let value): (value == value.rounded() ? String(Int(value)) : String(value)) + "%"
        case .boolean(let value): value ? "true" : "false"
        case .list(let items): "[" + items.joined(separator: ", ") + "]"
        case .time(let time): time.description
        }
    }
}
