import Foundation
import Testing
import UpdatePolicy
import YAMLTree

@Suite struct RuleFixtureTests {
    /// Every rule but UPD108 (a 16 MiB file), which `fileTooLargeIsAFinding` covers, and UPD110,
    /// which only `lint --fix` reports. UPD5xx need the host and are tested through `updatectl lint --on-host`.
    /// Rules of update.conf have `.conf` fixtures.
    static let ruleFiles = Rules.all.filter { $0.id != .fileTooLarge && $0.id != .fixBreaksFile && !$0.id.rawValue.hasPrefix("UPD5") }
        .map { rule in
            let conf = "rules/\(rule.id).conf"
            return FileManager.default.fileExists(atPath: MarkedFixture.directory.appendingPathComponent(conf).path)
                ? conf : "rules/\(rule.id).yaml"
        }

    @Test(arguments: ruleFiles)
    func everyRuleLandsWhereItsFixtureMarksIt(path: String) throws {
        let fixture = try MarkedFixture(path: path)
        let rule = String(path.dropFirst("rules/".count).prefix { $0 != "." })
        #expect(fixture.expected.contains { $0.rule == rule }, "the fixture marks no \(rule) finding")
        let result = fixture.lint()
        let found = result.findings.filter { $0.rule.rawValue == rule }
            .map { MarkedFixture.Expected(rule: $0.rule.rawValue, line: $0.start.line, column: $0.start.column) }
        let wanted = fixture.expected.filter { $0.rule == rule }
        #expect(Set(found) == Set(wanted), "all findings: \(result.findings.map { "\($0.rule)@\($0.start): \($0.message)" })")
        for finding in result.findings where finding.rule.rawValue == rule {
            #expect(finding.severity == Rules.rule(finding.rule).severity || finding.rule == .unauthenticated)
            #expect(!finding.message.isEmpty)
        }
        for message in fixture.messages {
            #expect(
                found.isEmpty || result.findings.contains { $0.rule.rawValue == rule && $0.message.contains(message) },
                "no \(rule) message contains \(message)")
        }
        for help in fixture.helps {
            #expect(
                result.findings.contains { $0.rule.rawValue == rule && ($0.help ?? "").contains(help) },
                "no \(rule) help contains \(help)")
        }
    }

    @Test func fileTooLargeIsAFinding() throws {
        let options = LintOptions(timeZones: LintOptions.tests.timeZones, limits: YAMLLimits(maxBytes: 16))
        let result = PolicyLinter.lint(Array("updates:\n  server: https://u.example.com\n".utf8), file: "big.yaml", options: options)
        #expect(result.findings.map(\.rule) == [.fileTooLarge])
        #expect(result.findings.first?.start == .start)
    }

    @Test func everyRuleIDConstantIsInTheCatalogOnce() throws {
        // Each code is written once, in its `Rule` (the `RuleID` constants read it from there);
        // the definitions are read from their source: one defined but not in the catalog would
        // make `--explain` and the docs silently miss a rule that lint reports.
        let sources = ShippedPolicyTests.root.appendingPathComponent("Sources")
        var source = ""
        for case let file as URL in FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
        where file.pathExtension == "swift" {
            source += try String(contentsOf: file, encoding: .utf8) + "\n"
        }
        #expect(!source.contains("RuleID(\"UPD"), "a code written as a RuleID constant, not read from its Rule")
        // A rule's definition: `= Rule(` then, on the same line or the next, `"UPDnnn", "name", .severity`.
        let definition = try Regex(#"= Rule\(\s*"(UPD[0-9]{3})""#)
        let defined = source.matches(of: definition).compactMap { match in match.output[1].substring.map(String.init) }
        #expect(defined.count >= 45)
        #expect(Set(defined).count == defined.count, "a code defined twice")
        #expect(Set(defined) == Set(Rules.all.map(\.id.rawValue)), "rules defined without a catalog entry, or the reverse")
        let ids = Rules.all.map(\.id)
        #expect(Set(ids).count == ids.count)
        #expect(Set(Rules.all.map(\.name)).count == ids.count)
        for rule in Rules.all {
            #expect(rule.id.rawValue.count == 6 && rule.id.rawValue.hasPrefix("UPD"))
            #expect(rule.area != "Other")
            #expect(!rule.summary.isEmpty && !rule.rationale.isEmpty && !rule.fix.isEmpty && !rule.example.isEmpty)
        }
    }
}

@Suite struct DecodingTests {
    func lint(_ text: String) -> LintResult { PolicyLinter.lint(Array(text.utf8), file: "test.yaml", options: .tests) }

    static let header = """
        updates:
          server: https://u.example.com
          public_key: ed25519:Hn1+J4gUuOPxSNmoJfiFmdZ3Rvb4vnwYrH7s+dqvFiU=

        """

    @Test func aWholeCloudInitFileIsAValidInput() throws {
        let result = lint("#cloud-config\nhostname: a\nwrite_files: []\n" + Self.header)
        #expect(result.findings.isEmpty)
        let policy = try #require(result.policy)
        #expect(policy.server?.value.text == "https://u.example.com")
        #expect(policy.channel == Located("stable", .defaulted))
    }

    @Test func defaultsAreFilledInAndMarkedAsDefaults() throws {
        let policy = try #require(lint(Self.header).policy)
        #expect(
            policy.preflight.map(\.name.value) == [
                "channel", "architecture", "min_compatible_version", "no_downgrade", "rollout_wave", "free_space", "node_not_blocked",
            ])
        #expect(policy.preflight.allSatisfy { $0.source == .defaulted })
        #expect(policy.healthcheck.timeout == Located(.seconds(300), .defaulted))
        #expect(policy.healthcheck.interval == Located(.seconds(10), .defaulted))
        #expect(policy.autoRollbackAfter == Located(0, .defaulted))
        #expect(policy.reboot == Located(.manual, .defaulted))
        #expect(policy.dataDir == Located("/var/lib/kubesolo", .defaulted))
        #expect(policy.healthcheck.probes.map(\.name.value) == ["kube_system_ready", "disk_writable"])
        // No `backend:`: a KubeSolo OS node's, every key at its default.
        guard case .kubesolo(let backend) = policy.backend else {
            Issue.record("expected the kubesolo backend")
            return
        }
        #expect(backend.grubenv == Located("/boot/grub/grubenv", .defaulted))
        #expect(backend.labelA == Located("KSOLOA", .defaulted) && backend.labelB == Located("KSOLOB", .defaulted))
        #expect(policy.backendType == Located("kubesolo", .defaulted))
    }

    @Test func shorthandsExpandToProbes() throws {
        let result = lint(
            Self.header + "  healthcheck_url: http://127.0.0.1:8080/healthz\n  kube_system_settle: 45s\n  auto_rollback_after: 2\n")
        #expect(result.findings.isEmpty)
        let probes = try #require(result.policy?.healthcheck.probes)
        #expect(probes.map(\.name.value) == ["healthcheck_url", "kube_system_ready", "disk_writable"])
        let settle = try #require((probes[1].kind as? KubeSystemReadyProbe)?.settle)
        #expect(settle.value == .seconds(45))
        guard case .shorthand(let key, let origin) = probes[0].source, let mark = origin.mark else {
            Issue.record("expected a shorthand probe")
            return
        }
        #expect(key == "healthcheck_url" && mark.line == 4 && mark.column == 20)
    }

    @Test func kubeSystemSettleZeroTurnsTheProbeOff() throws {
        let probes = try #require(lint(Self.header + "  kube_system_settle: 0\n").policy?.healthcheck.probes)
        #expect(probes.map(\.kind.kindName) == ["disk_writable"])
    }

    @Test func aShorthandThatAgreesWithTheExplicitProbeIsOneProbe() throws {
        let result = lint(
            Self.header + """
                  healthcheck_url: http://127.0.0.1:8080/healthz
                  auto_rollback_after: 3
                  healthcheck:
                    probes:
                      - http: {url: "http://127.0.0.1:8080/healthz"}

                """)
        #expect(result.findings.isEmpty)
        #expect(result.policy?.healthcheck.probes.count { $0.kind.kindName == "http" } == 1)
    }

    /// `healthcheck_url` adds its probe beside listed `http` probes: an operator who adds an
    /// apiserver probe expects both to run.
    @Test func theURLShorthandAddsAProbeBesideListedOnes() throws {
        let result = lint(
            Self.header + """
                  healthcheck_url: http://127.0.0.1:8080/healthz
                  auto_rollback_after: 3
                  healthcheck:
                    probes:
                      - http: {url: "http://127.0.0.1:9090/ready"}

                """)
        #expect(result.findings.isEmpty, "\(result.findings.map(\.message))")
        let urls = result.policy?.healthcheck.probes.compactMap { probe -> String? in
            (probe.kind as? HTTPProbe)?.url.value.text
        }
        #expect(urls == ["http://127.0.0.1:9090/ready", "http://127.0.0.1:8080/healthz"])
    }

    /// Only the same probe configured two ways conflicts.
    @Test func theSameURLWithAnotherStatusIsAConflict() throws {
        let result = lint(
            Self.header + """
                  healthcheck_url: http://127.0.0.1:8080/healthz
                  auto_rollback_after: 3
                  healthcheck:
                    probes:
                      - http: {url: "http://127.0.0.1:8080/healthz", status: 204}

                """)
        #expect(result.findings.map(\.rule) == [.shorthandConflict])
        #expect(result.findings.first?.notes.first?.mark.line == 8)
    }

    @Test func unnamedEntriesOfOneKindGetDistinctNames() throws {
        let result = lint(
            Self.header + """
                  auto_rollback_after: 3
                  healthcheck:
                    probes:
                      - tcp: {address: "127.0.0.1:1"}
                      - tcp: {address: "127.0.0.1:2"}
                      - tcp: {name: tcp-2, address: "127.0.0.1:3"}

                """)
        #expect(result.findings.isEmpty)
        #expect(result.policy?.healthcheck.probes.prefix(3).map(\.name.value) == ["tcp", "tcp-3", "tcp-2"])
    }

    @Test func oneWrongValueGivesOneFindingNotACascade() throws {
        let result = lint(Self.header + "  healthcheck:\n    timeout: soon\n  kube_system_settle: 5m\n")
        #expect(result.findings.map(\.rule) == [.badDuration])
        let wrongTable = lint(Self.header + "  healthcheck: 5m\n")
        #expect(wrongTable.findings.map(\.rule) == [.wrongType])
        #expect(wrongTable.findings.first?.message == "expected a mapping of healthcheck settings, found `5m`")
    }

    @Test func everyFindingIsCollectedInOnePass() throws {
        let result = lint(
            "updates:\n  sever: x\n  channel: A\n  reboot: maybe\n  data_dir: rel\n  healthcheck: {timeout: x, interval: y}\n")
        #expect(
            result.findings.map(\.rule) == [
                .unknownKey, .badValue, .badValue, .badPath, .badDuration, .badDuration,
            ])
        let noServer = lint("updates:\n  channel: stable\n")
        #expect(noServer.findings.map(\.rule) == [.missingServer])
    }

    /// A misspelt option is one mistake: "unknown key, did you mean `address`?", not that and
    /// "needs `address`" as well; a key it cannot be taken for still leaves the option missing.
    @Test func aMisspeltRequiredOptionIsReportedOnce() throws {
        let misspelt = lint(
            "updates:\n  server: https://u.example.com\n  healthcheck:\n    probes:\n      - tcp: {adress: \"127.0.0.1:1\"}\n")
        #expect(misspelt.findings.filter { $0.severity == .error }.map(\.rule) == [.unknownKey])
        #expect(misspelt.findings.first { $0.rule == .unknownKey }?.help == "did you mean `address`?")
        let unrelated = lint("updates:\n  server: https://u.example.com\n  healthcheck:\n    probes:\n      - tcp: {port: 1}\n")
        let missing = try #require(unrelated.findings.first { $0.rule == .missingOption })
        #expect(missing.message == "the tcp probe needs `address`: `host:port`, `[v6]:port` for IPv6.")
        #expect(missing.help == "add `address: …` to the tcp probe")
        let both = lint(
            "updates:\n  server: https://u.example.com\n  healthcheck:\n    probes:\n"
                + "      - tcp: {adress: x, address: \"127.0.0.1:1\"}\n")
        #expect(both.findings.filter { $0.severity == .error }.map(\.rule) == [.unknownKey])
    }

    @Test(arguments: [
        ("250ms", 250), ("30s", 30_000), ("5m", 300_000), ("1h30m", 5_400_000), ("2h", 7_200_000), ("45", 45_000),
        ("0", 0), ("1m30s", 90_000),
    ])
    func durationsParse(text: String, millis: Int64) throws {
        let value = try #require(DurationText.parse(text))
        #expect(DurationText.milliseconds(value) == millis)
        #expect(DurationText.parse(DurationText.format(value)) == value)
    }

    @Test(arguments: ["30 seconds", "-5s", "s", "30m1h", "1.5h", "5d", "", "1h1h", "10S", "5 s"])
    func badDurationsAreRejected(text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test func aBareNumberIsSeconds() {
        #expect(DurationText.parse("5") == .seconds(5))
        #expect(DurationText.parse("0") == .zero)
    }

    @Test func yaml11BooleansWhereABooleanIsExpectedSayHowTheyAreRead() throws {
        let result = lint(Self.header + "  preflight:\n    - free_space: {}\n    - no_downgrade: yes\n")
        let finding = try #require(result.findings.first)
        #expect(finding.rule == .wrongType)
        #expect(finding.help?.contains("YAML 1.1 tools read `yes` as the boolean true") == true)
    }

    @Test func octalLookAlikesInIntegersAreErrors() throws {
        let result = lint(Self.header + "  auto_rollback_after: 010\n")
        #expect(result.findings.map(\.rule) == [.wrongType])
        #expect(result.findings.first?.message.contains("octal 8") == true)
    }

    @Test func quotedValuesAreTextAndPlainValuesAreTyped() throws {
        let quoted = lint(Self.header + "  preflight:\n    - free_space: {}\n    - rollout: {percent: 10, salt: \"on\"}\n")
        #expect(quoted.findings.isEmpty)
        let plain = lint(Self.header + "  preflight:\n    - free_space: {}\n    - rollout: {percent: 10, salt: 0755}\n")
        #expect(plain.findings.map(\.rule) == [.yaml11Number])
        #expect(plain.findings.first?.message.contains("493 (octal)") == true)
    }

    @Test func entriesTakeScalarShorthandsAndNull() throws {
        let result = lint(Self.header + "  preflight:\n    - free_space:\n    - max_attempts: 3\n    - no_downgrade: true\n")
        #expect(result.findings.isEmpty)
        #expect(
            result.policy?.preflight.map(\.kind.kindName) == [
                "channel", "architecture", "min_compatible_version", "rollout_wave", "free_space", "max_attempts", "no_downgrade",
            ])
    }

    @Test func optionsWrittenBesideTheKindArePointedBackInside() throws {
        let result = lint(Self.header + "  preflight:\n    - free_space: {}\n      headroom: 20%\n")
        let finding = try #require(result.findings.first)
        #expect(finding.rule == .badEntry)
        #expect(finding.help?.contains("indent `headroom` under `free_space:`") == true)
    }

    @Test func backendOptionsOfTheOtherTypeAreExplained() throws {
        let result = lint(Self.header + "  backend: {type: directory, stage: [/bin/true]}\n")
        #expect(result.findings.map(\.rule) == [.unknownKey])
        #expect(result.findings.first?.message == "`stage` is an option of the command backend, not the directory backend")
    }

    /// A window whose start equals its end has one meaning everywhere: an error, never open.
    @Test func aWindowOfNoLengthIsAnError() throws {
        let result = lint(
            Self.header + "  preflight:\n    - free_space: {}\n    - maintenance_window: {start: \"03:00\", end: \"03:00\"}\n")
        let finding = try #require(result.findings.first)
        #expect(result.findings.count == 1)
        #expect(finding.rule == .badValue && finding.severity == .error)
        #expect(finding.message.contains("a window of no length never opens"))
        #expect(finding.start.line == 6 && finding.start.column == 49, "\(finding.start)")
    }

    @Test func windowsAcrossMidnightHaveTheRightLength() throws {
        let policy = try #require(
            lint(Self.header + "  preflight:\n    - free_space: {}\n    - maintenance_window: {start: \"22:00\", end: \"04:00\"}\n").policy)
        let window = try #require(policy.preflight.lazy.compactMap { $0.kind as? MaintenanceWindowGate }.first)
        #expect(window.lengthMinutes == 360)
        #expect(window.days.value == Weekday.allCases)
        #expect(window.timezone == Located("UTC", .defaulted))
    }

    @Test func didYouMeanUsesEditDistance() {
        #expect(Suggestions.closest(to: "sever", in: ["server", "channel"]) == "server")
        #expect(Suggestions.closest(to: "rebot", in: ["reboot", "backend"]) == "reboot")
        #expect(Suggestions.closest(to: "xyzzy", in: ["server", "channel"]) == nil)
        #expect(Suggestions.closest(to: "chanel", in: ["server", "channel"]) == "channel")
    }
}

@Suite struct SuppressionTests {
    @Test func aTrailingCommentSilencesItsLineAndAStandaloneOneTheNext() throws {
        let text = """
            updates:
              server: http://u.example.com  # updatectl: disable=UPD406
              # updatectl: disable=UPD308
              reboot: sometimes

            """
        let result = PolicyLinter.lint(Array(text.utf8), file: "x.yaml", options: .tests)
        #expect(result.findings.isEmpty)
        let off = PolicyLinter.lint(
            Array(text.utf8), file: "x.yaml", options: LintOptions(timeZones: LintOptions.tests.timeZones, inlineSuppressions: false))
        #expect(off.findings.map(\.rule) == [.unauthenticated, .badValue])
    }

    @Test func severalCodesInOneComment() throws {
        let text = "updates:\n  server: http://u.example.com  # updatectl: disable=UPD406,UPD303 because\n"
        let result = PolicyLinter.lint(Array(text.utf8), file: "x.yaml", options: .tests)
        #expect(result.findings.map(\.rule) == [.unusedSuppression])
        #expect(result.findings.first?.start.column == 61)
    }

    @Test func commentsAreFoundOnTheirLinesPastHashesThatAreNotComments() throws {
        let text =
            "# updatectl: disable=UPD999\nupdates:\n  server: http://u.example.com/#x  # updatectl: disable=UPD406\n"
            + "\n\n  reboot: auto # updatectl: disable=UPD308\n"
        let result = PolicyLinter.lint(Array(text.utf8), file: "x.yaml", options: .tests)
        #expect(result.findings.map(\.rule) == [.badSuppression, .unusedSuppression])
        #expect(result.findings.map { [$0.start.line, $0.start.column] } == [[1, 22], [6, 37]])
    }

    @Test func aHashInsideAValueIsNotAComment() throws {
        let text = "updates:\n  server: http://u.example.com/#updatectl:disable=UPD406\n"
        let result = PolicyLinter.lint(Array(text.utf8), file: "x.yaml", options: .tests)
        #expect(result.findings.map(\.rule) == [.unauthenticated])
    }
}

@Suite struct ShippedPolicyTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static let shipped = ["policies/default.yaml", "policies/hardened.yaml", "examples/cloud-init/user-data.yaml"]

    @Test(arguments: shipped)
    func shippedPoliciesLintClean(path: String) throws {
        let bytes = try Array(Data(contentsOf: Self.root.appendingPathComponent(path)))
        let result = PolicyLinter.lint(bytes, file: path, options: .tests)
        #expect(result.findings.isEmpty, "\(result.findings.map { "\($0.rule)@\($0.start): \($0.message)" })")
        #expect(result.policy != nil)
    }
}

@Suite struct ReferenceDocsTests {
    static let docs = ShippedPolicyTests.root.appendingPathComponent("docs")

    /// `UPDATE_SNAPSHOTS=1 swift test` rewrites the pages after a deliberate change.
    @Test(arguments: ["lint-rules.md", "policy.md"])
    func generatedReferencePagesAreCurrent(name: String) throws {
        let generated = name == "policy.md" ? ReferenceDocs.policyKeys() : ReferenceDocs.lintRules()
        let url = Self.docs.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["UPDATE_SNAPSHOTS"] == "1" {
            try Data(generated.utf8).write(to: url)
        }
        let onDisk = try String(contentsOf: url, encoding: .utf8)
        #expect(onDisk == generated, "docs/\(name) is stale: UPDATE_SNAPSHOTS=1 swift test rewrites it")
    }

    /// docs/simulate.md's key table, between its markers: the kinds' facts appear there without
    /// anyone editing the page by hand.
    @Test func scenarioKeyTableIsCurrent() throws {
        let url = Self.docs.appendingPathComponent("simulate.md")
        let page = try String(contentsOf: url, encoding: .utf8)
        let start = "<!-- scenario-keys:start (generated from the scenario schema and the kinds' facts) -->\n"
        let end = "<!-- scenario-keys:end -->"
        let startRange = try #require(page.range(of: start), "docs/simulate.md lost its scenario-keys:start marker")
        let endRange = try #require(page.range(of: end), "docs/simulate.md lost its scenario-keys:end marker")
        let onDisk = String(page[startRange.upperBound..<endRange.lowerBound])
        let generated = ReferenceDocs.scenarioKeys()
        if ProcessInfo.processInfo.environment["UPDATE_SNAPSHOTS"] == "1" {
            try Data((page[..<startRange.upperBound] + generated + page[endRange.lowerBound...]).utf8).write(to: url)
        }
        #expect(
            onDisk == generated || ProcessInfo.processInfo.environment["UPDATE_SNAPSHOTS"] == "1",
            "docs/simulate.md's key table is stale: UPDATE_SNAPSHOTS=1 swift test rewrites it")
        for fact in ScenarioSchema.facts.keys {
            #expect(generated.contains("`facts.\(fact.name)`"))
        }
    }

    static var examples: [(String, String)] {
        var tables = [PolicySchema.updates, PolicySchema.healthcheck] + PolicySchema.backend.variants.map(\.table)
        tables += (PolicySchema.gates + PolicySchema.probes).map(\.table)
        return tables.map { ($0.name, $0.example ?? "") }
    }

    /// Every table's documented example is a working policy fragment that uses every key.
    @Test func everyTablesExampleLintsAndUsesEveryKey() throws {
        for (name, example) in Self.examples {
            #expect(!example.isEmpty, "\(name) has no example")
            let body = example.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
            let base =
                name == "updates"
                ? "" : "  server: https://u.example.com\n  public_key: /etc/updatectl/release.pub\n  auto_rollback_after: 3\n"
            let result = PolicyLinter.lint(Array(("updates:\n" + base + body + "\n").utf8), file: name, options: .tests)
            // fleet_lock's example shows both engines, so two gates: UPD419 is its due.
            let unexpected = result.findings.filter { ![.noFreeSpaceGate, .severalFleetLocks].contains($0.rule) }
            #expect(unexpected.isEmpty, "\(name): \(unexpected.map { "\($0.rule)@\($0.start): \($0.message)" })")
        }
        let tables = [PolicySchema.updates, PolicySchema.healthcheck] + (PolicySchema.gates + PolicySchema.probes).map(\.table)
        for table in tables {
            // `enabled` of no_downgrade is set by its scalar form (`- no_downgrade: true`).
            // A second spelling (`pubkey`) cannot stand beside the first in one example.
            for key in table.keys where !["name", "timeout", "type", "enabled"].contains(key.name) && key.insteadOf == nil {
                #expect(table.example?.contains(key.name) == true, "the \(table.name) example lacks `\(key.name)`")
            }
        }
    }

    @Test func everyKeyAndRuleIsInTheDocs() {
        let policy = ReferenceDocs.policyKeys()
        for key in PolicySchema.updates.keys + PolicySchema.healthcheck.keys {
            #expect(policy.contains("| `\(key.name)` |"))
        }
        for kind in PolicySchema.gates + PolicySchema.probes { #expect(policy.contains("### `\(kind.name)`")) }
        let rules = ReferenceDocs.lintRules()
        for rule in Rules.all { #expect(rules.contains("### \(rule.id) \(rule.name)")) }
    }
}
