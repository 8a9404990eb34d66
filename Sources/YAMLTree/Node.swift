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

    /// How YAML writes null as a plain scalar.
    /// A plain scalar that YAML reads as null (`~`, `null`, `Null`, `NULL` or nothing).
    public var isNull: Bool {
        style == .plain && (value.utf8.withContiguousStorageIfAvailable(Self.isNullSpelling) ?? Self.isNullSpelling(value.utf8))
    }

    /// Whether `bytes` spell null; by length first, as every key and value of a file is asked.
    static func isNullSpelling<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        switch bytes.count {
        case 0: return true
        case 1: return bytes.first == UInt8(ascii: "~")
        case 4:
            // `null`, `Null` or `NULL`, byte by byte: keys such as `name` come this far.
            var next = bytes.makeIterator()
            guard let a = next.next(), let b = next.next(), let c = next.next(), let d = next.next() else { return false }
            return
                ((a == UInt8(ascii: "n") || a == UInt8(ascii: "N")) && b == UInt8(ascii: "u") && c == UInt8(ascii: "l")
                && d == UInt8(ascii: "l"))
                || (a == UInt8(ascii: "N") && b == UInt8(ascii: "U") && c == UInt8(ascii: "L") && d == UInt8(ascii: "L"))
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
/// A node is a position in its tree's `YAMLArena`: copying one copies a reference and an index,
/// and a scalar's text becomes a `String` only when it is asked for.
///
/// Aliases are already resolved: an alias node is the anchored node, so it carries the anchored
/// node's marks.
public struct Node: Sendable {
    public enum Content: Sendable {
        case scalar(Scalar)
        case sequence(NodeList)
        case mapping(PairList)
    }

    /// The storage of the tree the node belongs to.
    public let arena: YAMLArena
    @usableFromInline let index: Int

    @inlinable init(arena: YAMLArena, index: Int) {
        self.arena = arena
        self.index = index
    }

    /// A node standing alone, in an arena of its own (for values that come from elsewhere than a
    /// YAML file: update.conf, flags). Lists and mappings are copied.
    public init(_ content: Content, start: Mark, end: Mark, tag: String? = nil) {
        var builder = YAMLArena.Builder()
        let index = builder.append(content, start: start, end: end, tag: tag)
        self.init(arena: builder.finish(), index: index)
    }

    /// An empty mapping standing alone at `mark`.
    public static func emptyMapping(at mark: Mark) -> Node {
        var builder = YAMLArena.Builder()
        let index = builder.addCollection(mapping: true, slots: [], start: mark, end: mark, tag: -1)
        return Node(arena: builder.finish(), index: index)
    }

    @inlinable var record: YAMLArena.Record { arena.records[index] }

    public var content: Content {
        let record = record
        switch record.kind {
        case .scalar: return .scalar(arena.scalar(record))
        case .sequence: return .sequence(NodeList(arena: arena, first: Int(record.first), count: Int(record.count)))
        case .mapping: return .mapping(PairList(arena: arena, first: Int(record.first), count: Int(record.count) / 2))
        }
    }

    /// Where the node starts.
    @inlinable public var start: Mark { record.start }
    /// Where the node ends (exclusive).
    @inlinable public var end: Mark { record.end }
    /// The explicit tag, if the node carried one (`!!str` arrives as `tag:yaml.org,2002:str`).
    public var tag: String? {
        let tag = record.tag
        return tag < 0 ? nil : arena.tags[Int(tag)]
    }

    public var scalar: Scalar? {
        let record = record
        return record.kind == .scalar ? arena.scalar(record) : nil
    }

    public var sequence: NodeList? {
        let record = record
        guard record.kind == .sequence else { return nil }
        return NodeList(arena: arena, first: Int(record.first), count: Int(record.count))
    }

    public var mapping: PairList? {
        let record = record
        guard record.kind == .mapping else { return nil }
        return PairList(arena: arena, first: Int(record.first), count: Int(record.count) / 2)
    }

    /// Whether the node is a scalar whose text is exactly `text`, without making a `String`.
    public func isScalar(_ text: String) -> Bool {
        let record = record
        guard record.kind == .scalar, Int(record.count) == text.utf8.count else { return false }
        var text = text
        return text.withUTF8 { arena.text(of: record).elementsEqual($0) }
    }

    /// Whether the node is a plain scalar YAML reads as null.
    public var isNull: Bool {
        let record = record
        guard record.kind == .scalar, record.style == .plain, record.count <= 4 else { return false }
        return Scalar.isNullSpelling(arena.text(of: record))
    }

    /// A short name for the kind of node, for messages: "a string", "a list", "a mapping".
    public var kindDescription: String {
        switch record.kind {
        case .scalar: return isNull ? "nothing (null)" : "a scalar"
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }

    /// The value of the first pair whose key is the scalar `key`.
    public subscript(key: String) -> Node? {
        mapping?.first { $0.key.isScalar(key) }?.value
    }
}

/// What a list of the arena holds: a node per slot, or a pair per two.
public protocol ArenaElement: Sendable {
    /// Slots of the arena's children list each element takes.
    static var slots: Int { get }
    /// The element whose first slot is `slot`.
    static func at(_ arena: YAMLArena, slot: Int) -> Self
}

extension Node: ArenaElement {
    @inlinable public static var slots: Int { 1 }
    @inlinable public static func at(_ arena: YAMLArena, slot: Int) -> Node {
        Node(arena: arena, index: Int(arena.children[slot]))
    }
}

extension Pair: ArenaElement {
    @inlinable public static var slots: Int { 2 }
    @inlinable public static func at(_ arena: YAMLArena, slot: Int) -> Pair {
        Pair(key: Node(arena: arena, index: Int(arena.children[slot])), value: Node(arena: arena, index: Int(arena.children[slot + 1])))
    }
}

/// The items of a sequence node (`NodeList`) or the pairs of a mapping node (`PairList`, a
/// repeated key's pair left out), in the order they were written.
public struct ArenaList<Element: ArenaElement>: RandomAccessCollection, Sendable {
    @usableFromInline let arena: YAMLArena
    @usableFromInline let first: Int
    public let count: Int

    @inlinable init(arena: YAMLArena, first: Int, count: Int) {
        self.arena = arena
        self.first = first
        self.count = count
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { count }

    @inlinable public subscript(position: Int) -> Element {
        precondition(position >= 0 && position < count, "index out of range")
        return Element.at(arena, slot: first + Element.slots * position)
    }
}

public typealias NodeList = ArenaList<Node>
public typealias PairList = ArenaList<Pair>
