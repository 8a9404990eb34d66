internal import CYAML

/// Reads YAML with libyaml's event API and composes an immutable `Node` tree.
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
            return (composer.root, composer.problems)
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
    var node: Node
    /// Nodes in the subtree, the node itself included.
    var count: Int
    /// Collection levels in the subtree: 0 for a scalar, 1 + the deepest child for a collection.
    var height: Int
}

/// A sequence or mapping being composed.
private struct Frame {
    var isMapping: Bool
    var start: Mark
    var tag: String?
    var anchor: String?
    var items: [Node] = []
    var pairs: [Pair] = []
    var pendingKey: Node?
    /// Drop the value of a pair whose key was a duplicate.
    var skipValue = false
    var keys = KeySet()
    var count = 1
    var height = 1
}

/// The keys of one mapping so far: a short list while the mapping is small (most are), a
/// dictionary once it grows, so duplicate detection stays linear overall.
private struct KeySet {
    private var small: [(String, Mark)] = []
    private var large: [String: Mark]?

    /// Adds `key`; returns where it was first given when it is a duplicate.
    mutating func insert(_ key: String, at mark: Mark) -> Mark? {
        if large != nil {
            if let first = large![key] { return first }
            large![key] = mark
            return nil
        }
        for (existing, first) in small where existing == key { return first }
        small.append((key, mark))
        if small.count > 16 {
            large = Dictionary(small, uniquingKeysWith: { first, _ in first })
            small = []
        }
        return nil
    }
}

private struct Composer {
    let buffer: UnsafeBufferPointer<UInt8>
    let limits: YAMLLimits
    let offsets: OffsetMap
    var stack: [Frame] = []
    var anchors: [String: Built] = [:]
    var aliasNodes = 0
    var documents = 0
    var firstDocument = Mark.start
    var root: Node?
    var problems: [YAMLProblem] = []
    var stopped = false
    var failed = false

    init(buffer: UnsafeBufferPointer<UInt8>, limits: YAMLLimits) {
        self.buffer = buffer
        self.limits = limits
        self.offsets = OffsetMap(buffer)
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
                fail(YAMLProblem(
                    .multipleDocuments,
                    "a second YAML document starts here; one document is read",
                    at: start,
                    notes: [.init(message: "the first document starts here", mark: firstDocument)]))
            }
        case YAML_SCALAR_EVENT:
            let data = event.data.scalar
            let value = data.value.map {
                String(decoding: UnsafeBufferPointer(start: $0, count: data.length), as: UTF8.self)
            } ?? ""
            let node = Node(
                .scalar(Scalar(value, style: Self.style(data.style))),
                start: start, end: mark(event.end_mark), tag: Self.string(data.tag))
            complete(Built(node: node, count: 1, height: 0), anchor: Self.string(data.anchor))
        case YAML_ALIAS_EVENT:
            let name = Self.string(event.data.alias.anchor) ?? ""
            guard let anchored = anchors[name] else {
                fail(YAMLProblem(
                    .undefinedAlias, "alias *\(name) refers to no anchor defined before it",
                    at: start, end: mark(event.end_mark)))
                return
            }
            aliasNodes += anchored.count
            if aliasNodes > limits.maxAliasNodes {
                fail(YAMLProblem(
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
            push(Frame(isMapping: false, start: start, tag: Self.string(data.tag), anchor: Self.string(data.anchor)))
        case YAML_MAPPING_START_EVENT:
            let data = event.data.mapping_start
            push(Frame(isMapping: true, start: start, tag: Self.string(data.tag), anchor: Self.string(data.anchor)))
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let frame = stack.popLast() else { return }
            let content: Node.Content = frame.isMapping ? .mapping(frame.pairs) : .sequence(frame.items)
            let node = Node(content, start: frame.start, end: mark(event.end_mark), tag: frame.tag)
            complete(Built(node: node, count: frame.count, height: frame.height), anchor: frame.anchor)
        default:
            break
        }
    }

    private func depthProblem(at mark: Mark) -> YAMLProblem {
        YAMLProblem(.tooDeep, "lists and mappings nest deeper than \(limits.maxDepth) levels", at: mark)
    }

    private mutating func push(_ frame: Frame) {
        guard stack.count < limits.maxDepth else {
            fail(depthProblem(at: frame.start))
            return
        }
        stack.append(frame)
    }

    /// Adds a finished node to the collection being built. `at` is where it stands when that is
    /// not where the node was written: an alias (a duplicate key reached through one is reported
    /// at the alias).
    private mutating func complete(_ built: Built, anchor: String?, at place: (start: Mark, end: Mark)? = nil) {
        if let anchor { anchors[anchor] = built }
        guard !stack.isEmpty else {
            root = built.node
            return
        }
        let top = stack.count - 1
        stack[top].count += built.count
        stack[top].height = max(stack[top].height, built.height + 1)
        guard stack[top].isMapping else {
            stack[top].items.append(built.node)
            return
        }
        guard let key = stack[top].pendingKey else {
            // Scalars by their text; a list or mapping used as a key by its whole content (a
            // character no scalar key holds keeps the two kinds apart).
            let identity: String, shown: String
            if case .scalar(let scalar) = built.node.content {
                identity = scalar.value
                shown = scalar.value
            } else {
                identity = "\u{0}" + Self.canonical(built.node)
                shown = String(Self.canonical(built.node).prefix(60))
            }
            let (start, end) = place ?? (built.node.start, built.node.end)
            if let first = stack[top].keys.insert(identity, at: start) {
                problems.append(YAMLProblem(
                    .duplicateKey, "key '\(shown)' is given twice in this mapping",
                    at: start, end: end,
                    notes: [.init(message: "first given here", mark: first)]))
                stack[top].skipValue = true
            }
            stack[top].pendingKey = built.node
            return
        }
        stack[top].pendingKey = nil
        if stack[top].skipValue {
            stack[top].skipValue = false
        } else {
            stack[top].pairs.append(Pair(key: key, value: built.node))
        }
    }

    /// A node's content in flow form, for comparing keys that are lists or mappings.
    private static func canonical(_ node: Node) -> String {
        switch node.content {
        case .scalar(let scalar): return "\"" + scalar.value.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\\\"") + "\""
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
