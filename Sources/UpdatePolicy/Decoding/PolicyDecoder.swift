import YAMLTree

/// Walks the YAML tree against the key tables and collects every finding in one pass.
///
/// A wrong value gets one finding and is left out of the result, so nothing downstream reports
/// the same mistake again.
struct PolicyDecoder {
    var findings: [Finding] = []
    let timeZones: any TimeZoneDatabase
    /// `ScalarRules.unknownZones`, kept from scalar to scalar.
    var unknownZones: [String: Message] = [:]
    /// Set while the items of a list of commands are all scalars: each may be a command of one
    /// word or an argument of one command, so none is rewritten as a list.
    var commandsMayBeOneArgv = false

    // MARK: Tables

    mutating func decodeTable(_ node: Node, _ table: Table, place: String) -> DecodedMapping {
        var result = DecodedMapping(node: node)
        if node.scalar?.isNull == true { return result }
        guard let pairs = node.mapping else {
            wrongType(node, expected: "a mapping of \(place) settings")
            return result
        }
        result.fields.reserveCapacity(pairs.count)
        let all = merged(pairs)
        for pair in all {
            guard let keyText = keyName(pair.key) else { continue }
            guard let index = table.index(of: keyText) else {
                // A misspelt key stands for the key it was taken for: given, but not decoded, so
                // nothing reports that key missing as well.
                if let guess = unknownKey(pair.key, keyText, in: table, place: place, beside: all),
                    !result.fields.contains(guess)
                {
                    result.invalid[guess] = pair.key.start
                }
                continue
            }
            let name = table.names[index]
            if let value = decodeValue(pair.value, table.kinds[index], key: name, place: place) {
                result.fields[name] = DecodedField(value: value, node: pair.value)
                result.invalid[name] = nil
            } else {
                result.invalid[name] = pair.value.start
            }
        }
        return result
    }

    /// A mapping's pairs with YAML merge keys expanded, as cloud-init (PyYAML) and editors read
    /// them: `<<: *base` (or a list of aliases) adds the keys of those mappings that the mapping
    /// does not write itself; among several sources the first wins.
    mutating func merged(_ pairs: PairList) -> MergedPairs {
        guard pairs.contains(where: { Self.isMergeKey($0.key) }) else { return .written(pairs) }
        var out = pairs.filter { !Self.isMergeKey($0.key) }
        var written = Set(out.compactMap { $0.key.scalar?.value })
        for pair in pairs where Self.isMergeKey(pair.key) {
            let sources = pair.value.mapping.map { _ in [pair.value] } ?? pair.value.sequence.map(Array.init) ?? []
            guard !sources.isEmpty, sources.allSatisfy({ $0.mapping != nil }) else {
                findings.append(Finding(.mergeKeyNotMapping(ScalarRules.found(pair.value)), at: pair.value))
                continue
            }
            for source in sources {
                guard let inheritedPairs = source.mapping else { continue }
                for inherited in merged(inheritedPairs) {
                    guard let name = inherited.key.scalar?.value, written.insert(name).inserted else { continue }
                    out.append(inherited)
                }
            }
        }
        return .expanded(out)
    }

    static func isMergeKey(_ key: Node) -> Bool {
        key.isScalar("<<") && key.scalar?.style == .plain
    }

    /// Reports required keys of `table` that `mapping` lacks, at `anchor`. True when none are missing.
    mutating func checkRequired(_ mapping: DecodedMapping, _ table: Table, place: String, anchor: Node) -> Bool {
        var complete = true
        for index in table.required where !mapping.fields.contains(table.names[index]) {
            complete = false
            if mapping.invalid.contains(table.names[index]) { continue }
            let key = table.keys[index]
            findings.append(Finding(.missingOption(key.name, summary: key.summary, in: place), at: anchor))
        }
        return complete
    }

    private mutating func keyName(_ key: Node) -> String? {
        guard let scalar = key.scalar, !scalar.isNull || scalar.style != .plain else {
            findings.append(Finding(.keyNotAName(key.kindDescription), at: key))
            return nil
        }
        return scalar.value
    }

    /// Reports an unknown key; the key it was probably meant to be, if any. No fix when that key
    /// is already one of the mapping's `pairs`: the rename would write it twice.
    @discardableResult
    private mutating func unknownKey(
        _ keyNode: Node, _ name: String, in table: Table, place: String, beside pairs: some Sequence<Pair>
    ) -> String? {
        let guess = Suggestions.closest(to: name, in: table.keys.map(\.name))
        let atTop = guess == nil && table.name == PolicySchema.updates.name
        var finding = Finding(
            .unknownKey(
                name, in: place, guess: guess, isGate: atTop && PolicySchema.gates.contains { $0.name == name },
                isHealthcheckKey: atTop && PolicySchema.healthcheck.key(name) != nil, keys: table.keys.map(\.name)), at: keyNode)
        if let guess, pairs.contains(where: { $0.key.scalar?.value == guess }) { finding.fixes = [] }
        findings.append(finding)
        return guess
    }

    // MARK: Values

    mutating func decodeValue(_ node: Node, _ kind: ValueKind, key: String, place: String) -> DecodedValue? {
        switch kind {
        case .table(let table):
            return .mapping(decodeTable(node, table, place: table.name))
        case .entries(let family):
            return decodeEntries(node, family).map { .entries($0) }
        case .tagged(let tagged):
            return decodeTagged(node, tagged).map { .mapping($0) }
        case .days:
            return decodeDays(node).map { .days($0) }
        case .command(let variables):
            return decodeCommand(node, variables: variables).map { .command($0) }
        case .dictionary(let valueKind):
            if node.scalar?.isNull == true { return .dictionary([]) }
            guard let pairs = node.mapping else {
                wrongType(node, expected: "a mapping")
                return nil
            }
            var out: [(key: String, keyNode: Node, value: DecodedValue)] = []
            for pair in merged(pairs) {
                guard let name = keyName(pair.key) else { continue }
                if let value = decodeValue(pair.value, valueKind, key: name, place: place) {
                    out.append((name, pair.key, value))
                }
            }
            return .dictionary(out)
        case .publicKey where node.sequence != nil:
            // A list of keys, any one of which verifies (a rotation).
            guard let items = node.sequence, !items.isEmpty else {
                findings.append(Finding(.noPublicKeys, at: node))
                return nil
            }
            var keys: [PublicKeySpec] = []
            for item in items {
                if case .publicKey(let key)? = decodeValue(item, .publicKey, key: key, place: place) { keys.append(key) }
            }
            return keys.count == items.count ? .publicKey(.any(keys)) : nil
        case .list(let itemKind):
            guard let items = node.sequence else {
                wrongType(node, expected: "a list")
                return nil
            }
            var out: [DecodedValue] = []
            var ok = true
            // `[/usr/bin/drain, /run/drain.lock]` may be one command or two: a person must decide.
            let saved = commandsMayBeOneArgv
            if case .command = itemKind { commandsMayBeOneArgv = items.count > 1 && items.allSatisfy { $0.scalar != nil } }
            defer { commandsMayBeOneArgv = saved }
            for item in items {
                if let value = decodeValue(item, itemKind, key: key, place: place) { out.append(value) } else { ok = false }
            }
            return ok ? .list(out) : nil
        default:
            guard let scalar = scalar(node, expected: ScalarRules.expectation(kind)) else { return nil }
            // Hand the findings over and back, so appending never copies the whole array.
            var rules = ScalarRules(findings: findings, timeZones: timeZones, unknownZones: unknownZones)
            findings = []
            unknownZones = [:]
            defer {
                findings = rules.findings
                unknownZones = rules.unknownZones
            }
            return rules.decode(scalar, node: node, kind: kind, key: key)
        }
    }

    /// The scalar of `node`, or a wrong-type finding.
    private mutating func scalar(_ node: Node, expected: @autoclosure () -> String) -> Scalar? {
        if !node.isNull, let scalar = node.scalar { return scalar }
        wrongType(node, expected: expected())
        return nil
    }

    mutating func wrongType(_ node: Node, expected: String, help: String? = nil) {
        findings.append(Finding(.wrongType(expected: expected, found: ScalarRules.found(node), help: help), at: node))
    }

    private mutating func decodeDays(_ node: Node) -> [Weekday]? {
        guard let items = node.sequence else {
            wrongType(node, expected: "a list of days such as [mon, tue]")
            return nil
        }
        var days: [Weekday] = []
        var ok = true
        for item in items {
            guard let scalar = scalar(item, expected: "a day such as mon") else {
                ok = false
                continue
            }
            if let day = Weekday(rawValue: scalar.value) {
                if !days.contains(day) { days.append(day) }
                continue
            }
            ok = false
            let lowered = String(scalar.value.lowercased().prefix(3))
            let prefix = Weekday(rawValue: lowered)?.rawValue
            let guess = prefix ?? Suggestions.closest(to: scalar.value, in: Weekday.allCases.map(\.rawValue))
            findings.append(
                Finding(.notADay(scalar.value, reading: YAML11.reading(of: scalar), guess: guess, certain: prefix != nil), at: item))
        }
        if ok, days.isEmpty {
            findings.append(Finding(.noDays, at: node))
            return nil
        }
        return ok ? days : nil
    }

    private mutating func decodeCommand(_ node: Node, variables: [String]) -> [String]? {
        guard let items = node.sequence else {
            // Words between spaces and tabs, as a shell would split them (the help and the fix show them).
            let words = node.scalar.flatMap { scalar in
                let words = scalar.value.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                return words.isEmpty ? nil : words
            }
            var finding = Finding(.commandNotList(found: ScalarRules.found(node), words: words), at: node)
            if commandsMayBeOneArgv { finding.fixes = [] }
            findings.append(finding)
            return nil
        }
        var argv: [String] = []
        argv.reserveCapacity(items.count)
        var ok = true
        for item in items {
            guard let scalar = scalar(item, expected: "a command argument") else {
                ok = false
                continue
            }
            if !CommandTemplate.check(scalar, node: item, variables: variables, findings: &findings) { ok = false }
            argv.append(scalar.value)
        }
        guard let program = argv.first, let first = items.first else {
            if ok {
                findings.append(Finding(.emptyCommand, at: node))
            }
            return nil
        }
        if !program.hasPrefix("/") && !program.hasPrefix("${") {
            findings.append(Finding(.programNotAbsolute(program), at: first))
            ok = false
        }
        return ok ? argv : nil
    }

    // MARK: Entries

    private mutating func decodeEntries(_ node: Node, _ family: EntryFamily) -> [DecodedEntry]? {
        guard let items = node.sequence else {
            wrongType(node, expected: "a list of \(family.noun)s such as `- \(family.kinds[0].name): {…}`")
            return nil
        }
        var entries: [DecodedEntry] = []
        entries.reserveCapacity(items.count)
        for item in items {
            if let entry = decodeEntry(item, family) { entries.append(entry) }
        }
        return entries
    }

    /// Options written beside an entry's kind with nothing after `KIND:` (`- tcp:` over
    /// `  address: …`), each on a line of its own: two more spaces before each make them the kind's
    /// mapping, what the author meant. Nil for other shapes (a flow entry, a kind with a value,
    /// an option whose value spans lines), which need a person.
    static func indentingOptions(of pairs: PairList, kind: String) -> Fix? {
        guard let first = pairs.first, first.value.isNull, first.value.start.offset == first.value.end.offset else { return nil }
        let column = first.key.start.column
        var edits: [Fix.Edit] = []
        for pair in pairs.dropFirst() {
            guard pair.key.start.column == column, pair.key.start.line > first.key.start.line,
                pair.value.end.line == pair.key.start.line
            else { return nil }
            edits.append(Fix.Edit(start: pair.key.start.offset, end: pair.key.start.offset, text: "  "))
        }
        return Fix("indent the options under `\(kind):`", .safe, edits: edits)
    }

    private mutating func decodeEntry(_ item: Node, _ family: EntryFamily) -> DecodedEntry? {
        guard let pairs = item.mapping, let pair = pairs.first else {
            let named = item.scalar.map(\.value).flatMap { family.kind($0) != nil ? $0 : nil }
            findings.append(
                Finding(
                    .entryNotMapping(
                        family.noun, found: ScalarRules.found(item), named: named,
                        firstKind: family.kinds[0].name), at: item))
            return nil
        }
        guard let kindName = keyName(pair.key) else { return nil }
        guard let kind = family.kind(kindName) else {
            findings.append(Finding(.unknownKind(kindName, family: family), at: pair.key))
            return nil
        }
        if pairs.count > 1 {
            let extra = pairs.dropFirst().compactMap { $0.key.scalar?.value }
            let options = extra.filter { kind.table.key($0) != nil }
            var finding = Finding(.entryWithExtraKeys(family.noun, kind: kindName, extra: extra, options: options), at: pairs[1].key)
            if options.count == pairs.count - 1, let fix = Self.indentingOptions(of: pairs, kind: kindName) { finding.fixes = [fix] }
            findings.append(finding)
        }
        let place = kind.table.place
        var options: DecodedMapping
        if let scalar = pair.value.scalar, !scalar.isNull, let scalarKey = kind.scalarKey, let key = kind.table.key(scalarKey) {
            options = DecodedMapping(node: pair.value)
            if let value = decodeValue(pair.value, key.kind, key: scalarKey, place: place) {
                options.fields[scalarKey] = DecodedField(value: value, node: pair.value)
            } else {
                options.invalid[scalarKey] = pair.value.start
            }
        } else {
            if pair.value.scalar?.isNull == false {
                let shape = kind.scalarKey.map { " or a single value for `\($0)`" } ?? ""
                wrongType(pair.value, expected: "a mapping of \(kindName) options\(shape)")
                return nil
            }
            options = decodeTable(pair.value, kind.table, place: place)
        }
        let complete = checkRequired(options, kind.table, place: place, anchor: pair.key)
        return DecodedEntry(kind: kind, node: item, kindNode: pair.key, options: options, incomplete: !complete)
    }

    // MARK: Tagged

    private mutating func decodeTagged(_ node: Node, _ tagged: TaggedTable) -> DecodedMapping? {
        if node.scalar?.isNull == true { return DecodedMapping(node: node) }
        guard let pairs = node.mapping else {
            wrongType(node, expected: "a mapping with `\(tagged.tagKey):` and its options")
            return nil
        }
        var tag = tagged.defaultTag
        if let typeNode = node[tagged.tagKey] {
            let tags = tagged.variants.map(\.tag)
            guard case .text(let text)? = decodeValue(typeNode, .choice(tags), key: tagged.tagKey, place: tagged.name) else {
                return nil
            }
            tag = text
        }
        guard let table = tagged.table(for: tag) else { return nil }
        var result = DecodedMapping(node: node)
        for pair in pairs {
            guard let keyText = keyName(pair.key) else { continue }
            guard let key = table.key(keyText) else {
                if let other = tagged.variants.first(where: { $0.tag != tag && $0.table.key(keyText) != nil }) {
                    findings.append(Finding(.optionOfOtherVariant(keyText, variant: other.tag, not: tag), at: pair.key))
                } else {
                    unknownKey(pair.key, keyText, in: table, place: table.place, beside: pairs)
                }
                continue
            }
            if let value = decodeValue(pair.value, key.kind, key: key.name, place: table.name) {
                result.fields[key.name] = DecodedField(value: value, node: pair.value)
            } else {
                result.invalid[key.name] = pair.value.start
            }
        }
        _ = checkRequired(result, table, place: table.place, anchor: node)
        return result
    }
}

extension String {
    var lowercasedFirst: String {
        guard let first else { return self }
        return first.lowercased() + dropFirst()
    }
}

/// A mapping's pairs as written, or with merge keys expanded.
enum MergedPairs: RandomAccessCollection {
    case written(PairList)
    case expanded([Pair])

    var startIndex: Int { 0 }
    var endIndex: Int {
        switch self {
        case .written(let pairs): return pairs.count
        case .expanded(let pairs): return pairs.count
        }
    }

    subscript(position: Int) -> Pair {
        switch self {
        case .written(let pairs): return pairs[position]
        case .expanded(let pairs): return pairs[position]
        }
    }
}
