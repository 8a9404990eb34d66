public import YAMLTree

/// A value that decoded cleanly against its key's `ValueKind`.
public enum DecodedValue: Sendable {
    case text(String)
    case integer(Int)
    case boolean(Bool)
    case duration(Duration)
    case percentage(Double)
    case fraction(Double)
    /// Boxed: four strings would make every decoded value that wide.
    indirect case url(PolicyURL)
    case time(TimeOfDay)
    /// A `"HH:MM-HH:MM"` window; nil for the empty text (always open).
    case timeRange(TimeRange?)
    case days([Weekday])
    case command([String])
    case publicKey(PublicKeySpec)
    case address(HostPort)
    case rate(Int)
    case size(Int)
    case mapping(DecodedMapping)
    case entries([DecodedEntry])
    case dictionary([(key: String, keyNode: Node, value: DecodedValue)])
    case list([DecodedValue])
}

/// A decoded value with where it stands (marks, not nodes: fields are copied often).
public struct DecodedField: Sendable {
    public var value: DecodedValue
    public var start: Mark
    public var end: Mark
    /// Where it was written when not in the policy itself (update.conf, a flag).
    public var source: PolicyLayer.Source?

    init(value: DecodedValue, node: Node, source: PolicyLayer.Source? = nil) {
        self.value = value
        start = node.start
        end = node.end
        self.source = source
    }
}

/// A mapping decoded against a table: the keys that decoded, and those that were present but wrong.
public struct DecodedMapping: Sendable {
    public var node: Node
    /// Decoded fields by key. Tables have a dozen keys at most, so a short list beats hashing.
    public var fields = SmallMap<DecodedField>()
    /// Keys that were given but did not decode (where); their findings are already reported.
    public var invalid = SmallMap<Mark>()

    public init(node: Node) { self.node = node }

    public subscript(key: String) -> DecodedField? { fields[key] }
}

/// A few values by string key, in insertion order.
public struct SmallMap<Value: Sendable>: Sendable {
    /// A struct, not a tuple: a tuple's copies go through the runtime's generic tuple witnesses.
    private struct Entry: Sendable {
        var key: String
        var value: Value
    }

    private var entries: [Entry] = []

    public init() {}

    /// Room for `count` values, allocated once.
    public mutating func reserveCapacity(_ count: Int) { entries.reserveCapacity(count) }

    public var keys: [String] { entries.map(\.key) }

    /// Whether `key` has a value, without copying it out.
    public func contains(_ key: String) -> Bool {
        entries.withUnsafeBufferPointer { buffer in buffer.contains { $0.key == key } }
    }

    public subscript(key: String) -> Value? {
        // Through the buffer, so that only the value found is copied, not each entry passed.
        get { entries.withUnsafeBufferPointer { buffer in buffer.firstIndex { $0.key == key }.map { buffer[$0].value } } }
        set {
            // Clearing a key of an empty map (the decoder clears `invalid` for every good value).
            if newValue == nil, entries.isEmpty { return }
            if let index = entries.withUnsafeBufferPointer({ buffer in buffer.firstIndex { $0.key == key } }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append(Entry(key: key, value: newValue))
            }
        }
    }

    public var isEmpty: Bool { entries.isEmpty }
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

/// `ed25519:<base64>` inline, or a path to a key file; or a list of those, any one of which
/// verifies (a key being rotated out beside its successor).
public enum PublicKeySpec: Sendable, Hashable {
    case ed25519([UInt8])
    case file(String)
    case any([PublicKeySpec])

    /// The single keys, in the order written.
    public var keys: [PublicKeySpec] {
        if case .any(let keys) = self { return keys.flatMap(\.keys) }
        return [self]
    }

    /// The key files named.
    public var files: [String] {
        keys.compactMap { if case .file(let path) = $0 { path } else { nil } }
    }
}
