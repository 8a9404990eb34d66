/// How a scalar was written. The policy layer uses it to tell `"on"` from `on`.
public enum ScalarStyle: String, Sendable, Hashable, Codable {
    case plain
    case singleQuoted = "single_quoted"
    case doubleQuoted = "double_quoted"
    case literal
    case folded

    /// Whether the scalar was quoted or written as a block, so no YAML 1.1 tool would guess a type.
    public var isQuotedOrBlock: Bool { self != .plain }
}

/// A scalar value as written, with the style it was written in.
public struct Scalar: Sendable, Hashable {
    public var value: String
    public var style: ScalarStyle

    public init(_ value: String, style: ScalarStyle = .plain) {
        self.value = value
        self.style = style
    }

    /// A plain scalar that YAML reads as null (`~`, `null`, `Null`, `NULL` or nothing).
    public var isNull: Bool {
        guard style == .plain else { return false }
        switch value {
        case "", "~", "null", "Null", "NULL": return true
        default: return false
        }
    }
}

/// One entry of a mapping, in the order it was written.
public struct Pair: Sendable {
    public var key: Node
    public var value: Node

    public init(key: Node, value: Node) {
        self.key = key
        self.value = value
    }
}

/// An immutable YAML node: a scalar, a sequence or a mapping (order kept), with where it stands.
///
/// Aliases are already expanded: an alias node is a copy of the anchored node, so it carries the
/// anchored node's marks.
public struct Node: Sendable {
    public enum Content: Sendable {
        case scalar(Scalar)
        case sequence([Node])
        case mapping([Pair])
    }

    public var content: Content
    /// Where the node starts.
    public var start: Mark
    /// Where the node ends (exclusive).
    public var end: Mark
    /// The explicit tag, if the node carried one (`!!str` arrives as `tag:yaml.org,2002:str`).
    public var tag: String?

    public init(_ content: Content, start: Mark, end: Mark, tag: String? = nil) {
        self.content = content
        self.start = start
        self.end = end
        self.tag = tag
    }

    public var scalar: Scalar? {
        if case .scalar(let s) = content { return s }
        return nil
    }

    public var sequence: [Node]? {
        if case .sequence(let items) = content { return items }
        return nil
    }

    public var mapping: [Pair]? {
        if case .mapping(let pairs) = content { return pairs }
        return nil
    }

    /// A short name for the kind of node, for messages: "a string", "a list", "a mapping".
    public var kindDescription: String {
        switch content {
        case .scalar(let s): return s.isNull ? "nothing (null)" : "a scalar"
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }

    /// The value of the first pair whose key is the scalar `key`.
    public subscript(key: String) -> Node? {
        mapping?.first { $0.key.scalar?.value == key }?.value
    }
}
