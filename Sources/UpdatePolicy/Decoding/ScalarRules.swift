import JSONValue
import YAMLTree

/// Decodes one scalar against a scalar `ValueKind`, with the YAML 1.1 and quoting checks.
struct ScalarRules {
    var findings: [Finding]
    let timeZones: any TimeZoneDatabase
    /// The finding of each unknown zone name met so far in the file: its guess is a search of
    /// every zone name, and a policy that repeats a misspelt zone in a thousand gates is one
    /// search, not a thousand.
    var unknownZones: [String: Message] = [:]

    /// How a message names what a kind expects.
    static func expectation(_ kind: ValueKind) -> String {
        switch kind {
        case .string(let rule): rule.map { "text (\($0.description))" } ?? "text"
        case .url(let schemes): "a URL (" + schemes.joined(separator: ", ") + ")"
        case .path: "an absolute path"
        case .duration: "a duration like 30s"
        case .percentage: "a percentage like 10%"
        case .fraction: "a number from 0 to 1 like 0.25"
        case .integer(let min, let max): max.map { "a whole number from \(min) to \($0)" } ?? "a whole number ≥ \(min)"
        case .boolean: "true or false"
        case .choice(let words): "one of " + words.map { "`\($0)`" }.joined(separator: ", ")
        case .timeOfDay: "a time of day like \"02:30\""
        case .timeRange: "a window like \"22:00-04:00\""
        case .timeZone: "an IANA time zone like Europe/Berlin"
        case .days: "a list of days"
        case .command: "a command as a list (argv)"
        case .publicKey: "`ed25519:<base64>` or a key file's absolute path"
        case .hostPort: "an address like \"127.0.0.1:6443\""
        case .table(let table): "a mapping of \(table.name) settings"
        case .entries(let family): "a list of \(family.noun)s"
        case .tagged(let tagged): "a \(tagged.name) mapping"
        case .dictionary: "a mapping"
        case .list: "a list"
        case .timestamp: "a time like \"2026-01-05T02:00:00Z\""
        case .rate: "a rate like 2MiB/s"
        case .size: "a size like 4GiB"
        }
    }

    /// How a message names what was found.
    static func found(_ node: Node) -> String {
        guard let scalar = node.scalar else { return node.kindDescription }
        if scalar.isNull { return "nothing (null)" }
        let text = scalar.value.count > 60 ? String(scalar.value.prefix(57)) + "…" : scalar.value
        let shown = VisibleText.escape(text)
        switch scalar.style {
        case .plain: return "`\(shown)`"
        case .singleQuoted, .doubleQuoted: return "the quoted text \"\(shown)\""
        case .literal, .folded: return "a block of text"
        }
    }

    mutating func decode(_ scalar: Scalar, node: Node, kind: ValueKind, key: String) -> DecodedValue? {
        let text = scalar.value
        switch kind {
        case .string(let rule):
            if Self.boolean(scalar) != nil {
                add(.textIsBoolean(key, text), node)
                return nil
            }
            warnYAML11(scalar, node: node, key: key)
            if let rule, !rule.check(text) {
                let lowered = text.lowercased()
                add(
                    .notOfForm(
                        key, form: rule.description, found: Self.found(node),
                        lowercased: lowered != text && rule.check(lowered) ? lowered : nil), node)
                return nil
            }
            return .text(text)
        case .path:
            guard text.hasPrefix("/") else {
                add(.badPath(key, found: Self.found(node), empty: text.isEmpty), node)
                return nil
            }
            return .text(text)
        case .url(let schemes):
            switch PolicyURL.parse(text, schemes: schemes) {
            case .success(let url): return .url(url)
            case .failure(let problem):
                add(.badURL(key, problem, found: Self.found(node), schemes: schemes), node)
                return nil
            }
        case .duration:
            return duration(scalar, node: node, key: key).map { .duration($0) }
        case .percentage:
            return percentage(scalar, node: node, key: key).map { .percentage($0) }
        case .fraction:
            return fraction(scalar, node: node, key: key).map { .fraction($0) }
        case .integer(let min, let max):
            return integer(scalar, node: node, key: key, min: min, max: max).map { .integer($0) }
        case .boolean:
            if let value = Self.boolean(scalar) { return .boolean(value) }
            add(.notBoolean(key, found: Self.found(node), text: text, reading: YAML11.reading(of: scalar)), node)
            return nil
        case .choice(let words):
            if words.contains(text) {
                if scalar.style == .plain, let reading = YAML11.reading(of: scalar) {
                    warnYAML11Reading(reading, scalar: scalar, node: node, key: key)
                }
                return .text(text)
            }
            add(.notAChoice(key, words: words, found: Self.found(node), text: text, reading: YAML11.reading(of: scalar)), node)
            return nil
        case .timeOfDay:
            guard let time = TimeOfDay.parse(text) else {
                add(.badTimeOfDay(key, found: Self.found(node)), node)
                return nil
            }
            warnYAML11(scalar, node: node, key: key)
            return .time(time)
        case .timeRange:
            if text.isEmpty { return .timeRange(nil) }
            guard let range = TimeRange.parse(text) else {
                add(.badTimeRange(key, found: Self.found(node)), node)
                return nil
            }
            return .timeRange(range)
        case .timeZone:
            switch timeZones.isKnown(text) {
            case false?:
                let message = unknownZones[text] ?? .unknownTimeZone(text, among: timeZones.names())
                unknownZones[text] = message
                add(message, node)
                return nil
            default:
                return .text(text)
            }
        case .publicKey:
            if text.hasPrefix("ed25519:") {
                guard let key = Base64.decode(text.dropFirst(8)), key.count == 32 else {
                    add(.publicKeyNotEd25519, node)
                    return nil
                }
                if let problem = Ed25519Key.problem(key) {
                    add(.publicKeyRefused(problem), node)
                    return nil
                }
                return .publicKey(.ed25519(key))
            }
            guard text.hasPrefix("/") else {
                add(.publicKeyForm(found: Self.found(node)), node)
                return nil
            }
            return .publicKey(.file(text))
        case .hostPort:
            guard let address = HostPort.parse(text) else {
                add(.badAddress(key, found: Self.found(node)), node)
                return nil
            }
            return .address(address)
        case .timestamp:
            guard TimestampText.isValid(text) else {
                add(.notATimestamp(key, found: Self.found(node)), node)
                return nil
            }
            return .text(text)
        case .rate:
            guard let rate = RateText.parse(text) else {
                add(.notARate(key, found: Self.found(node)), node)
                return nil
            }
            return .rate(rate)
        case .size:
            guard let size = RateText.parseSize(text), size > 0 else {
                add(.notASize(key, found: Self.found(node)), node)
                return nil
            }
            return .size(size)
        case .table, .entries, .tagged, .days, .command, .dictionary, .list:
            return nil
        }
    }

    /// The boolean a plain `true` or `false` (in three spellings each) stands for. Every text value
    /// is asked, so the length and first byte rule most out before any comparison.
    private static func boolean(_ scalar: Scalar) -> Bool? {
        let text = scalar.value
        guard scalar.style == .plain, text.utf8.count == 4 || text.utf8.count == 5, let first = text.utf8.first,
            first | 0x20 == UInt8(ascii: "t") || first | 0x20 == UInt8(ascii: "f")
        else { return nil }
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }

    private mutating func add(_ message: Message, _ node: Node) {
        findings.append(Finding(message, at: node))
    }

    /// An explicit tag (`!!str 22:00`) settles the type for every YAML reader: no warning.
    private mutating func warnYAML11(_ scalar: Scalar, node: Node, key: String) {
        guard node.tag == nil, let reading = YAML11.reading(of: scalar) else { return }
        warnYAML11Reading(reading, scalar: scalar, node: node, key: key)
    }

    private mutating func warnYAML11Reading(_ reading: YAML11.Reading, scalar: Scalar, node: Node, key: String) {
        add(.readOtherwiseByYAML11(scalar.value, reading), node)
    }

    private mutating func duration(_ scalar: Scalar, node: Node, key: String) -> Duration? {
        let text = scalar.value
        if scalar.style != .plain, text.allSatisfy({ $0.isASCII && $0.isNumber }), !text.isEmpty {
            add(.quotedDuration(key, found: Self.found(node), digits: text), node)
            return nil
        }
        guard let value = DurationText.parse(text) else {
            var sexagesimal: Int?
            if let reading = YAML11.reading(of: scalar), case .sexagesimal(let seconds) = reading { sexagesimal = seconds }
            add(
                .badDuration(key, found: Self.found(node), text: text, sexagesimal: sexagesimal, guess: Self.guessDuration(text)),
                node)
            return nil
        }
        guard value <= DurationText.maximum else {
            add(.durationTooLong(key, text), node)
            return nil
        }
        // Every `timeout` bounds something: a command, a probe, a gate, a whole run.
        guard value > .zero || key != "timeout" else {
            add(.zeroTimeout(key, text), node)
            return nil
        }
        // A schedule of zero is a loop: the agent would ask the update server without pause, a
        // node's report would expire as it is written.
        guard value > .zero || !["check_every", "retry_every", "report_ttl"].contains(key) else {
            add(.zeroPeriod(key, text), node)
            return nil
        }
        return value
    }

    /// `30 seconds` → `30s`, `5 min` → `5m`, `10min` → `10m`, `1 day` → `24h`: a whole number and
    /// one unit in words. `M` alone is no guess (minutes, or months?).
    private static func guessDuration(_ text: String) -> String? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        let word = text.dropFirst(digits.count).drop { $0 == " " }
        guard !digits.isEmpty, digits.count <= 9, let number = Int(digits), !word.isEmpty, word != "M", !word.contains(" ")
        else { return nil }
        let unit: String
        switch word.lowercased() {
        case "ms", "msec", "msecs", "millisecond", "milliseconds": unit = "ms"
        case "s", "sec", "secs", "second", "seconds": unit = "s"
        case "m", "min", "mins", "minute", "minutes": unit = "m"
        case "h", "hr", "hrs", "hour", "hours": unit = "h"
        case "d", "day", "days": return "\(number * 24)h"
        default: return nil
        }
        return "\(number)\(unit)"
    }

    private mutating func percentage(_ scalar: Scalar, node: Node, key: String) -> Double? {
        var text = Substring(scalar.value)
        let hasPercent = text.hasSuffix("%")
        if hasPercent { text = text.dropLast() }
        if !hasPercent, scalar.style != .plain {
            add(.quotedPercentage(key, found: Self.found(node), text: scalar.value), node)
            return nil
        }
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
            text.filter({ $0 == "." }).count <= 1, text.first != ".", text.last != ".", let value = Double(text)
        else {
            add(.badPercentage(key, found: Self.found(node)), node)
            return nil
        }
        guard value <= 100 else {
            add(.percentageOver100(key, scalar.value), node)
            return nil
        }
        return value
    }

    /// A plain number from 0 to 1: `0`, `1`, `0.25`, `.5`.
    private mutating func fraction(_ scalar: Scalar, node: Node, key: String) -> Double? {
        let text = scalar.value
        let digits = text.utf8.drop { $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "+") }
        guard scalar.style == .plain, !digits.isEmpty, digits.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == 46 }),
            digits.filter({ $0 == 46 }).count <= 1, digits.contains(where: { $0 != 46 }), let value = Double(text)
        else {
            add(.notAFraction(key, found: Self.found(node)), node)
            return nil
        }
        guard value >= 0, value <= 1 else {
            add(.fractionOutOfRange(key, text), node)
            return nil
        }
        return value
    }

    private mutating func integer(_ scalar: Scalar, node: Node, key: String, min: Int, max: Int?) -> Int? {
        var text = scalar.value
        func isDigits<S: Sequence<UInt8>>(_ bytes: S) -> Bool { bytes.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } }
        // `3.0` is the whole number 3 to every YAML and JSON Schema reader; so it is here.
        if scalar.style == .plain, let dot = text.utf8.firstIndex(of: UInt8(ascii: ".")), dot > text.startIndex,
            text.utf8.index(after: dot) < text.endIndex, text.utf8[text.utf8.index(after: dot)...].allSatisfy({ $0 == UInt8(ascii: "0") }),
            isDigits(text.utf8[..<dot])
        {
            text = String(text[..<dot])
        }
        var range: String { max.map { "from \(min) to \($0)" } ?? "≥ \(min)" }
        let sign = text.utf8.first == UInt8(ascii: "-") || text.utf8.first == UInt8(ascii: "+")
        let digits = text.utf8.dropFirst(sign ? 1 : 0)
        let numeric = !digits.isEmpty && isDigits(digits)
        if scalar.style != .plain {
            add(.quotedNumber(key, found: Self.found(node), digits: numeric ? text : nil), node)
            return nil
        }
        if text == scalar.value, let reading = YAML11.reading(of: scalar) {
            if case .octal(let octal) = reading {
                add(.octalNumber(key, text, octal: octal), node)
                return nil
            }
            if !numeric {
                add(.numberReadOtherwise(key, text, reading: reading), node)
                return nil
            }
        }
        guard numeric, digits.count <= 18, let value = Int(text) else {
            add(.notWholeNumber(key, range: range, found: Self.found(node)), node)
            return nil
        }
        if value < min || max.map({ value > $0 }) == true {
            add(.outOfRange(key, value, range: range), node)
            return nil
        }
        return value
    }
}

extension YAML11.Reading {
    var booleanText: String? {
        if case .boolean(let value) = self { return value ? "true" : "false" }
        return nil
    }
}
