public import YAMLTree

/// A value that decoded cleanly against its key's `ValueKind`.
public enum DecodedValue: Sendable {
    case text(String)
    case integer(Int)
    case boolean(Bool)
    case duration(Duration)
    case percentage(Double)
    case url(PolicyURL)
    case time(TimeOfDay)
    case days([Weekday])
    case command([String])
    case publicKey(PublicKeySpec)
    case address(HostPort)
    case mapping(DecodedMapping)
    case entries([DecodedEntry])
    case dictionary([(key: String, keyNode: Node, value: DecodedValue)])
    case list([DecodedValue])
}

/// A decoded value with the nodes it came from.
public struct DecodedField: Sendable {
    public var value: DecodedValue
    public var keyNode: Node
    public var node: Node
}

/// A mapping decoded against a table: the keys that decoded, and those that were present but wrong.
public struct DecodedMapping: Sendable {
    public var node: Node
    public var fields: [String: DecodedField] = [:]
    /// Keys that were given but did not decode; their findings are already reported.
    public var invalid: [String: Node] = [:]

    public init(node: Node) { self.node = node }

    public subscript(key: String) -> DecodedField? { fields[key] }
}

/// One `- KIND: {options}` entry of a gate or probe list.
public struct DecodedEntry: Sendable {
    public var kind: EntryKind
    /// The whole entry (`- KIND: …`).
    public var node: Node
    /// The `KIND` key.
    public var kindNode: Node
    public var options: DecodedMapping
    /// Options that were required but missing (already reported).
    public var incomplete: Bool
}

/// `ed25519:<base64>` inline, or a path to a key file.
public enum PublicKeySpec: Sendable, Hashable {
    case ed25519([UInt8])
    case file(String)
}
