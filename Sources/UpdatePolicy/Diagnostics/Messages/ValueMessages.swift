import YAMLTree

/// The messages of the value rules (UPD3xx), the value type errors among the structure rules,
/// and the YAML 1.1 reading warnings.
extension Message {
    // MARK: wrong-type (of a scalar)

    static func textIsBoolean(_ key: String, _ text: String) -> Message {
        Message(
            .wrongType, "`\(key)` expects text, found the boolean `\(text)` (every YAML reader reads it as one)",
            help: "quote it: `\"\(text)\"`", fix: .quote(text))
    }

    /// `reading`: how YAML 1.1 reads the text, when it reads it as something.
    static func notBoolean(_ key: String, found: String, text: String, reading: YAML11.Reading?) -> Message {
        let help =
            reading.map {
                "YAML 1.1 tools read `\(text)` as \(YAML11.describe($0)) and YAML 1.2 tools as text; write `\($0.booleanText ?? "true")`"
            } ?? "write `true` or `false`"
        return Message(
            .wrongType, "`\(key)` expects true or false, found \(found)", help: help,
            // PyYAML (cloud-init's) reads `y` and `n` as text, other YAML 1.1 readers as booleans:
            // which was meant is not certain.
            fix: reading?.booleanText.map { .value($0, ["y", "Y", "n", "N"].contains(text) ? .unsafe : .safe) })
    }

    /// `digits`: the text when it is digits (with a sign). Digits with a leading zero get no fix:
    /// without quotes YAML 1.1 tools read `010` as octal 8.
    static func quotedNumber(_ key: String, found: String, digits: String?) -> Message {
        let unsigned = digits.map { $0.drop { $0 == "-" || $0 == "+" } }
        if let digits, let unsigned, unsigned.count > 1, unsigned.hasPrefix("0") {
            return Message(
                .wrongType, "`\(key)` expects a whole number, found \(found)",
                help: "quoted digits are text: write the number without quotes and without leading zeros "
                    + "(YAML 1.1 tools read `\(digits)` as octal)")
        }
        return Message(
            .wrongType, "`\(key)` expects a whole number, found \(found)",
            help: digits.map { "quoted digits are text: write `\($0)` without quotes" },
            fix: digits.map { .yaml($0, "write `\($0)` without quotes") })
    }

    static func octalNumber(_ key: String, _ text: String, octal: Int) -> Message {
        Message(
            .wrongType,
            "`\(key)`: `\(text)` has a leading zero, which YAML 1.1 tools read as octal \(octal) and "
                + "YAML 1.2 tools as \(Int(text) ?? 0)", help: "write the number without leading zeros",
            // Either reading may have been meant: the fix picks one.
            fix: Int(text).map { .value(String($0), .unsafe) })
    }

    static func numberReadOtherwise(_ key: String, _ text: String, reading: YAML11.Reading) -> Message {
        Message(
            .wrongType,
            "`\(key)` expects a whole number, found `\(text)`, which YAML 1.1 tools read as "
                + YAML11.describe(reading))
    }

    static func notAFraction(_ key: String, found: String) -> Message {
        Message(.wrongType, "`\(key)` expects a number from 0 to 1 like 0.25, found \(found)")
    }

    static func notWholeNumber(_ key: String, range: String, found: String) -> Message {
        Message(.wrongType, "`\(key)` expects a whole number \(range), found \(found)")
    }

    // MARK: bad-value

    static func notOfForm(_ key: String, form: String, found: String, lowercased: String?) -> Message {
        Message(
            .badValue, "`\(key)` must be \(form); found \(found)", help: lowercased.map { "did you mean `\($0)`?" },
            fix: lowercased.map { .value($0) })
    }

    static func notAChoice(_ key: String, words: [String], found: String, text: String, reading: YAML11.Reading?) -> Message {
        var message = "`\(key)` must be " + words.map { "`\($0)`" }.joined(separator: " or ") + ", found \(found)"
        if let reading { message += " (which YAML 1.1 tools read as \(YAML11.describe(reading)))" }
        let guess = Suggestions.closest(to: text, in: words)
        return Message(.badValue, message, help: guess.map { "did you mean `\($0)`?" }, fix: .closest(guess, to: text, in: words))
    }

    static func notATimestamp(_ key: String, found: String) -> Message {
        Message(.badValue, "`\(key)` must be an RFC 3339 time like 2026-01-05T02:00:00Z, found \(found)")
    }

    static func notARate(_ key: String, found: String) -> Message {
        Message(
            .badValue, "`\(key)` must be a rate like 2MiB/s or 500kB/s, found \(found)",
            help: "a number, a unit (B, KiB, MiB, GiB, kB, MB, GB) and `/s`; `0` for no limit")
    }

    static func notASize(_ key: String, found: String) -> Message {
        Message(
            .badValue, "`\(key)` must be a size like 4GiB or 500MB, found \(found)",
            help: "a positive number and a unit (B, KiB, MiB, GiB, kB, MB, GB)")
    }

    // MARK: bad-path

    static func badPath(_ key: String, found: String, empty: Bool) -> Message {
        Message(
            .badPath, empty ? "`\(key)` is empty" : "`\(key)` must be an absolute path, found \(found)",
            help: "paths start with `/`; updatectl runs from init, with no useful working directory")
    }

    // MARK: bad-url

    static func badURL(_ key: String, _ problem: PolicyURL.Problem, found: String, schemes: [String]) -> Message {
        let message =
            switch problem {
            case .notAbsolute: "`\(key)` must be an absolute URL, found \(found)"
            case .scheme(let scheme):
                "`\(key)` may not use the `\(scheme)` scheme; it takes " + schemes.map { "`\($0)`" }.joined(separator: ", ")
            case .noHost: "the URL in `\(key)` has no host (or, for `file`, no absolute path)"
            case .whitespace: "the URL in `\(key)` contains white space"
            case .badPort: "the URL in `\(key)` has a port outside 1–65535"
            }
        return Message(
            .badURL, message,
            help: "write e.g. `\(schemes[0])://\(schemes[0] == "file" ? "/srv/updates" : "updates.example.com/os")`")
    }

    // MARK: bad-duration

    static func quotedDuration(_ key: String, found: String, digits: String) -> Message {
        Message(
            .badDuration, "`\(key)` expects a duration like 30s, found \(found)",
            help: "quoted digits are text: write `\(digits)` (seconds) or `\(digits)s` without quotes",
            fix: .yaml("\(digits)s", "write `\(digits)s` without quotes"))
    }

    /// `sexagesimal`: the seconds YAML 1.1 reads `h:m:s` text as; `guess`: `30s` for `30 seconds`.
    static func badDuration(_ key: String, found: String, text: String, sexagesimal: Int?, guess: String?) -> Message {
        let help =
            if text.hasPrefix("-") {
                "durations cannot be negative"
            } else if let sexagesimal {
                "YAML 1.1 tools read `\(text)` as \(sexagesimal) (base 60); write `\(DurationText.format(.seconds(sexagesimal)))`"
            } else if let guess {
                "did you mean `\(guess)`?"
            } else {
                "write a number with a unit: `250ms`, `30s`, `5m`, `1h30m`"
            }
        // Base 60 is YAML 1.1's reading; the author may have meant hours and minutes.
        let fix: FixProposal? =
            if text.hasPrefix("-") { nil } else if let sexagesimal {
                .value(DurationText.format(.seconds(sexagesimal)), .unsafe)
            } else {
                guess.map { .value($0) }
            }
        return Message(.badDuration, "`\(key)` expects a duration like 30s, found \(found)", help: help, fix: fix)
    }

    // MARK: bad-percentage

    static func quotedPercentage(_ key: String, found: String, text: String) -> Message {
        Message(
            .badPercentage, "`\(key)` expects a percentage like 10%, found \(found)",
            help: "write `\(text)%` or `\(text)` without quotes", fix: .value("\(text)%"))
    }

    static func badPercentage(_ key: String, found: String) -> Message {
        Message(
            .badPercentage, "`\(key)` expects a percentage like 10%, found \(found)",
            help: "write a number from 0 to 100, with or without `%`")
    }

    // MARK: out-of-range

    static func durationTooLong(_ key: String, _ text: String) -> Message {
        Message(.outOfRange, "`\(key)` is \(text), longer than the maximum of 30 days")
    }

    static func zeroPeriod(_ key: String, _ text: String) -> Message {
        Message(
            .outOfRange, "`\(key)` is \(text): a time between runs, or a report's lifetime, must be longer than zero",
            help: "leave the key out for its default, or give a period like 1h")
    }

    static func zeroTimeout(_ key: String, _ text: String) -> Message {
        Message(
            .outOfRange, "`\(key)` is \(text): a timeout must be longer than zero",
            help: "give the longest it may take, like 30s (0s would fail a command at once, or leave a request unbounded)")
    }

    static func percentageOver100(_ key: String, _ text: String) -> Message {
        Message(.outOfRange, "`\(key)` is \(text), over 100%")
    }

    static func fractionOutOfRange(_ key: String, _ text: String) -> Message {
        Message(.outOfRange, "`\(key)` is \(text); it must be from 0 to 1", help: "0 is the earliest, 1 the latest, 0.5 the middle")
    }

    static func outOfRange(_ key: String, _ value: Int, range: String) -> Message {
        Message(.outOfRange, "`\(key)` is \(value); it must be \(range)")
    }

    // MARK: bad-time-of-day, bad-time-zone, bad-day

    static func badTimeOfDay(_ key: String, found: String) -> Message {
        Message(
            .badTimeOfDay, "`\(key)` must be a time of day `HH:MM` from 00:00 to 23:59, found \(found)",
            help: "write e.g. `\"02:30\"`")
    }

    static func badTimeRange(_ key: String, found: String) -> Message {
        Message(
            .badTimeOfDay, "`\(key)` must be a window `HH:MM-HH:MM` (times from 00:00 to 23:59) or empty, found \(found)",
            help: "write e.g. `\"22:00-04:00\"`; an end before the start crosses midnight")
    }

    /// The guess is the zone `name` spells in other case (`utc`), else the closest by edit distance,
    /// unless its digits differ (`GMT+2` is not `GMT+0`). The fix is safe only when the name is the
    /// zone's in other case, or an `Area/Location` name without digits that is the guess with one
    /// letter left out or added or two adjacent letters swapped, and no other zone is as close
    /// (`Europe/Berln`, `Asia/Tomks`). Anything else may be a place of its own: an abbreviation's
    /// nearest name is another zone (`AEST` is not `EST`), and so is a city's that is no zone name
    /// (`America/Miami` is not `America/Lima`, `Indian/Male` not `Indian/Mahe`).
    static func unknownTimeZone(_ name: String, among names: [String]) -> Message {
        let lowered = name.lowercased()
        let sameName = names.first { $0.lowercased() == lowered }
        var guess = sameName ?? Suggestions.closest(to: name, in: names)
        func digits(_ text: String) -> String { String(text.unicodeScalars.filter { ("0"..."9").contains($0) }) }
        if let closest = guess, digits(closest) != digits(name) { guess = nil }
        let safe =
            sameName != nil
            || (guess.map { guess in
                Suggestions.isSimpleTypo(name, of: guess) && !names.contains { $0 != guess && Suggestions.isWithinOneEdit(name, of: $0) }
            } ?? false && name.contains("/") && digits(name).isEmpty)
        return Message(
            .badTimeZone, "`\(name)` is not an IANA time zone",
            help: guess.map { "did you mean `\($0)`?" } ?? "write a name such as `Europe/Berlin` or `UTC`",
            fix: guess.map { .value($0, safe ? .safe : .unsafe) })
    }

    /// `certain`: the guess is the day `text` starts with (`Tuesday`, `MON`), not merely the closest
    /// (`lun`, French Monday, is one letter from `sun`): only then is the fix safe.
    static func notADay(_ text: String, reading: YAML11.Reading?, guess: String?, certain: Bool) -> Message {
        var message = "`\(text)` is not a day of the week"
        if let reading { message += "; YAML 1.1 tools read it as \(YAML11.describe(reading))" }
        return Message(
            .badDay, message,
            help: guess.map { "did you mean `\($0)`? days are mon, tue, wed, thu, fri, sat, sun" }
                ?? "days are mon, tue, wed, thu, fri, sat, sun",
            fix: guess.map { .value($0, certain ? .safe : .unsafe) })
    }

    static let noDays = Message(
        .badDay, "the list of days is empty, so the window never opens",
        help: "list the days, or leave `days` out for every day")

    // MARK: bad-public-key

    static let publicKeyNotEd25519 = Message(
        .badPublicKey, "`public_key` must hold the base64 of a 32-byte Ed25519 key after `ed25519:`",
        help: "e.g. the output of `openssl pkey -pubin -outform DER | tail -c 32 | base64`")

    static func publicKeyForm(found: String) -> Message {
        Message(
            .badPublicKey, "`public_key` must be `ed25519:<base64>` or an absolute path, found \(found)",
            help: "write `ed25519:` followed by the base64 of the key, or the key file's absolute path")
    }

    static func publicKeyRefused(_ problem: Ed25519Key.Problem) -> Message {
        Message(
            .badPublicKey, "`public_key` is refused: \(problem)",
            help: "use the public key of the signing key pair the releases are signed with")
    }

    static let noPublicKeys = Message(
        .badPublicKey, "`public_key` is an empty list", help: "list at least one key, or leave `public_key` out")

    // MARK: bad-address

    static func badAddress(_ key: String, found: String) -> Message {
        Message(
            .badAddress, "`\(key)` must be `host:port` with a port from 1 to 65535, found \(found)",
            help: "write e.g. `\"127.0.0.1:6443\"` (`\"[::1]:6443\"` for IPv6)")
    }

    // MARK: bad-command

    static let emptyCommand = Message(
        .badCommand, "the command is empty",
        help: "write the program's absolute path and its arguments")

    static func programNotAbsolute(_ program: String) -> Message {
        Message(
            .badCommand, program.isEmpty ? "the program is empty" : "the program `\(program)` is not an absolute path",
            help: "commands run without a search path: write e.g. `/usr/bin/\(program.isEmpty ? "true" : program)`",
            // /usr/bin is a guess: the program may live in /usr/sbin or elsewhere.
            fix: program.isEmpty || program.contains("/") ? nil : .value("/usr/bin/\(program)", .unsafe))
    }

    // MARK: unknown-variable

    static func unknownVariable(_ name: String, guess: String?, known: String) -> Message {
        Message(
            .unknownVariable, "unknown variable `${\(name)}`",
            help: (guess.map { "did you mean `${\($0)}`? " } ?? "") + "the variables here are \(known)")
    }

    static func badVariableSyntax(_ problem: CommandTemplate.Problem, known: String) -> Message {
        let message =
            switch problem {
            case .unclosed: "`${` is not closed by `}`"
            case .empty: "`${}` names no variable"
            }
        return Message(.unknownVariable, message, help: "the variables here are \(known); `$${` writes a literal `${`")
    }

    // MARK: yaml11-boolean, yaml11-number

    static func readOtherwiseByYAML11(_ text: String, _ reading: YAML11.Reading) -> Message {
        let rule: RuleID = if case .boolean = reading { .yaml11Boolean } else { .yaml11Number }
        return Message(
            rule,
            "`\(text)` is read as text here, but YAML 1.1 tools (cloud-init's among them) read it as "
                + "\(YAML11.describe(reading))", help: "quote it: `\"\(text)\"`", fix: .quote(text))
    }
}
