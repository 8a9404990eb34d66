import YAMLTree

/// Decodes one scalar against a scalar `ValueKind`, with the YAML 1.1 and quoting checks.
struct ScalarRules {
    var findings: [Finding]

    /// How a message names what a kind expects.
    static func expectation(_ kind: ValueKind) -> String {
        switch kind {
        case .string(let rule): rule.map { "text (\($0.description))" } ?? "text"
        case .url(let schemes): "a URL (" + schemes.joined(separator: ", ") + ")"
        case .path: "an absolute path"
        case .duration: "a duration like 30s"
        case .percentage: "a percentage like 10%"
        case .integer(let min, let max): max.map { "a whole number from \(min) to \($0)" } ?? "a whole number ≥ \(min)"
        case .boolean: "true or false"
        case .choice(let words): "one of " + words.map { "`\($0)`" }.joined(separator: ", ")
        case .timeOfDay: "a time of day like \"02:30\""
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
        }
    }

    /// How a message names what was found.
    static func found(_ node: Node) -> String {
        guard let scalar = node.scalar else { return node.kindDescription }
        if scalar.isNull { return "nothing (null)" }
        let text = scalar.value.count > 60 ? String(scalar.value.prefix(57)) + "…" : scalar.value
        let shown = text.replacingNewlines
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
            if scalar.style == .plain, ["true", "false", "True", "False", "TRUE", "FALSE"].contains(text) {
                add(.wrongType, "`\(key)` expects text, found the boolean `\(text)` (every YAML reader reads it as one)", node,
                    help: "quote it: `\"\(text)\"`")
                return nil
            }
            warnYAML11(scalar, node: node, key: key)
            if let rule, !rule.check(text) {
                add(.badValue, "`\(key)` must be \(rule.description); found \(Self.found(node))", node,
                    help: suggestionForRule(text, rule: rule))
                return nil
            }
            return .text(text)
        case .path:
            guard text.hasPrefix("/") else {
                add(.badPath, text.isEmpty ? "`\(key)` is empty" : "`\(key)` must be an absolute path, found \(Self.found(node))",
                    node, help: "paths start with `/`; updatectl runs from init, with no useful working directory")
                return nil
            }
            return .text(text)
        case .url(let schemes):
            switch PolicyURL.parse(text, schemes: schemes) {
            case .success(let url): return .url(url)
            case .failure(let problem):
                let allowed = schemes.map { "`\($0)`" }.joined(separator: ", ")
                let message: String
                switch problem {
                case .notAbsolute: message = "`\(key)` must be an absolute URL, found \(Self.found(node))"
                case .scheme(let scheme): message = "`\(key)` may not use the `\(scheme)` scheme; it takes \(allowed)"
                case .noHost: message = "the URL in `\(key)` has no host (or, for `file`, no absolute path)"
                case .whitespace: message = "the URL in `\(key)` contains white space"
                case .badPort: message = "the URL in `\(key)` has a port outside 1–65535"
                }
                add(.badURL, message, node, help: "write e.g. `\(schemes[0])://\(schemes[0] == "file" ? "/srv/updates" : "updates.example.com/os")`")
                return nil
            }
        case .duration:
            return duration(scalar, node: node, key: key).map { .duration($0) }
        case .percentage:
            return percentage(scalar, node: node, key: key).map { .percentage($0) }
        case .integer(let min, let max):
            return integer(scalar, node: node, key: key, min: min, max: max).map { .integer($0) }
        case .boolean:
            if scalar.style == .plain {
                switch text {
                case "true", "True", "TRUE": return .boolean(true)
                case "false", "False", "FALSE": return .boolean(false)
                default: break
                }
            }
            var help = "write `true` or `false`"
            if let reading = YAML11.reading(of: scalar) {
                help = "YAML 1.1 tools read `\(text)` as \(YAML11.describe(reading)) and YAML 1.2 tools as text; "
                    + "write `\(reading.booleanText ?? "true")`"
            }
            add(.wrongType, "`\(key)` expects true or false, found \(Self.found(node))", node, help: help)
            return nil
        case .choice(let words):
            if words.contains(text) {
                if scalar.style == .plain, let reading = YAML11.reading(of: scalar) {
                    warnYAML11Reading(reading, scalar: scalar, node: node, key: key)
                }
                return .text(text)
            }
            var message = "`\(key)` must be " + words.map { "`\($0)`" }.joined(separator: " or ") + ", found \(Self.found(node))"
            if let reading = YAML11.reading(of: scalar) {
                message += " (which YAML 1.1 tools read as \(YAML11.describe(reading)))"
            }
            add(.badValue, message, node, help: Suggestions.closest(to: text, in: words).map { "did you mean `\($0)`?" })
            return nil
        case .timeOfDay:
            guard let time = TimeOfDay.parse(text) else {
                add(.badTimeOfDay, "`\(key)` must be a time of day `HH:MM` from 00:00 to 23:59, found \(Self.found(node))",
                    node, help: "write e.g. `\"02:30\"`")
                return nil
            }
            warnYAML11(scalar, node: node, key: key)
            return .time(time)
        case .timeZone:
            switch TimeZones.isKnown(text) {
            case false?:
                let guess = Suggestions.closest(to: text, in: TimeZones.names())
                add(.badTimeZone, "`\(text)` is not an IANA time zone", node,
                    help: guess.map { "did you mean `\($0)`?" } ?? "write a name such as `Europe/Berlin` or `UTC`")
                return nil
            default:
                return .text(text)
            }
        case .publicKey:
            if text.hasPrefix("ed25519:") {
                guard let key = Base64.decode(text.dropFirst(8)), key.count == 32 else {
                    add(.badPublicKey, "`public_key` must hold the base64 of a 32-byte Ed25519 key after `ed25519:`", node,
                        help: "e.g. the output of `openssl pkey -pubin -outform DER | tail -c 32 | base64`")
                    return nil
                }
                return .publicKey(.ed25519(key))
            }
            guard text.hasPrefix("/") else {
                add(.badPublicKey, "`public_key` must be `ed25519:<base64>` or an absolute path, found \(Self.found(node))",
                    node, help: "write `ed25519:` followed by the base64 of the key, or the key file's absolute path")
                return nil
            }
            return .publicKey(.file(text))
        case .hostPort:
            guard let address = HostPort.parse(text) else {
                add(.badAddress, "`\(key)` must be `host:port` with a port from 1 to 65535, found \(Self.found(node))", node,
                    help: "write e.g. `\"127.0.0.1:6443\"` (`\"[::1]:6443\"` for IPv6)")
                return nil
            }
            return .address(address)
        case .timestamp:
            guard TimestampText.isValid(text) else {
                add(.badValue, "`\(key)` must be an RFC 3339 time like 2026-01-05T02:00:00Z, found \(Self.found(node))", node)
                return nil
            }
            return .text(text)
        case .rate:
            guard let rate = RateText.parse(text) else {
                add(.badValue, "`\(key)` must be a rate like 2MiB/s or 500kB/s, found \(Self.found(node))", node,
                    help: "a number, a unit (B, KiB, MiB, GiB, kB, MB, GB) and `/s`; `0` for no limit")
                return nil
            }
            return .rate(rate)
        case .table, .entries, .tagged, .days, .command, .dictionary, .list:
            return nil
        }
    }

    private mutating func add(_ rule: RuleID, _ message: String, _ node: Node, help: String? = nil) {
        findings.append(Finding(rule, message, at: node, help: help))
    }

    private func suggestionForRule(_ text: String, rule: StringRule) -> String? {
        let lowered = text.lowercased()
        if lowered != text, rule.check(lowered) { return "did you mean `\(lowered)`?" }
        return nil
    }

    private mutating func warnYAML11(_ scalar: Scalar, node: Node, key: String) {
        guard let reading = YAML11.reading(of: scalar) else { return }
        warnYAML11Reading(reading, scalar: scalar, node: node, key: key)
    }

    private mutating func warnYAML11Reading(_ reading: YAML11.Reading, scalar: Scalar, node: Node, key: String) {
        let rule: RuleID
        if case .boolean = reading { rule = .yaml11Boolean } else { rule = .yaml11Number }
        add(rule, "`\(scalar.value)` is read as text here, but YAML 1.1 tools (cloud-init's among them) read it as "
            + "\(YAML11.describe(reading))", node, help: "quote it: `\"\(scalar.value)\"`")
    }

    private mutating func duration(_ scalar: Scalar, node: Node, key: String) -> Duration? {
        let text = scalar.value
        if scalar.style != .plain, text.allSatisfy({ $0.isASCII && $0.isNumber }), !text.isEmpty {
            add(.badDuration, "`\(key)` expects a duration like 30s, found \(Self.found(node))", node,
                help: "quoted digits are text: write `\(text)` (seconds) or `\(text)s` without quotes")
            return nil
        }
        guard let value = DurationText.parse(text) else {
            var help = "write a number with a unit: `250ms`, `30s`, `5m`, `1h30m`"
            if text.hasPrefix("-") {
                help = "durations cannot be negative"
            } else if let reading = YAML11.reading(of: scalar), case .sexagesimal(let seconds) = reading {
                help = "YAML 1.1 tools read `\(text)` as \(seconds) (base 60); write `\(DurationText.format(.seconds(seconds)))`"
            } else if let guess = Self.guessDuration(text) {
                help = "did you mean `\(guess)`?"
            }
            add(.badDuration, "`\(key)` expects a duration like 30s, found \(Self.found(node))", node, help: help)
            return nil
        }
        guard value <= DurationText.maximum else {
            add(.outOfRange, "`\(key)` is \(text), longer than the maximum of 30 days", node)
            return nil
        }
        return value
    }

    /// `30 seconds` → `30s`, `5 min` → `5m`.
    private static func guessDuration(_ text: String) -> String? {
        let parts = text.lowercased().split(whereSeparator: { $0 == " " })
        guard parts.count == 2, let number = Int(parts[0]) else { return nil }
        let unit: String
        switch parts[1] {
        case "ms", "msec", "millisecond", "milliseconds": unit = "ms"
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
            add(.badPercentage, "`\(key)` expects a percentage like 10%, found \(Self.found(node))", node,
                help: "write `\(scalar.value)%` or `\(scalar.value)` without quotes")
            return nil
        }
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
            text.filter({ $0 == "." }).count <= 1, text.first != ".", text.last != ".", let value = Double(text)
        else {
            add(.badPercentage, "`\(key)` expects a percentage like 10%, found \(Self.found(node))", node,
                help: "write a number from 0 to 100, with or without `%`")
            return nil
        }
        guard value <= 100 else {
            add(.outOfRange, "`\(key)` is \(scalar.value), over 100%", node)
            return nil
        }
        return value
    }

    private mutating func integer(_ scalar: Scalar, node: Node, key: String, min: Int, max: Int?) -> Int? {
        var text = scalar.value
        // `3.0` is the whole number 3 to every YAML and JSON Schema reader; so it is here.
        if scalar.style == .plain, let dot = text.firstIndex(of: "."), text[text.index(after: dot)...].allSatisfy({ $0 == "0" }),
            text.index(after: dot) < text.endIndex, text[..<dot].allSatisfy({ $0.isASCII && $0.isNumber }), dot > text.startIndex
        {
            text = String(text[..<dot])
        }
        let range = max.map { "from \(min) to \($0)" } ?? "≥ \(min)"
        let digits = text.hasPrefix("-") || text.hasPrefix("+") ? text.dropFirst() : Substring(text)
        let numeric = !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
        if scalar.style != .plain {
            add(.wrongType, "`\(key)` expects a whole number, found \(Self.found(node))", node,
                help: numeric ? "quoted digits are text: write `\(text)` without quotes" : nil)
            return nil
        }
        if text == scalar.value, let reading = YAML11.reading(of: scalar) {
            if case .octal(let octal) = reading {
                add(.wrongType, "`\(key)`: `\(text)` has a leading zero, which YAML 1.1 tools read as octal \(octal) and "
                    + "YAML 1.2 tools as \(Int(text) ?? 0)", node, help: "write the number without leading zeros")
                return nil
            }
            if !numeric {
                add(.wrongType, "`\(key)` expects a whole number, found `\(text)`, which YAML 1.1 tools read as "
                    + YAML11.describe(reading), node)
                return nil
            }
        }
        guard numeric, digits.count <= 18, let value = Int(text) else {
            add(.wrongType, "`\(key)` expects a whole number \(range), found \(Self.found(node))", node)
            return nil
        }
        if value < min || max.map({ value > $0 }) == true {
            add(.outOfRange, "`\(key)` is \(value); it must be \(range)", node)
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

extension String {
    var replacingNewlines: String {
        var out = ""
        for character in self { out += character == "\n" ? "\\n" : String(character) }
        return out
    }
}
