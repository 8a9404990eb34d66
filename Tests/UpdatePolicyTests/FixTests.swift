import Foundation
import FuzzHarness
import Testing
import UpdatePolicy
import YAMLTree

/// `lint --fix` fixture by fixture: `Fixtures/fixes/CODE[-case][.unsafe].before.yaml` (or `.conf`)
/// becomes its `.after` file byte for byte with the fixes of that safety, the result has no
/// finding of the rule left, and fixing it again changes nothing.
@Suite struct FixFixtureTests {
    static let directory = MarkedFixture.directory.appendingPathComponent("fixes")

    /// The `before` files, by name.
    static let fixtures: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
        .filter { $0.contains(".before.") }.sorted()

    /// The rule a fixture is about: its name up to the first `-` or `.`.
    static func rule(of name: String) -> String { String(name.prefix { $0 != "-" && $0 != "." }) }
    static func safety(of name: String) -> Fix.Safety { name.contains(".unsafe.before.") ? .unsafe : .safe }

    static func lint(_ bytes: [UInt8], _ name: String) -> LintResult {
        PolicyLinter.lint(bytes, path: name, options: .tests)
    }

    static func read(_ name: String) throws -> [UInt8] {
        try Array(Data(contentsOf: directory.appendingPathComponent(name)))
    }

    /// `UPDATE_SNAPSHOTS=1 swift test` writes the `after` files, to be read before they are committed.
    @Test(arguments: fixtures)
    func theFixesMakeTheAfterFile(name: String) throws {
        let rule = Self.rule(of: name), safety = Self.safety(of: name)
        let before = try Self.read(name)
        let findings = Self.lint(before, name).findings
        #expect(
            findings.contains { $0.rule.rawValue == rule && $0.fixes.contains { $0.safety == safety } },
            "no \(rule) finding with a \(safety) fix: \(findings.map { "\($0.rule)@\($0.start): \($0.message)" })")
        let outcome = Fixer.fix(before, safety: safety) { Self.lint($0, name) }
        #expect(outcome.refused == 0)
        let afterName = name.replacingOccurrences(of: ".before.", with: ".after.")
        if ProcessInfo.processInfo.environment["UPDATE_SNAPSHOTS"] == "1" {
            try Data(outcome.source).write(to: Self.directory.appendingPathComponent(afterName))
        }
        let after = try Self.read(afterName)
        #expect(outcome.source == after, "got:\n\(String(decoding: outcome.source, as: UTF8.self))")
        let left = Self.lint(after, afterName).findings
        #expect(!left.contains { $0.rule.rawValue == rule }, "\(left.map { "\($0.rule)@\($0.start): \($0.message)" })")
        if findings.allSatisfy({ $0.rule.rawValue == rule }) {
            #expect(left.isEmpty, "\(left.map { "\($0.rule)@\($0.start): \($0.message)" })")
        }
        let again = Fixer.fix(after, safety: safety) { Self.lint($0, afterName) }
        #expect(!again.changed && again.source == after, "fixing again changes the file")
    }

    /// Every rule that declares fixes shows them in a fixture: a safe one where it may offer safe
    /// fixes, an unsafe one where it offers only unsafe ones.
    @Test func everyRuleDeclaringFixesHasAFixture() {
        for rule in Rules.all where rule.fixes != .none {
            let own = Self.fixtures.filter { Self.rule(of: $0) == rule.id.rawValue }
            let safeties = Set(own.map(Self.safety(of:)))
            switch rule.fixes {
            case .none: break
            case .safe, .safeOrUnsafe: #expect(safeties.contains(.safe), "\(rule.id) has no safe fix fixture")
            case .unsafe: #expect(safeties.contains(.unsafe), "\(rule.id) has no unsafe fix fixture")
            }
        }
    }
}

/// What every finding's fixes must be, in every file the tests have: of a safety the rule
/// declares, with edits inside the file that do not overlap.
@Suite struct FixConsistencyTests {
    static let fuzz = FuzzCorpusTests.files("seeds") + FuzzCorpusTests.files("crashes")

    static func sources() throws -> [(name: String, bytes: [UInt8])] {
        var out: [(String, [UInt8])] = []
        for name in FixFixtureTests.fixtures {
            out.append((name, try FixFixtureTests.read(name)))
            let after = name.replacingOccurrences(of: ".before.", with: ".after.")
            out.append((after, try FixFixtureTests.read(after)))
        }
        let rules = try FileManager.default.contentsOfDirectory(atPath: MarkedFixture.directory.appendingPathComponent("rules").path)
        for name in rules.sorted() { out.append((name, try MarkedFixture(path: "rules/\(name)").source)) }
        for name in fuzz {
            out.append((name, try Array(Data(contentsOf: FuzzCorpusTests.directory.appendingPathComponent(name)))))
        }
        return out
    }

    @Test func everyFixIsDeclaredByItsRuleAndStaysInsideTheFile() throws {
        for (name, bytes) in try Self.sources() {
            for finding in PolicyLinter.lint(bytes, path: name, options: .tests).findings {
                for fix in finding.fixes {
                    #expect(
                        Rules.rule(finding.rule).fixes.allows(fix.safety),
                        "\(name): \(finding.rule) declares \(Rules.rule(finding.rule).fixes) but offers a \(fix.safety) fix")
                    #expect(FixCheck.editsFit(fix.edits, in: bytes.count), "\(name): \(finding.rule)'s edits \(fix.edits)")
                }
            }
        }
    }
}

/// The policies and examples updatectl ships have nothing left to fix.
@Suite struct ShippedFilesFixTests {
    static let files: [String] = {
        let root = ShippedPolicyTests.root
        var out: [String] = []
        for folder in ["policies", "examples"] {
            let enumerator = FileManager.default.enumerator(atPath: root.appendingPathComponent(folder).path)
            while let path = enumerator?.nextObject() as? String {
                if path.hasSuffix(".yaml") || path.hasSuffix(".conf") { out.append("\(folder)/\(path)") }
            }
        }
        return out.sorted()
    }()

    @Test func thereAreShippedPolicies() { #expect(Self.files.count >= 5) }

    /// The check below sees a fix where there is one (so a shipped file passing it means something).
    @Test func theCheckSeesAFix() {
        let bytes = Array("updates:\n  server: https://u.example.com\n  chanel: stable\n".utf8)
        #expect(PolicyLinter.lint(bytes, path: "p.yaml", options: .tests).findings.contains { !$0.fixes.isEmpty })
        #expect(Fixer.fix(bytes, safety: .unsafe) { PolicyLinter.lint($0, path: "p.yaml", options: .tests) }.changed)
    }

    @Test(arguments: files)
    func shippedFilesHaveNothingToFix(path: String) throws {
        let bytes = try Array(Data(contentsOf: ShippedPolicyTests.root.appendingPathComponent(path)))
        let result = PolicyLinter.lint(bytes, path: path, options: .tests)
        guard !result.notAPolicy else { return }
        #expect(!result.findings.contains { !$0.fixes.isEmpty }, "\(result.findings.map { "\($0.rule)@\($0.start)" })")
        let outcome = Fixer.fix(bytes, safety: .unsafe) { PolicyLinter.lint($0, path: path, options: .tests) }
        #expect(!outcome.changed && outcome.source == bytes)
    }
}

/// Fixing any input of the fuzz corpus keeps every byte outside the edits, and a file that
/// could be read still can (the fixes that would break it are left out).
@Suite struct FixPropertyTests {
    @Test(arguments: FixConsistencyTests.fuzz)
    func fixesKeepTheFileReadableAndTouchOnlyTheirBytes(name: String) throws {
        let bytes = try Array(Data(contentsOf: FuzzCorpusTests.directory.appendingPathComponent(name)))
        for safety in Fix.Safety.allCases {
            #expect(FixCheck.violation(fixing: bytes, safety: safety, options: .tests) == nil, "\(name), \(safety)")
        }
    }
}

/// Where an edit would have to guess at the file's layout, or would change a place the finding
/// is not about, no fix is offered; the same policy written plainly has one.
@Suite struct FixRefusalTests {
    static let head = "updates:\n  server: https://u.example.com\n  public_key: ed25519:Hn1+J4gUuOPxSNmoJfiFmdZ3Rvb4vnwYrH7s+dqvFiU=\n"

    struct Case: CustomStringConvertible, Sendable {
        var rule: RuleID
        /// Has no fix for the rule's finding.
        var refused: String
        /// The same written plainly: has one.
        var offered: String
        var description: String { "\(rule): \(refused)" }
    }

    static let cases = [
        // Options shared through an alias: removing the key would change the other gate too.
        Case(
            rule: .fleetLockUnusedKey,
            refused: "lock: &lock {engine: fleetlock, url: \"https://a.example.com\", slots: 2}\n" + head
                + "  preflight:\n    - free_space: {}\n    - fleet_lock: *lock\n",
            offered: head + "  preflight:\n    - free_space: {}\n"
                + "    - fleet_lock: {engine: fleetlock, url: \"https://a.example.com\", slots: 2}\n"),
        // A flow mapping across lines: no comma beside the pair on its line.
        Case(
            rule: .fleetLockUnusedKey,
            refused: head + "  preflight:\n    - free_space: {}\n"
                + "    - fleet_lock: {engine: fleetlock, url: \"https://a.example.com\",\n        slots: 2\n      }\n",
            offered: head + "  preflight:\n    - free_space: {}\n"
                + "    - fleet_lock: {engine: fleetlock, url: \"https://a.example.com\",\n        slots: 2, group: g}\n"),
        // The entry is an alias: its marks are the anchor's, in another list.
        Case(
            rule: .downgradesAllowed,
            refused: "defs: [&nd {no_downgrade: false}, x]\n" + head + "  preflight: [{free_space: {}}, *nd]\n",
            offered: head + "  preflight: [{free_space: {}}, {no_downgrade: false}]\n"),
        // The list's only item: removing it would leave `preflight:` empty.
        Case(
            rule: .downgradesAllowed, refused: head + "  preflight:\n    - no_downgrade: false\n",
            offered: head + "  preflight:\n    - free_space: {}\n    - no_downgrade: false\n"),
        // The gates come through an alias: a gate added there would be added wherever it is used.
        Case(
            rule: .noFreeSpaceGate, refused: "gates: &gates\n  - node_not_blocked: {}\n" + head + "  preflight: *gates\n",
            offered: head + "  preflight:\n    - node_not_blocked: {}\n"),
        // A tag stays before the new text: `!!str [...]` is an error to YAML readers.
        Case(
            rule: .wrongType,
            refused: head + "  preflight:\n    - free_space: {}\n    - exec: {command: !!str /usr/bin/systemctl is-active kubelet}\n",
            offered: head + "  preflight:\n    - free_space: {}\n    - exec: {command: /usr/bin/systemctl is-active kubelet}\n"),
        // The key the misspelling is taken for is already there: the rename would write it twice.
        Case(
            rule: .unknownKey, refused: head + "  channel: stable\n  chanel: beta\n", offered: head + "  chanel: beta\n"),
        // A flat list of words may be one command or several: writing each as a list would run the lock file.
        Case(
            rule: .wrongType,
            refused: head + "  hooks: {before_reboot: [/usr/local/bin/drain-workloads, /var/run/drain.lock]}\n",
            offered: head + "  hooks: {before_reboot: [/usr/local/bin/drain-workloads]}\n"),
        Case(
            rule: .wrongType,
            refused: head + "  hooks:\n    after_commit:\n      - /usr/bin/logger committed\n      - /usr/bin/true\n",
            offered: head + "  hooks:\n    after_commit:\n      - /usr/bin/logger committed\n      - [/usr/bin/true]\n"),
        // Quoted digits with a leading zero: unquoted, YAML 1.1 tools read them as octal.
        Case(rule: .wrongType, refused: head + "  auto_rollback_after: \"010\"\n", offered: head + "  auto_rollback_after: \"10\"\n"),
        Case(rule: .wrongType, refused: head + "  auto_rollback_after: \"00\"\n", offered: head + "  auto_rollback_after: \"0\"\n"),
    ]

    @Test(arguments: cases)
    func noFixWhereTheEditWouldGuess(_ test: Case) {
        func fixes(_ text: String) -> [Fix]? {
            let findings = PolicyLinter.lint(Array(text.utf8), file: "test.yaml", options: .tests).findings.filter { $0.rule == test.rule }
            return findings.isEmpty ? nil : findings.flatMap(\.fixes)
        }
        #expect(fixes(test.refused) == [], "\(test.refused)")
        #expect(fixes(test.offered)?.isEmpty == false, "\(test.offered)")
    }
}

/// A zone's fix is safe only where the name is certain: the same name in other case, or a
/// misspelt `Area/Location` with one close candidate. An abbreviation's nearest name is another
/// zone, and a guess with other digits is another offset.
@Suite struct TimeZoneFixTests {
    static let options = LintOptions(
        timeZones: TimeZoneNames([
            "Europe/Berlin", "Europe/London", "Australia/Sydney", "UCT", "EST", "HST", "MST", "NZ", "CET", "WET", "GMT+0",
            "Etc/GMT+0", "Etc/GMT+1",
        ]))

    /// The zone written, the fix's text and safety (nil: no fix).
    static let cases: [(String, String?, Fix.Safety?)] = [
        ("AEST", "EST", .unsafe), ("HKT", "HST", .unsafe), ("MSK", "MST", .unsafe), ("Z", "NZ", .unsafe),
        ("CAT", "CET", .unsafe), ("WAT", "WET", .unsafe), ("GMT+2", nil, nil), ("Etc/GMT+01", nil, nil),
        ("utc", "UTC", .safe), ("europe/berlin", "Europe/Berlin", .safe), ("Europe/Berln", "Europe/Berlin", .safe),
        ("europe/berln", "Europe/Berlin", .safe),
    ]

    @Test(arguments: cases.indices)
    func aZoneIsFixedSafelyOnlyWhereTheNameIsCertain(_ index: Int) throws {
        let (written, text, safety) = Self.cases[index]
        let finding = try #require(Self.finding(written, Self.options), "\(written)")
        #expect(finding.fixes.map(\.safety) == (safety.map { [$0] } ?? []), "\(written)")
        #expect(finding.fixes.first?.edits.map(\.text) == text.map { [$0] }, "\(written)")
    }

    static func finding(_ written: String, _ options: LintOptions) -> Finding? {
        let policy =
            FixRefusalTests.head
            + "  preflight:\n    - free_space: {}\n    - maintenance_window: {start: \"01:00\", end: \"05:00\", timezone: \(written)}\n"
        return PolicyLinter.lint(Array(policy.utf8), file: "test.yaml", options: options).findings.first { $0.rule == .badTimeZone }
    }

    static let cities = LintOptions(
        timeZones: TimeZoneNames([
            "America/Lima", "America/El_Salvador", "America/Regina", "America/Toronto", "America/New_York", "America/Sao_Paulo",
            "Asia/Singapore", "Asia/Gaza", "Asia/Kolkata", "Asia/Tomsk", "Asia/Omsk", "Asia/Seoul", "Europe/Rome",
            "Europe/Dublin", "Europe/Berlin", "Indian/Mahe", "Indian/Maldives",
        ]))

    /// A city that is no zone name is not its nearest zone; a slip of the keys in a zone's name is.
    static let cityCases: [(String, String, Fix.Safety)] = [
        ("America/Miami", "America/Lima", .unsafe), ("Asia/Bangalore", "Asia/Singapore", .unsafe),
        ("Asia/Goa", "Asia/Gaza", .unsafe), ("Europe/Cork", "Europe/Rome", .unsafe), ("Indian/Male", "Indian/Mahe", .unsafe),
        ("America/Reno", "America/Regina", .unsafe), ("America/Salvador", "America/El_Salvador", .unsafe),
        ("Europe/Berln", "Europe/Berlin", .safe), ("America/Toronot", "America/Toronto", .safe),
        ("Asia/Tomks", "Asia/Tomsk", .safe), ("Asia/Seol", "Asia/Seoul", .safe), ("asia/SEOL", "Asia/Seoul", .safe),
    ]

    @Test(arguments: cityCases.indices)
    func aCityIsNotItsNearestZone(_ index: Int) throws {
        let (written, text, safety) = Self.cityCases[index]
        let finding = try #require(Self.finding(written, Self.cities), "\(written)")
        #expect(finding.fixes.map(\.safety) == [safety], "\(written)")
        #expect(finding.fixes.first?.edits.map(\.text) == [text], "\(written)")
    }

    @Test func aSimpleTypoIsOneLetterLeftOutOrAddedOrTwoSwapped() {
        for (word, candidate) in [
            ("Berln", "Berlin"), ("Berlinn", "Berlin"), ("Toronot", "Toronto"), ("TOMKS", "Tomsk"), ("xBerlin", "Berlin"),
        ] {
            #expect(Suggestions.isSimpleTypo(word, of: candidate), "\(word)")
        }
        for (word, candidate) in [
            ("Male", "Mahe"), ("Berlin", "Berlin"), ("Miami", "Lima"), ("Brelni", "Berlin"), ("Bern", "Berlin"), ("ab", "ba c"),
        ] {
            #expect(!Suggestions.isSimpleTypo(word, of: candidate), "\(word)")
        }
    }
}

/// A `fleet_lock` key of the other engine: `slots` and `report_ttl` go safely; `url` and
/// `endpoints` are addresses, the only one where the engine is the mistake, and go only unsafely.
@Suite struct FleetLockFixTests {
    static let cases: [(String, Fix.Safety)] = [
        ("{engine: etcd, url: \"https://airlock.example.com\", group: g}", .unsafe),
        ("{engine: fleetlock, endpoints: [\"https://etcd-1:2379\"], group: g}", .unsafe),
        ("{engine: fleetlock, url: \"https://airlock.example.com\", slots: 2}", .safe),
        ("{engine: fleetlock, url: \"https://airlock.example.com\", report_ttl: 1h}", .safe),
    ]

    @Test(arguments: cases.indices)
    func removingAnAddressIsUnsafe(_ index: Int) throws {
        let (gate, safety) = Self.cases[index]
        let policy = FixRefusalTests.head + "  preflight:\n    - free_space: {}\n    - fleet_lock: \(gate)\n"
        let findings = PolicyLinter.lint(Array(policy.utf8), file: "test.yaml", options: .tests).findings
        let finding = try #require(findings.first { $0.rule == .fleetLockUnusedKey }, "\(gate)")
        #expect(finding.fixes.map(\.safety) == [safety], "\(gate)")
    }
}

/// A command's words written as flow list items read back as the same text in YAML 1.1 and 1.2.
@Suite struct FlowItemTests {
    static let cases: [(String, String)] = [
        ("/usr/bin/true", "/usr/bin/true"), ("is-active", "is-active"), ("-v", "-v"), ("kubelet", "kubelet"),
        ("2024-01-01", "\"2024-01-01\""), ("2024-1-1", "\"2024-1-1\""), ("2024-01-01T00:00:00Z", "\"2024-01-01T00:00:00Z\""),
        ("~", "\"~\""), ("null", "\"null\""), ("y", "\"y\""), ("on", "\"on\""), ("010", "\"010\""), ("22:00", "\"22:00\""),
        ("1_000", "\"1_000\""), ("1.5e+3", "\"1.5e+3\""), ("0x1F", "\"0x1F\""), ("0b101", "\"0b101\""), (".inf", "\".inf\""),
        ("-.inf", "\"-.inf\""), (".NaN", "\".NaN\""), ("190:20:30", "\"190:20:30\""), ("3", "\"3\""), ("-", "\"-\""),
        ("*alias", "\"*alias\""), ("&anchor", "\"&anchor\""), ("!tag", "\"!tag\""), ("%x", "\"%x\""), ("@x", "\"@x\""),
        ("`x`", "\"`x`\""), ("|", "\"|\""), (">", "\">\""), ("'x'", "\"'x'\""), ("#x", "\"#x\""), ("?", "\"?\""),
        ("? x", "\"? x\""), ("- x", "\"- x\""), ("a, b", "\"a, b\""), ("[x]", "\"[x]\""), ("{x}", "\"{x}\""),
        ("a #b", "\"a #b\""), ("a: b", "\"a: b\""), ("x:", "\"x:\""), ("=", "\"=\""), ("<<", "\"<<\""),
    ]

    @Test(arguments: cases.indices)
    func aWordIsQuotedWhereAYAMLReaderWouldReadItOtherwise(_ index: Int) {
        let (text, written) = Self.cases[index]
        #expect(YAMLText.flowItem(text) == written, "\(text)")
    }
}
