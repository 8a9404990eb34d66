public import YAMLTree

/// Where a policy value came from.
public enum Origin: Sendable, Hashable {
    /// Written in the policy at this position.
    case policy(Mark)
    /// Not written: the built-in default.
    case defaulted
    /// Written, but wrong (already reported); the default stands in so that work can go on.
    case invalid(Mark)
    /// Written in another file (update.conf) at this position.
    case file(String, Mark)
    /// Given on the command line, by this flag.
    case flag(String)

    /// The position in the policy file; nil for a value from elsewhere.
    public var mark: Mark? {
        switch self {
        case .policy(let mark), .invalid(let mark): mark
        case .defaulted, .file, .flag: nil
        }
    }

    /// Where a value from outside the policy file came from: `update.conf:3:8`, `--server`.
    public var elsewhere: String? {
        switch self {
        case .file(let path, let mark): "\(path):\(mark.line):\(mark.column)"
        case .flag(let name): name
        default: nil
        }
    }

    public var isDefault: Bool { self == .defaulted }
    public var isInvalid: Bool {
        if case .invalid = self { return true }
        return false
    }
}

/// A value with where it came from.
public struct Located<Value: Sendable>: Sendable {
    public var value: Value
    public var origin: Origin

    public init(_ value: Value, _ origin: Origin) {
        self.value = value
        self.origin = origin
    }
}

extension Located: Equatable where Value: Equatable {}
extension Located: Hashable where Value: Hashable {}
