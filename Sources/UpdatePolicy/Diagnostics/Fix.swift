import JSONValue
public import YAMLTree

/// A change that resolves a finding: edits of the file's own bytes, never a re-written YAML tree,
/// so comments, anchors, key order, quoting, line ends and a cloud-init file's other sections stay
/// as they were. `updatectl lint --fix` applies the safe ones, `--unsafe-fixes` the others too.
public struct Fix: Sendable, Hashable, Codable {
    /// Whether a fix can be applied without a person reading it.
    public enum Safety: String, Sendable, Hashable, Codable, Comparable, CaseIterable {
        /// Changes nothing beyond what the finding names: a misspelling with exactly one close
        /// candidate, a spelling of the same value, quotes that make every YAML reader agree.
        case safe
        /// Changes what the policy does (a setting added, a gate's value chosen for the author),
        /// or picks one of several candidates.
        case unsafe

        public static func < (lhs: Safety, rhs: Safety) -> Bool { lhs == .safe && rhs == .unsafe }
    }

    /// Bytes `start..<end` of the file (0-based offsets) replaced by `text`; an insertion when
    /// the range is empty.
    public struct Edit: Sendable, Hashable, Codable, Comparable {
        public var start: Int
        public var end: Int
        public var text: String

        public init(start: Int, end: Int, text: String) {
            self.start = start
            self.end = max(end, start)
            self.text = text
        }

        public static func < (lhs: Edit, rhs: Edit) -> Bool { (lhs.start, lhs.end) < (rhs.start, rhs.end) }
    }

    /// What the fix does, in a few words: "write `5m`".
    public var title: String
    public var safety: Safety
    /// Edits that do not overlap, in order.
    public var edits: [Edit]

    public init(_ title: String, _ safety: Safety, edits: [Edit]) {
        self.title = title
        self.safety = safety
        self.edits = edits.sorted()
    }

    /// One edit.
    public init(_ title: String, _ safety: Safety, replacing start: Int, _ end: Int, with text: String) {
        self.init(title, safety, edits: [Edit(start: start, end: end, text: text)])
    }
}

extension Fix {
    /// The fix with each edit that starts at a node's properties (an anchor `&name`, a tag
    /// `!!str`, both) starting after them instead: a node's span includes its properties, while
    /// a fix rewrites its value and must leave them. No value starts with `&` or `!` unquoted
    /// (they are indicators), so an edit starting at one starts at properties.
    func pastNodeProperties(in source: [UInt8]) -> Fix {
        var fix = self
        fix.edits = edits.map { edit in
            var start = edit.start
            while start < source.count, source[start] == UInt8(ascii: "&") || source[start] == UInt8(ascii: "!") {
                while start < source.count, ![0x20, 0x09, 0x0A, 0x0D].contains(source[start]) { start += 1 }
                while start < source.count, [0x20, 0x09, 0x0A, 0x0D].contains(source[start]) { start += 1 }
            }
            guard start != edit.start, start <= max(edit.end, edit.start) || edit.start == edit.end else { return edit }
            return Edit(start: start, end: edit.start == edit.end ? start : edit.end, text: edit.text)
        }
        return fix
    }
}

/// Which fixes a rule's findings may carry; declared with the rule, so `lint --explain` and the
/// rule reference say it, and a test checks every finding's fixes against it.
public enum FixAvailability: String, Sendable, Hashable, CaseIterable {
    case none
    /// Every fix the rule offers is safe (not every finding has one).
    case safe
    /// Its findings' fixes change behaviour or pick among candidates: only `--unsafe-fixes`.
    case unsafe
    /// Safe where the replacement is certain, unsafe where it is a choice.
    case safeOrUnsafe = "safe or unsafe"

    /// Whether a fix of `safety` may come from a rule declaring this.
    public func allows(_ safety: Fix.Safety) -> Bool {
        switch self {
        case .none: false
        case .safe: safety == .safe
        case .unsafe: safety == .unsafe
        case .safeOrUnsafe: true
        }
    }
}

extension FixAvailability {
    /// What `lint --explain`, the rule reference and SARIF's rule help say of the rule's fixes; nil
    /// when it has none.
    public var explanation: String? {
        switch self {
        case .none: nil
        case .safe: "safe (`updatectl lint --fix` applies it, where a finding carries one)"
        case .unsafe: "unsafe (only `updatectl lint --fix --unsafe-fixes` applies it)"
        case .safeOrUnsafe:
            "safe where the replacement is certain (`updatectl lint --fix` applies it), else unsafe (only with `--unsafe-fixes`)"
        }
    }
}

/// A fix before it has a place: what a message proposes for the node its finding will span.
/// `Finding(message, at: node)` turns it into edits of the node's bytes.
public struct FixProposal: Sendable, Hashable {
    enum Change: Sendable, Hashable {
        /// The node's bytes become this YAML text.
        case yaml(String)
        /// The node's value becomes this text, written in the node's own quoting style (plain
        /// stays plain when the text may be written plain).
        case value(String)
        /// The plain scalar is put in double quotes.
        case quote
    }

    var change: Change
    var title: String
    var safety: Fix.Safety

    /// The node's bytes replaced by `yaml`.
    static func yaml(_ yaml: String, _ title: String, _ safety: Fix.Safety = .safe) -> FixProposal {
        FixProposal(change: .yaml(yaml), title: title, safety: safety)
    }

    /// The node's value replaced by `text` in the node's quoting style; titled "write `text`".
    static func value(_ text: String, _ safety: Fix.Safety = .safe, title: String? = nil) -> FixProposal {
        FixProposal(change: .value(text), title: title ?? "write `\(text)`", safety: safety)
    }

    /// The node put in double quotes.
    static func quote(_ text: String) -> FixProposal {
        FixProposal(change: .quote, title: "quote `\(text)`", safety: .safe)
    }

    /// A replacement chosen among the candidates: safe when `candidates` holds exactly one close
    /// to `word`, unsafe when the closest is one of several.
    static func closest(_ guess: String?, to word: String, in candidates: some Sequence<String>) -> FixProposal? {
        guard let guess else { return nil }
        return .value(guess, Suggestions.isOnlyCandidate(guess, for: word, in: candidates) ? .safe : .unsafe)
    }

    /// The fix for `node`, or nil when the node's bytes cannot be edited as the proposal says (a
    /// block scalar, a scalar that spans lines, a node not read from the file, new YAML for a node
    /// with a tag).
    func fix(for node: Node) -> Fix? {
        let start = node.start.offset, end = node.end.offset
        guard end > start || node.isNull else { return nil }
        switch change {
        case .yaml(let text):
            // The tag stays before the new text, and may not fit it: `!!str` before a list is
            // an error to YAML readers.
            guard node.tag == nil else { return nil }
            return Fix(title, safety, replacing: start, end, with: text)
        case .value(let text):
            guard let scalar = node.scalar, let written = YAMLText.written(text, style: scalar.style) else { return nil }
            return Fix(title, safety, replacing: start, end, with: written)
        case .quote:
            // Only a plain scalar written on one line: its bytes are its text (after any anchor or
            // tag, which `pastNodeProperties` steps over).
            guard let scalar = node.scalar, scalar.style == .plain, node.start.line == node.end.line,
                end - start >= scalar.value.utf8.count, !scalar.value.isEmpty
            else { return nil }
            return Fix(title, safety, replacing: start, end, with: YAMLText.doubleQuoted(scalar.value))
        }
    }
}

/// Writing a value back as YAML text.
public enum YAMLText {
    /// `text` in `style`: plain when it may be written plain in a block and in a flow collection
    /// (letters, digits and `_ . / + - : @ $ { }` inside, no `: ` or ` #`, no leading indicator),
    /// else double-quoted; quoted styles keep their quotes. Nil for block scalars.
    public static func written(_ text: String, style: ScalarStyle) -> String? {
        switch style {
        case .plain: isPlainSafe(text) ? text : doubleQuoted(text)
        case .singleQuoted: "'" + text.replacingOccurrences("'", "''") + "'"
        case .doubleQuoted: doubleQuoted(text)
        case .literal, .folded: nil
        }
    }

    /// Whether `text` reads back as the same text, written plain, in any context.
    public static func isPlainSafe(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last else { return false }
        guard first.properties.isAlphabetic || ("0"..."9").contains(first) || first == "/" || first == "_" || first == "." || first == "+",
            last != ":"
        else { return false }
        return text.unicodeScalars.allSatisfy {
            $0.properties.isAlphabetic || ("0"..."9").contains($0) || "_./+-:@%".unicodeScalars.contains($0)
        } && !text.contains(": ")
    }

    /// `text` as an item of a flow list: plain when it reads back as the same text (not a number,
    /// a boolean, null or a timestamp, in YAML 1.1 or 1.2), else double-quoted. `isPlainSafe`
    /// keeps out every indicator (`*`, `&`, `!`, `%`, `@`, `` ` ``, `|`, `>`, quotes, `#`, `?`, `~`,
    /// `- `, `,`, brackets and braces) at the start.
    public static func flowItem(_ text: String) -> String {
        let scalar = Scalar(text)
        let plain =
            (isPlainSafe(text) || (text.count > 1 && text.hasPrefix("-") && isPlainSafe(String(text.dropFirst()))))
            && !scalar.isNull && YAML11.reading(of: scalar) == nil && Double(text) == nil
            && !["true", "false", "True", "False", "TRUE", "FALSE"].contains(text) && !mayBeReadAsNumberOrTime(text)
        return plain ? text : doubleQuoted(text)
    }

    /// Whether a YAML 1.1 reader may take plain `text` for a number or a timestamp, by its shape: a
    /// date (`2024-01-01`, `2024-1-1T…`); digits with `_`, `:`, `.`, an exponent (`1_000`, `190:20:30`,
    /// `1.5e+3`); `0x…`, `0b…`, `0o…`; `.inf`, `.nan`. Some text of these shapes is text to every
    /// reader; quoting it changes nothing.
    static func mayBeReadAsNumberOrTime(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        if bytes.count >= 6, bytes[0..<4].allSatisfy(isDigit), bytes[4] == UInt8(ascii: "-"), isDigit(bytes[5]) { return true }
        let unsigned = bytes.first == UInt8(ascii: "-") || bytes.first == UInt8(ascii: "+") ? Array(bytes.dropFirst()) : bytes
        let lowered = String(decoding: unsigned, as: UTF8.self).lowercased()
        if [".inf", ".nan"].contains(lowered) { return true }
        guard let first = unsigned.first, isDigit(first) || (first == UInt8(ascii: ".") && unsigned.count > 1 && isDigit(unsigned[1]))
        else {
            return false
        }
        if lowered.hasPrefix("0x") || lowered.hasPrefix("0b") || lowered.hasPrefix("0o") { return true }
        return lowered.utf8.allSatisfy { isDigit($0) || "_:.e+-".utf8.contains($0) }
    }

    /// `text` in double quotes: JSON's string, which every YAML reader reads as the same text
    /// (YAML 1.2 is a superset of JSON, and its escapes, `\u` included, are YAML 1.1's too).
    public static func doubleQuoted(_ text: String) -> String { JSON.quote(text) }
}

extension String {
    fileprivate func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

/// Fixes that remove an element of a collection or add an item to a sequence, written against the
/// file's lines: a block element goes with its whole line(s), a flow one with one adjacent comma,
/// and nothing else moves. Nil wherever the bytes do not have the shape the edit assumes (an
/// alias, several elements on one line, a collection that would be left empty), so a fix never
/// guesses at layout.
extension Fix {
    /// Removes `pair` from `mapping`: its line(s) in a block mapping, when the key starts its
    /// line; the pair and one adjacent comma in a flow mapping. Nil when the pair is the only one.
    static func removing(_ pair: Pair, of mapping: Node, in source: [UInt8], _ title: String, _ safety: Safety) -> Fix? {
        guard let count = mapping.mapping?.count, count >= 2, pair.value.start.offset >= pair.key.end.offset else { return nil }
        return removing(
            from: pair.key.start.offset, through: pair.value, item: false, of: mapping, in: source, title, safety)
    }

    /// Removes `item` from `sequence`: its line(s) in a block sequence, when its `-` starts the
    /// line; the item and one adjacent comma in a flow sequence. Nil when it is the only item.
    static func removing(item: Node, of sequence: Node, in source: [UInt8], _ title: String, _ safety: Safety) -> Fix? {
        guard let count = sequence.sequence?.count, count >= 2 else { return nil }
        return removing(from: item.start.offset, through: item, item: true, of: sequence, in: source, title, safety)
    }

    /// Adds the entry `kind: options` (one line) as the first item of `sequence`: `- kind: options`
    /// on a line of its own with the first item's indentation and the file's line end, or
    /// `{kind: options}, ` after a flow list's `[`.
    static func inserting(entry item: String, into sequence: Node, in source: [UInt8], _ title: String, _ safety: Safety) -> Fix? {
        let start = sequence.start.offset
        guard start < source.count else { return nil }
        if source[start] == UInt8(ascii: "[") {
            let empty = sequence.sequence?.isEmpty ?? false
            return Fix(title, safety, replacing: start + 1, start + 1, with: "{" + item + "}" + separator(after: start, empty, in: source))
        }
        guard let first = sequence.sequence?.first, first.start.offset >= start,
            let dash = SourceLine.dash(before: first.start.offset, in: source), dash == start
        else { return nil }
        return insertingLine("- " + item, at: dash, in: source, title, safety)
    }

    /// Adds `text` (`key: value`, one line) to `mapping`: on a line of its own above the pair
    /// `before`, whose key must start its line, or `text, ` after a flow mapping's `{`.
    static func inserting(
        pair text: String, before pair: Pair, of mapping: Node, in source: [UInt8], _ title: String, _ safety: Safety
    )
        -> Fix?
    {
        let start = mapping.start.offset, key = pair.key.start.offset
        guard start < source.count, key >= start, key < source.count else { return nil }
        if source[start] == UInt8(ascii: "{") {
            let empty = mapping.mapping?.isEmpty ?? false
            return Fix(title, safety, replacing: start + 1, start + 1, with: text + separator(after: start, empty, in: source))
        }
        guard SourceLine.onlySpaces(before: key, in: source) else { return nil }
        return insertingLine(text, at: key, in: source, title, safety)
    }

    /// What follows an element added right after a flow collection's opening bracket at `open`:
    /// nothing in an empty one, a comma, and a blank unless the bracket ends its line.
    private static func separator(after open: Int, _ empty: Bool, in source: [UInt8]) -> String {
        if empty { return "" }
        let next = open + 1 < source.count ? source[open + 1] : 0x0A
        return next == 0x0A || next == 0x0D ? "," : ", "
    }

    /// `text` on a line of its own, indented as the line of `first` and ended as it is, above that
    /// line and the comment lines right above it (which speak of what follows them).
    private static func insertingLine(_ text: String, at first: Int, in source: [UInt8], _ title: String, _ safety: Safety) -> Fix {
        let lineStart = SourceLine.start(of: first, in: source)
        let indent = String(decoding: source[lineStart..<first], as: UTF8.self)
        let newline = SourceLine.usesCRLF(at: first, in: source) ? "\r\n" : "\n"
        var at = lineStart
        while at > 0, case let above = SourceLine.start(of: at - 1, in: source),
            source[above..<at].drop(while: { $0 == 0x20 }).first == UInt8(ascii: "#")
        {
            at = above
        }
        return Fix(title, safety, replacing: at, at, with: indent + text + newline)
    }

    /// The removal of bytes `start` through the end of `value`, an element of `collection`.
    private static func removing(
        from start: Int, through value: Node, item: Bool, of collection: Node, in source: [UInt8], _ title: String,
        _ safety: Safety
    ) -> Fix? {
        let open = collection.start.offset
        // Inside the collection's own bytes: an alias's marks are its anchor's, written elsewhere.
        guard open < source.count, start < source.count, start >= open,
            SourceLine.contentEnd(of: value, in: source) <= collection.end.offset
        else { return nil }
        if source[open] == UInt8(ascii: "{") || source[open] == UInt8(ascii: "[") {
            return removingFlow(from: start, to: value.end.offset, in: source, title, safety)
        }
        // Block: only the element's own lines, from the start of its first to its last line's end.
        let first = item ? SourceLine.dash(before: start, in: source) : start
        guard let first, SourceLine.onlySpaces(before: first, in: source) else { return nil }
        let lineStart = SourceLine.start(of: first, in: source)
        let contentEnd = SourceLine.contentEnd(of: value, in: source)
        guard contentEnd > start, let lineEnd = SourceLine.endOfLine(after: contentEnd, in: source) else { return nil }
        // No other element may stand on those lines (an alias's marks are its anchor's).
        let elements: [(start: Int, end: Int)] =
            collection.mapping.map { pairs in pairs.map { ($0.key.start.offset, $0.value.end.offset) } }
            ?? collection.sequence.map { items in items.map { ($0.start.offset, $0.end.offset) } } ?? []
        let others = elements.filter { $0.start != start }
        guard others.count == elements.count - 1,
            !others.contains(where: { $0.start < lineEnd && $0.start >= lineStart })
        else { return nil }
        if lineEnd == source.count, source.last != 0x0A {
            // The last line, with no line end: take the line end before it instead, so the file
            // still ends as it did.
            guard lineStart > 0 else { return nil }
            let before = lineStart >= 2 && source[lineStart - 2] == 0x0D ? lineStart - 2 : lineStart - 1
            return Fix(title, safety, replacing: before, lineEnd, with: "")
        }
        return Fix(title, safety, replacing: lineStart, lineEnd, with: "")
    }

    /// A flow element `start..<end` with the comma and spaces after it, or else the comma before it.
    private static func removingFlow(from start: Int, to end: Int, in source: [UInt8], _ title: String, _ safety: Safety) -> Fix? {
        guard end > start, end <= source.count else { return nil }
        func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
        var after = end
        while after < source.count, isBlank(source[after]) { after += 1 }
        if after < source.count, source[after] == UInt8(ascii: ",") {
            after += 1
            while after < source.count, isBlank(source[after]) { after += 1 }
            return Fix(title, safety, replacing: start, after, with: "")
        }
        var before = start
        while before > 0, isBlank(source[before - 1]) { before -= 1 }
        guard before > 0, source[before - 1] == UInt8(ascii: ",") else { return nil }
        return Fix(title, safety, replacing: before - 1, end, with: "")
    }
}

/// Reading the lines of a file's bytes around an offset, for edits that take or add whole lines.
enum SourceLine {
    /// The offset where the line holding `offset` starts.
    static func start(of offset: Int, in source: [UInt8]) -> Int {
        var index = min(offset, source.count)
        while index > 0, source[index - 1] != 0x0A { index -= 1 }
        return index
    }

    /// Whether only spaces stand between the line's start and `offset`.
    static func onlySpaces(before offset: Int, in source: [UInt8]) -> Bool {
        source[start(of: offset, in: source)..<offset].allSatisfy { $0 == 0x20 }
    }

    /// The `-` of the block sequence item starting at `offset`: `- ` and spaces before it, and
    /// only spaces before the dash on its line.
    static func dash(before offset: Int, in source: [UInt8]) -> Int? {
        var index = offset
        while index > 0, source[index - 1] == 0x20 { index -= 1 }
        guard index < offset, index > 0, source[index - 1] == UInt8(ascii: "-"), onlySpaces(before: index - 1, in: source) else {
            return nil
        }
        return index - 1
    }

    /// Where the text of `node` ends: a block collection's end mark lies at the next token, so its
    /// last element's end is taken instead.
    static func contentEnd(of node: Node, in source: [UInt8]) -> Int {
        let start = node.start.offset
        let flow = start < source.count && (source[start] == UInt8(ascii: "{") || source[start] == UInt8(ascii: "["))
        if !flow, let last = node.mapping?.last { return max(contentEnd(of: last.value, in: source), last.key.end.offset) }
        if !flow, let last = node.sequence?.last { return contentEnd(of: last, in: source) }
        return node.end.offset
    }

    /// The offset just past the line end that follows `offset`, when only blanks and a comment
    /// stand between; the file's end when it has no line end there; nil when other text follows.
    static func endOfLine(after offset: Int, in source: [UInt8]) -> Int? {
        guard offset <= source.count else { return nil }
        guard offset > 0, source[offset - 1] != 0x0A else { return offset }
        var index = offset
        while index < source.count, source[index] == 0x20 || source[index] == 0x09 { index += 1 }
        if index < source.count, source[index] == UInt8(ascii: "#"), index > offset || source[offset - 1] == 0x20 {
            while index < source.count, source[index] != 0x0A { index += 1 }
        }
        if index < source.count, source[index] == 0x0D { index += 1 }
        if index == source.count { return index }
        return source[index] == 0x0A ? index + 1 : nil
    }

    /// Whether the line holding `offset` ends with CR LF.
    static func usesCRLF(at offset: Int, in source: [UInt8]) -> Bool {
        var index = offset
        while index < source.count, source[index] != 0x0A { index += 1 }
        return index < source.count && index > 0 && source[index - 1] == 0x0D
    }
}
