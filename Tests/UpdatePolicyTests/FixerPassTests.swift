import Testing
import UpdatePolicy
import YAMLTree

/// How `Fixer` chooses and applies fixes, with fixes made up for the purpose: overlapping ones
/// wait for a later pass, and a fix that would break the file is left out.
@Suite struct FixerPassTests {
    static let policy = Array("updates:\n  server: https://updates.example.com\n  channel: stable\n".utf8)

    /// The real lint of `bytes`, plus `extra` findings while the bytes are still `when`.
    static func lint(_ bytes: [UInt8], adding extra: [Finding], when: [UInt8]) -> LintResult {
        var result = PolicyLinter.lint(bytes, file: "policy.yaml", options: .tests)
        if bytes == when { result.findings += extra }
        return result
    }

    static func offset(of text: String, in bytes: [UInt8]) -> Int {
        let needle = Array(text.utf8)
        return (0...(bytes.count - needle.count)).first { Array(bytes[$0..<($0 + needle.count)]) == needle }!
    }

    /// A fix that would break the file is left out, reported with UPD110 where its finding still
    /// stands (without the fix); the fix beside it in the same pass is applied.
    @Test func aFixThatWouldBreakTheFileIsLeftOutAndTheOthersApplied() {
        let colon = Self.offset(of: ": stable", in: Self.policy)
        let host = Self.offset(of: "example", in: Self.policy)
        let harmless = Finding(
            .badValue, "made up", start: .start, fixes: [Fix("rename the host", .safe, replacing: host, host + 7, with: "beta")])
        let breaking = Finding(
            .unknownKey, "made up", start: Mark(line: 3, column: 3, offset: colon - 7),
            fixes: [Fix("drop the colon", .safe, replacing: colon, colon + 1, with: "")])
        let outcome = Fixer.fix(Self.policy, safety: .safe) { Self.lint($0, adding: [harmless, breaking], when: Self.policy) }
        #expect(outcome.refused == 1)
        #expect(outcome.source == Array("updates:\n  server: https://updates.beta.com\n  channel: stable\n".utf8))
        #expect(outcome.fixed == 1)
        let refusal = outcome.result.findings.first { $0.rule == .fixBreaksFile }
        #expect(refusal?.message.contains("\"drop the colon\" was not applied") == true, "\(outcome.result.findings)")
        // On line 3 of the fixed file, where the colon is.
        #expect(refusal?.start.line == 3)
    }

    /// A real one: `chanel` beside `channel` would become a duplicate key.
    @Test func aFixThatWouldMakeADuplicateKeyIsLeftOut() {
        let policy = Array("updates:\n  server: https://u.example.com\n  channel: stable\n  chanel: beta\n  reboot: Auto\n".utf8)
        let outcome = Fixer.fix(policy, safety: .safe) { PolicyLinter.lint($0, file: "policy.yaml", options: .tests) }
        // `Auto` is fixed whatever becomes of `chanel`.
        #expect(String(decoding: outcome.source, as: UTF8.self).contains("reboot: auto"))
        #expect(!String(decoding: outcome.source, as: UTF8.self).contains("channel: beta"))
        #expect(!outcome.result.findings.contains { $0.rule == .duplicateKey })
    }

    @Test func overlappingFixesTakeTurnsOverPasses() {
        let start = Self.offset(of: "example", in: Self.policy)
        // Two fixes of the same bytes: the first (by title, at the same place) is applied in the
        // first pass; the second no longer exists once its bytes changed.
        let first = Finding(.badValue, "made up", start: .start, fixes: [Fix("a", .safe, replacing: start, start + 7, with: "beta")])
        let second = Finding(.badValue, "made up", start: .start, fixes: [Fix("b", .safe, replacing: start, start + 7, with: "gamma")])
        // An unsafe fix is left out unless asked for.
        let unsafe = Finding(.badValue, "made up", start: .start, fixes: [Fix("c", .unsafe, replacing: 0, 7, with: "updates")])
        let chosen = Fixer.choose([second, first, unsafe], safety: .safe)
        #expect(chosen.edits == [Fix.Edit(start: start, end: start + 7, text: "beta")])
        #expect(chosen.findings == 1)
        let outcome = Fixer.fix(Self.policy, safety: .safe) { Self.lint($0, adding: [second, first, unsafe], when: Self.policy) }
        #expect(outcome.source == Array("updates:\n  server: https://updates.beta.com\n  channel: stable\n".utf8))
        #expect(outcome.passes.count == 1)
        // Equal fixes (one node reached twice through an alias) make one edit and fix both findings.
        #expect(Fixer.choose([first, first], safety: .safe).edits.count == 1)
        #expect(Fixer.choose([first, first], safety: .safe).findings == 2)
        // An insertion at the start of a replaced range overlaps it; one right after it does not.
        let insertAtStart = Fix.Edit(start: start, end: start, text: "x")
        let insertAfter = Fix.Edit(start: start + 6, end: start + 6, text: "x")
        let replace = Fix.Edit(start: start, end: start + 6, text: "y")
        #expect(Fixer.overlap(insertAtStart, replace))
        #expect(!Fixer.overlap(insertAfter, replace))
    }

    @Test func passesAreBounded() {
        // A fix that always reappears (a defect) stops after the last pass.
        var count = 0
        let outcome = Fixer.fix(Self.policy, safety: .safe) { bytes in
            count += 1
            var result = PolicyLinter.lint(bytes, file: "policy.yaml", options: .tests)
            result.findings.append(
                Finding(.badValue, "made up", start: .start, fixes: [Fix("grow", .safe, replacing: bytes.count, bytes.count, with: "#\n")]))
            return result
        }
        #expect(outcome.passes.count == Fixer.maximumPasses)
        #expect(count == Fixer.maximumPasses + 1)
    }

    /// A duration in words is written as updatectl writes it, with or without a blank; `M` alone
    /// (minutes or months?) and two units get no fix.
    @Test func durationsInWordsAreWrittenShort() {
        func fix(_ written: String) -> String? {
            let policy = "updates:\n  server: https://u.example.com\n  healthcheck:\n    timeout: \(written)\n"
            let result = PolicyLinter.lint(Array(policy.utf8), file: "p.yaml", options: .tests)
            return result.findings.first { $0.rule == .badDuration }?.fixes.first.map { "\($0.edits[0].text) \($0.safety)" }
        }
        #expect(fix("1d") == "24h safe")
        #expect(fix("10min") == "10m safe")
        #expect(fix("2 Hours") == "2h safe")
        #expect(fix("5  min") == "5m safe")
        #expect(fix("5M") == nil)
        #expect(fix("3 M") == nil)
        #expect(fix("1 hour 30 minutes") == nil)
        #expect(fix("1:30") == "1m30s unsafe")
    }

    /// A value with an explicit tag is read as the tag says by YAML 1.1 readers too: nothing to quote.
    @Test func aTaggedValueNeedsNoQuotes() {
        let policy = "updates:\n  server: https://u.example.com\n  preflight:\n    - maintenance_window: {start: !!str 22:00, end: 23:00}\n"
        let result = PolicyLinter.lint(Array(policy.utf8), file: "p.yaml", options: .tests)
        let readings = result.findings.filter { $0.rule == .yaml11Number }
        #expect(readings.map(\.start.column) == [53], "\(result.findings.map { "\($0.rule)@\($0.start)" })")
    }

    /// Two keys whose fixes would give one name: the first is fixed, the second left out and
    /// reported on its own line.
    @Test func twoFixesThatCollideAreTakenOneAtATime() {
        let policy = Array("updates:\n  server: https://u.example.com/ks\n  chanel: a\n  chnnel: b\n".utf8)
        let outcome = Fixer.fix(policy, safety: .safe) { PolicyLinter.lint($0, file: "policy.yaml", options: .tests) }
        #expect(outcome.source == Array("updates:\n  server: https://u.example.com/ks\n  channel: a\n  chnnel: b\n".utf8))
        let refusals = outcome.result.findings.filter { $0.rule == .fixBreaksFile }
        #expect(refusals.map(\.start.line) == [4], "\(outcome.result.findings.map { "\($0.rule)@\($0.start): \($0.message)" })")
        #expect(refusals.first?.message.contains("given twice") == true)
        // The finding left stands without the fix that was refused.
        #expect(outcome.result.findings.contains { $0.rule == .unknownKey && $0.fixes.isEmpty })
    }
}
