import YAMLTree

/// The rules that relate several values, each with its reasoning in the message. Values that were
/// written wrong (already reported) are left out, so one mistake gives one finding.
struct CrossChecks {
    let policy: Policy
    /// The `updates:` key, where policy-wide findings land.
    let anchor: Node
    /// The policy's bytes, to find where a value that starts at a mark ends.
    let source: [UInt8]
    var findings: [Finding] = []
    /// The document, to find the nodes a fix edits: values keep only their start.
    var root: Node?

    /// The end of the one-line scalar starting at `mark`: the closing quote of a quoted one, else
    /// the last character before `,`, `}`, `]`, a comment or the line's end. Values keep only
    /// their start (a policy holds hundreds of thousands of them); findings want the span.
    func end(of mark: Mark?) -> Mark? {
        guard let mark, mark.offset < source.count else { return nil }
        var index = mark.offset
        let first = source[index]
        if first == UInt8(ascii: "\"") || first == UInt8(ascii: "'") {
            index += 1
            while index < source.count, source[index] != 0x0A {
                if first == UInt8(ascii: "\""), source[index] == UInt8(ascii: "\\") {
                    index += 2
                    continue
                }
                if source[index] == first {
                    index += 1
                    break
                }
                index += 1
            }
        } else {
            while index < source.count {
                let byte = source[index]
                if byte == 0x0A || byte == 0x0D || byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}")
                    || byte == UInt8(ascii: "]") || (byte == UInt8(ascii: "#") && index > 0 && source[index - 1] == 0x20)
                {
                    break
                }
                index += 1
            }
            while index > mark.offset, source[index - 1] == 0x20 || source[index - 1] == 0x09 { index -= 1 }
        }
        guard index > mark.offset, index <= source.count else { return nil }
        let width = String(decoding: source[mark.offset..<index], as: UTF8.self).unicodeScalars.count
        return Mark(line: mark.line, column: mark.column + width, offset: index)
    }

    /// Where `text` is first written at or after `mark` (at its opening quote when quoted); nil
    /// when it is not there as it is (written with escapes, say).
    func mark(of text: String, from mark: Mark) -> Mark? {
        let needle = Array(text.utf8)
        guard !needle.isEmpty, mark.offset < source.count else { return nil }
        var index = mark.offset
        while index + needle.count <= source.count, !source[index..<index + needle.count].elementsEqual(needle) { index += 1 }
        guard index + needle.count <= source.count else { return nil }
        if index > mark.offset, source[index - 1] == UInt8(ascii: "\"") || source[index - 1] == UInt8(ascii: "'") { index -= 1 }
        var (line, column) = (mark.line, mark.column)
        for byte in source[mark.offset..<index] {
            if byte == 0x0A {
                (line, column) = (line + 1, 1)
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return Mark(line: line, column: column, offset: index)
    }

    func at(_ origin: Origin) -> Mark { origin.mark ?? anchor.start }
    func format(_ duration: Duration) -> String { DurationText.format(duration) }
    func said(_ origin: Origin) -> String { origin.isDefault ? " (the default)" : "" }

    /// The general rules that relate several values, each in its own file (`Lint/Rules/`), in
    /// the order their findings are made; the kinds' own checks run between the two lists.
    static let rules: [any PolicyRule.Type] = [
        SettleNotUnderTimeout.self, ProbeTimeoutOverRun.self, ShortInterval.self, IntervalOverTimeout.self, RollbackOff.self,
        Unauthenticated.self, UnsignedMetadata.self, MetadataTrustIgnored.self, VariableInShell.self,
        BeforeRebootNeverRuns.self,
    ]
    static let rulesAfterKinds: [any PolicyRule.Type] = [RebootCommandMissing.self]

    mutating func run() {
        for rule in Self.rules { rule.check(&self) }
        // Each kind's own checks: of each entry, then of the whole policy.
        policy.preflight.withUnsafeBufferPointer { gates in
            for gate in gates.indices { PolicyKinds.checkedGate(gates[gate].kindType)?.check(entry: gates[gate], &self) }
        }
        policy.healthcheck.probes.withUnsafeBufferPointer { probes in
            for probe in probes.indices { PolicyKinds.checkedProbe(probes[probe].kindType)?.check(entry: probes[probe], &self) }
        }
        for kind in PolicyKinds.decodableGates { kind.checkPolicy(&self) }
        for rule in Self.rulesAfterKinds { rule.check(&self) }
    }

    /// Where an entry was written, as an origin.
    func origin(of source: EntrySource) -> Origin {
        source.mark.map { .policy($0) } ?? .defaulted
    }
}

/// A general lint rule that relates several values of a policy: its documentation (`rule`, its
/// code written there once) and its check, which appends its findings with their messages. One per
/// file in `Lint/Rules/`, listed in `CrossChecks.rules`.
protocol PolicyRule: Sendable {
    static var rule: Rule { get }
    static func check(_ checks: inout CrossChecks)
}

extension CrossChecks {
    /// The pair whose value starts at `mark`, with its mapping, when the document reaches it once:
    /// a pair reached twice (through an alias, or a merge) is shared, and an edit of it would
    /// change every place that uses it.
    func pair(withValueAt mark: Mark?) -> (pair: Pair, mapping: Node)? {
        guard let offset = mark?.offset else { return nil }
        return unshared(around: offset) { node in
            node.mapping.map { pairs in
                pairs.filter { $0.value.start.offset == offset && $0.key.end.offset <= offset }.map { ($0, node) }
            } ?? []
        }
    }

    /// The item of a sequence that holds `mark` and is a one-key mapping of `kind`, with its
    /// sequence, when the document reaches it once.
    func entry(_ kind: String, holding mark: Mark?) -> (item: Node, sequence: Node)? {
        guard let offset = mark?.offset else { return nil }
        return unshared(around: offset) { node in
            node.sequence.map { items in
                items.filter {
                    $0.start.offset <= offset && offset < $0.end.offset && $0.mapping?.count == 1 && $0[kind] != nil
                }.map { ($0, node) }
            } ?? []
        }
    }

    /// A fix that removes the pair whose value starts at `mark`.
    func removal(ofPairAt mark: Mark?, _ title: String, _ safety: Fix.Safety) -> [Fix] {
        guard let (pair, mapping) = pair(withValueAt: mark) else { return [] }
        return Fix.removing(pair, of: mapping, in: source, title, safety).map { [$0] } ?? []
    }

    /// The one thing `match` finds in the document's collections, when exactly one is found and
    /// no collection whose span holds `offset` is reached twice (an alias of it: its nodes are
    /// the anchor's, with the anchor's marks, wherever they are used). Each collection is walked
    /// once, however many aliases reach it.
    private func unshared<Found>(around offset: Int, _ match: (Node) -> [Found]) -> Found? {
        guard let root else { return nil }
        var seen: Set<[Int]> = [], shared = false
        var found: [Found] = []
        func walk(_ node: Node) {
            let pairs = node.mapping, items = node.sequence
            guard pairs != nil || items != nil else { return }
            let span = node.start.offset <= offset && offset <= node.end.offset
            guard seen.insert([node.start.offset, node.end.offset, pairs == nil ? 0 : 1]).inserted else {
                shared = shared || span
                return
            }
            found += match(node)
            if let pairs { for pair in pairs { walk(pair.value) } }
            if let items { for item in items { walk(item) } }
        }
        walk(root)
        return found.count == 1 && !shared ? found[0] : nil
    }
}
