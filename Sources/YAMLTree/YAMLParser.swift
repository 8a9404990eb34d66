internal import CYAML

/// Reads YAML with libyaml's event API and composes an immutable tree of `Node`s in one `YAMLArena`.
///
/// The composer is iterative (an explicit stack, no recursion), caps the nesting depth and the
/// nodes aliases may add, rejects duplicate keys and any document after the first, and reports
/// every problem as a `YAMLProblem` instead of throwing or trapping.
public enum YAMLParser {
    /// Reads one YAML document from `bytes`.
    public static func parse(_ bytes: [UInt8], limits: YAMLLimits = .default) -> YAMLDocument {
        if bytes.count > limits.maxBytes {
            let problem = YAMLProblem(
                .tooLarge,
                "the file is \(bytes.count) bytes, over the limit of \(limits.maxBytes) bytes",
                at: .start)
            return YAMLDocument(root: nil, problems: [problem], source: bytes)
        }
        let (root, problems) = bytes.withUnsafeBufferPointer { buffer in
            var composer = Composer(buffer: buffer, limits: limits)
            composer.run()
            return (composer.finish(), composer.problems)
        }
        return YAMLDocument(root: root, problems: problems, source: bytes)
    }

    /// Reads one YAML document from a file, or from standard input when `path` is `-`.
    public static func parse(contentsOf path: String, limits: YAMLLimits = .default) -> YAMLDocument {
        do {
            let bytes = try SourceReader.read(path: path, maxBytes: limits.maxBytes)
            return parse(bytes, limits: limits)
        } catch {
            return YAMLDocument(root: nil, problems: [error.problem], source: [])
        }
    }
}

/// A node that is complete, with what the budget and depth checks need to know of it.
private struct Built {
    var index: Int
    /// Nodes in the subtree, the node itself included (an alias's nodes count each time it is used).
    var count: Int
    /// Collection levels in the subtree: 0 for a scalar, 1 + the deepest child for a collection.
    var height: Int
}

/// A sequence or mapping being composed. Its children wait in the composer's shared `slots`
/// from `firstSlot` on, its keys in the shared `keys` from `firstKey` on.
private struct Frame {
    var isMapping: Bool
    var start: Mark
    var tag: Int32
    var anchor: String?
    var firstSlot: Int
    var firstKey: Int
    var pendingKey = false
    /// Drop the value of a pair whose key was a duplicate.
    var skipValue = false
    /// The keys by identity once the mapping has more than `smallMapping` of them.
    var large: [String: Mark]?
    var count = 1
    var height = 1
}

private struct Composer {
    /// Up to this many keys a mapping checks for duplicates by comparing with each; past it, by hashing.
    static let smallMapping = 16

    let buffer: UnsafeBufferPointer<UInt8>
    let limits: YAMLLimits
    let offsets: OffsetMap
    var arena: YAMLArena.Builder
    var stack: [Frame] = []
    /// Children of the collections being composed, innermost last.
    var slots: [UInt32] = []
    /// Keys of the mappings being composed (node, where given), innermost last.
    var keys: [(node: Int, mark: Mark)] = []
    var anchors: [String: Built] = [:]
    var aliasNodes = 0
    var documents = 0
    var firstDocument = Mark.start
    var root: Int?
    var problems: [YAMLProblem] = []
    var stopped = false
    var failed = false

    init(buffer: UnsafeBufferPointer<UInt8>, limits: YAMLLimits) {
        self.buffer = buffer
        self.limits = limits
        self.offsets = OffsetMap(buffer)
        self.arena = YAMLArena.Builder(expectedBytes: buffer.count)
    }

    /// The composed tree's root, once `run` is done.
    func finish() -> Node? {
        root.map { Node(arena: arena.finish(), index: $0) }
    }

    mutating func run() {
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        defer { parser.deallocate() }
        guard yaml_parser_initialize(parser) == 1 else {
            problems.append(YAMLProblem(.reader, "libyaml could not allocate a parser", at: .start))
            return
        }
        defer { yaml_parser_delete(parser) }
        // UTF-8 only, so every offset is a byte offset; a UTF-8 byte-order mark is skipped here,
        // since libyaml keeps it as a character when the encoding is set.
        if buffer.count >= 2, (buffer[0] == 0xFF && buffer[1] == 0xFE) || (buffer[0] == 0xFE && buffer[1] == 0xFF) {
            fail(YAMLProblem(.reader, "the input is UTF-16; only UTF-8 is read (save it as UTF-8)", at: .start))
            return
        }
        yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
        if let base = buffer.baseAddress {
            yaml_parser_set_input_string(parser, base + offsets.bomLength, buffer.count - offsets.bomLength)
        } else {
            var empty: UInt8 = 0
            yaml_parser_set_input_string(parser, &empty, 0)
        }

        var event = yaml_event_t()
        while !stopped {
            guard yaml_parser_parse(parser, &event) == 1 else {
                fail(libyamlProblem(parser.pointee))
                break
            }
            defer { yaml_event_delete(&event) }
            handle(event)
        }
        if failed { root = nil }
    }

    private mutating func fail(_ problem: YAMLProblem) {
        problems.append(problem)
        stopped = true
        failed = true
    }

    private func mark(_ m: yaml_mark_t) -> Mark {
        Mark(line: m.line + 1, column: m.column + 1, offset: offsets.offset(ofCharacter: m.index))
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    private mutating func handle(_ event: yaml_event_t) {
        let start = mark(event.start_mark)
        switch event.type {
        case YAML_STREAM_END_EVENT:
            if documents == 0 {
                fail(YAMLProblem(.empty, "the file holds no YAML document (it is empty or only comments)", at: .start))
            }
            stopped = true
        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            if documents == 1 {
                firstDocument = start
            } else {
                fail(
                    YAMLProblem(
                        .multipleDocuments,
                        "a second YAML document starts here; one document is read",
                        at: start,
                        notes: [.init(message: "the first document starts here", mark: firstDocument)]))
            }
        case YAML_SCALAR_EVENT:
            let data = event.data.scalar
            let text = UnsafeBufferPointer(start: data.value, count: data.value == nil ? 0 : data.length)
            let tag = data.tag == nil ? -1 : arena.tagIndex(Self.string(data.tag))
            let index = arena.addScalar(text, style: Self.style(data.style), start: start, end: mark(event.end_mark), tag: tag)
            complete(Built(index: index, count: 1, height: 0), anchor: Self.string(data.anchor))
        case YAML_ALIAS_EVENT:
            let name = Self.string(event.data.alias.anchor) ?? ""
            guard let anchored = anchors[name] else {
                fail(
                    YAMLProblem(
                        .undefinedAlias, "alias *\(name) refers to no anchor defined before it",
                        at: start, end: mark(event.end_mark)))
                return
            }
            aliasNodes += anchored.count
            if aliasNodes > limits.maxAliasNodes {
                fail(
                    YAMLProblem(
                        .aliasBudget,
                        "aliases expand to more than \(limits.maxAliasNodes) nodes; the file grows too much when "
                            + "its aliases are expanded (an \"alias bomb\")",
                        at: start, end: mark(event.end_mark)))
                return
            }
            if stack.count + anchored.height > limits.maxDepth {
                fail(depthProblem(at: start))
                return
            }
            complete(anchored, anchor: nil, at: (start, mark(event.end_mark)))
        case YAML_SEQUENCE_START_EVENT:
            let data = event.data.sequence_start
            push(isMapping: false, start: start, tag: data.tag, anchor: Self.string(data.anchor))
        case YAML_MAPPING_START_EVENT:
            let data = event.data.mapping_start
            push(isMapping: true, start: start, tag: data.tag, anchor: Self.string(data.anchor))
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let frame = stack.popLast() else { return }
            let index = arena.addCollection(
                mapping: frame.isMapping, slots: slots[frame.firstSlot...],
                start: frame.start, end: mark(event.end_mark), tag: frame.tag)
            slots.removeSubrange(frame.firstSlot...)
            keys.removeSubrange(frame.firstKey...)
            complete(Built(index: index, count: frame.count, height: frame.height), anchor: frame.anchor)
        default:
            break
        }
    }

    private func depthProblem(at mark: Mark) -> YAMLProblem {
        YAMLProblem(.tooDeep, "lists and mappings nest deeper than \(limits.maxDepth) levels", at: mark)
    }

    private mutating func push(isMapping: Bool, start: Mark, tag: UnsafeMutablePointer<yaml_char_t>?, anchor: String?) {
        guard stack.count < limits.maxDepth else {
            fail(depthProblem(at: start))
            return
        }
        let tag = tag == nil ? -1 : arena.tagIndex(Self.string(tag))
        stack.append(
            Frame(
                isMapping: isMapping, start: start, tag: tag, anchor: anchor, firstSlot: slots.count,
                firstKey: keys.count))
    }

    /// Adds a finished node to the collection being built. `at` is where it stands when that is
    /// not where the node was written: an alias (a duplicate key reached through one is reported
    /// at the alias).
    private mutating func complete(_ built: Built, anchor: String?, at place: (start: Mark, end: Mark)? = nil) {
        if let anchor { anchors[anchor] = built }
        guard !stack.isEmpty else {
            root = built.index
            return
        }
        let top = stack.count - 1
        stack[top].count += built.count
        stack[top].height = max(stack[top].height, built.height + 1)
        guard stack[top].isMapping else {
            slots.append(UInt32(built.index))
            return
        }
        guard stack[top].pendingKey else {
            let record = arena.records[built.index]
            let (start, end) = place ?? (record.start, record.end)
            stack[top].pendingKey = true
            if let first = insertKey(built.index, at: start, frame: top) {
                problems.append(
                    YAMLProblem(
                        .duplicateKey, "key '\(shown(built.index))' is given twice in this mapping",
                        at: start, end: end,
                        notes: [.init(message: "first given here", mark: first)]))
                stack[top].skipValue = true
            } else {
                slots.append(UInt32(built.index))
            }
            return
        }
        stack[top].pendingKey = false
        if stack[top].skipValue {
            stack[top].skipValue = false
        } else {
            slots.append(UInt32(built.index))
        }
    }

    /// Records a key of the mapping at `frame`; returns where it was first given when it is a
    /// duplicate. Scalars compare by their text, whatever their style; a list or mapping used as a
    /// key by its whole content.
    private mutating func insertKey(_ key: Int, at mark: Mark, frame: Int) -> Mark? {
        if stack[frame].large != nil {
            let identity = identity(key)
            if let first = stack[frame].large![identity] { return first }
            stack[frame].large![identity] = mark
            return nil
        }
        for slot in stack[frame].firstKey..<keys.count where sameKey(keys[slot].node, key) {
            return keys[slot].mark
        }
        keys.append((key, mark))
        if keys.count - stack[frame].firstKey > Self.smallMapping {
            var large: [String: Mark] = [:]
            for slot in stack[frame].firstKey..<keys.count where large[identity(keys[slot].node)] == nil {
                large[identity(keys[slot].node)] = keys[slot].mark
            }
            stack[frame].large = large
        }
        return nil
    }

    private func sameKey(_ a: Int, _ b: Int) -> Bool {
        let ra = arena.records[a], rb = arena.records[b]
        if ra.kind == .scalar && rb.kind == .scalar {
            guard ra.count == rb.count else { return false }
            return arena.bytes[Int(ra.first)..<Int(ra.first + ra.count)] == arena.bytes[Int(rb.first)..<Int(rb.first + rb.count)]
        }
        guard ra.kind != .scalar && rb.kind != .scalar else { return false }
        return identity(a) == identity(b)
    }

    /// A key's identity as text: a scalar's text, or a character no scalar key holds and then a
    /// list's or mapping's content in flow form.
    private func identity(_ key: Int) -> String {
        scalarText(key) ?? "\u{0}" + Self.canonical(Node(arena: arena.finish(), index: key))
    }

    private func shown(_ key: Int) -> String {
        scalarText(key) ?? String(Self.canonical(Node(arena: arena.finish(), index: key)).prefix(60))
    }

    /// A scalar key's text, read from the arena being built (no frozen copy of it per key: a
    /// mapping past 16 keys asks for every key's).
    private func scalarText(_ key: Int) -> String? {
        let record = arena.records[key]
        guard record.kind == .scalar else { return nil }
        return String(decoding: arena.bytes[Int(record.first)..<Int(record.first + record.count)], as: UTF8.self)
    }

    /// A node's content in flow form, for comparing keys that are lists or mappings.
    private static func canonical(_ node: Node) -> String {
        switch node.content {
        case .scalar(let scalar):
            return "\"" + scalar.value.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\\\"") + "\""
        case .sequence(let items): return "[" + items.map(canonical).joined(separator: ", ") + "]"
        case .mapping(let pairs): return "{" + pairs.map { canonical($0.key) + ": " + canonical($0.value) }.joined(separator: ", ") + "}"
        }
    }

    private static func style(_ style: yaml_scalar_style_t) -> ScalarStyle {
        switch style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: return .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: return .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: return .literal
        case YAML_FOLDED_SCALAR_STYLE: return .folded
        default: return .plain
        }
    }

    /// libyaml's own error, with its problem text and position, and its context as a note.
    private func libyamlProblem(_ parser: yaml_parser_t) -> YAMLProblem {
        let problem = parser.problem.map { String(cString: $0) } ?? "libyaml reported an unknown error"
        switch parser.error {
        case YAML_READER_ERROR:
            var message = problem
            if parser.problem_value != -1 {
                let hex = String(UInt32(bitPattern: parser.problem_value), radix: 16, uppercase: true)
                message += " (#x\(hex))"
            }
            return YAMLProblem(.reader, message, at: offsets.mark(ofByte: parser.problem_offset + offsets.bomLength))
        case YAML_SCANNER_ERROR, YAML_PARSER_ERROR:
            let kind: YAMLProblem.Kind = parser.error == YAML_SCANNER_ERROR ? .scanner : .parser
            var notes: [YAMLProblem.Note] = []
            if let context = parser.context {
                notes.append(.init(message: String(cString: context), mark: mark(parser.context_mark)))
            }
            return YAMLProblem(kind, problem, at: mark(parser.problem_mark), notes: notes)
        default:
            return YAMLProblem(.parser, problem, at: mark(parser.problem_mark))
        }
    }
}
