/// The storage of one YAML tree: every node a fixed-size record in one array, the children of
/// every list and mapping in a second, and every scalar's text in one byte buffer. Composing a
/// tree of any size makes a handful of allocations instead of one or more per node; `Node` is an
/// index into it.
///
/// Immutable once built (`Builder.finish`), so it is shared freely between threads.
public final class YAMLArena: Sendable {
    @usableFromInline enum Kind: UInt8, Sendable {
        case scalar, sequence, mapping
    }

    @usableFromInline struct Record: Sendable {
        @usableFromInline var start: Mark
        @usableFromInline var end: Mark
        /// A scalar's first byte in `bytes`, or a collection's first slot in `children`.
        @usableFromInline var first: UInt32
        /// A scalar's length in bytes, or a collection's slots (two per mapping pair).
        @usableFromInline var count: UInt32
        /// Index into `tags`, or -1.
        @usableFromInline var tag: Int32
        @usableFromInline var kind: Kind
        @usableFromInline var style: ScalarStyle
    }

    @usableFromInline let records: [Record]
    @usableFromInline let children: [UInt32]
    @usableFromInline let bytes: [UInt8]
    @usableFromInline let tags: [String]

    private init(records: [Record], children: [UInt32], bytes: [UInt8], tags: [String]) {
        self.records = records
        self.children = children
        self.bytes = bytes
        self.tags = tags
    }

    /// How many nodes the tree holds (an alias counts once, however often it is used).
    public var nodeCount: Int { records.count }

    /// The byte ranges of the scalars written quoted or as blocks, in file order: text in which a
    /// `#` starts no comment. (A plain scalar cannot hold ` #`.)
    public var quotedAndBlockScalarRanges: [Range<Int>] {
        records.lazy.filter { $0.kind == .scalar && $0.style != .plain && $0.end.offset > $0.start.offset }
            .map { $0.start.offset..<$0.end.offset }.sorted { $0.lowerBound < $1.lowerBound }
    }

    @usableFromInline func text(of record: Record) -> ArraySlice<UInt8> {
        bytes[Int(record.first)..<Int(record.first) + Int(record.count)]
    }

    @usableFromInline func scalar(_ record: Record) -> Scalar {
        let value = bytes.withUnsafeBufferPointer {
            String(
                decoding: UnsafeBufferPointer(rebasing: $0[Int(record.first)..<Int(record.first) + Int(record.count)]),
                as: UTF8.self)
        }
        return Scalar(value, style: record.style)
    }

    /// Grows an arena; `finish` freezes it.
    struct Builder {
        var records: [Record] = []
        var children: [UInt32] = []
        var bytes: [UInt8] = []
        var tags: [String] = []

        init(expectedBytes: Int = 0) {
            // Scalars' text is hardly ever longer than the source (folding and escapes shorten it,
            // save `\L` and `\P`; an alias copies nothing), so its buffer rarely grows; a node per ~12 bytes of
            // YAML is a generous bound for real policies. Pages that are reserved and not used
            // cost no memory.
            records.reserveCapacity(expectedBytes / 12 + 4)
            children.reserveCapacity(expectedBytes / 12 + 4)
            bytes.reserveCapacity(expectedBytes + 16)
        }

        mutating func tagIndex(_ tag: String?) -> Int32 {
            guard let tag else { return -1 }
            if let index = tags.firstIndex(of: tag) { return Int32(index) }
            tags.append(tag)
            return Int32(tags.count - 1)
        }

        mutating func addScalar(
            _ text: UnsafeBufferPointer<UInt8>, style: ScalarStyle, start: Mark, end: Mark,
            tag: Int32
        ) -> Int {
            let first = UInt32(bytes.count)
            bytes.append(contentsOf: text)
            records.append(
                Record(
                    start: start, end: end, first: first, count: UInt32(text.count), tag: tag,
                    kind: .scalar, style: style))
            return records.count - 1
        }

        mutating func addCollection(mapping: Bool, slots: ArraySlice<UInt32>, start: Mark, end: Mark, tag: Int32) -> Int {
            let first = UInt32(children.count)
            children.append(contentsOf: slots)
            records.append(
                Record(
                    start: start, end: end, first: first, count: UInt32(slots.count), tag: tag,
                    kind: mapping ? .mapping : .sequence, style: .plain))
            return records.count - 1
        }

        /// Copies a node given as content (and, for collections, the nodes it holds).
        mutating func append(_ content: Node.Content, start: Mark, end: Mark, tag: String?) -> Int {
            let tag = tagIndex(tag)
            switch content {
            case .scalar(let scalar):
                var value = scalar.value
                return value.withUTF8 { addScalar($0, style: scalar.style, start: start, end: end, tag: tag) }
            case .sequence(let items):
                let slots = items.map { UInt32(append($0)) }
                return addCollection(mapping: false, slots: slots[...], start: start, end: end, tag: tag)
            case .mapping(let pairs):
                let slots = pairs.flatMap { [UInt32(append($0.key)), UInt32(append($0.value))] }
                return addCollection(mapping: true, slots: slots[...], start: start, end: end, tag: tag)
            }
        }

        private mutating func append(_ node: Node) -> Int {
            append(node.content, start: node.start, end: node.end, tag: node.tag)
        }

        func finish() -> YAMLArena {
            YAMLArena(records: records, children: children, bytes: bytes, tags: tags)
        }
    }
}
