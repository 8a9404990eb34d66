import Foundation
import Testing

/// What the machine-read formats say about a finding: GitLab's categories and descriptions, the
/// span a finding underlines, one finding per mistake, and links that lead somewhere.
@Suite struct FindingFormatTests {
    struct Found {
        var rule: String
        var line: Int
        var column: Int
        var endLine: Int
        var endColumn: Int
    }

    func lint(_ policy: String, format: String = "json", environment: [String: String] = [:]) throws -> CLI.Result {
        try CLI.run(["lint", "--format", format, "-"], stdin: Data(policy.utf8), environment: environment)
    }

    func findings(_ policy: String) throws -> [Found] {
        let result = try lint(policy)
        let object = try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        return try #require(object["findings"] as? [[String: Any]]).map {
            Found(
                rule: $0["rule"] as? String ?? "", line: $0["line"] as? Int ?? 0, column: $0["column"] as? Int ?? 0,
                endLine: $0["end_line"] as? Int ?? 0, endColumn: $0["end_column"] as? Int ?? 0)
        }
    }

    func gitlab(_ policy: String) throws -> [[String: Any]] {
        let result = try lint(policy, format: "gitlab")
        return try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
    }

    @Test(arguments: [
        ("updates:\n  server: https://u.example.com\n", "UPD406", "Security"),
        ("updates:\n  server: https://u.example.com\n  public_key: /k.pub\n  require_signed_metadata: false\n", "UPD416", "Security"),
        ("updates:\n  server: https://u.example.com\n  public_key: /k.pub\n  chanel: edge\n", "UPD201", "Bug Risk"),
        ("updates:\n  server: https://u.example.com\n  public_key: /k.pub\n  channel: on\n", "UPD309", "Compatibility"),
    ])
    func gitlabCategoriesSayWhatKindOfProblemItIs(policy: String, rule: String, category: String) throws {
        let issue = try #require(try gitlab(policy).first { ($0["check_name"] as? String)?.hasPrefix(rule) == true })
        #expect(issue["categories"] as? [String] == [category])
    }

    @Test func gitlabDescriptionsCarryNoLineBreaks() throws {
        let issues = try gitlab("updates:\n  server: https://u.example.com\n  reboot: \"now\\nand\\rthen\"\n  \"cha\\nnel\": x\n")
        #expect(issues.count >= 2)
        for issue in issues {
            let description = try #require(issue["description"] as? String)
            #expect(!description.contains("\n") && !description.contains("\r"), "\(description)")
        }
    }

    /// UPD207 underlines the whole second value, not its first character.
    @Test func shorthandConflictUnderlinesTheValue() throws {
        let found = try findings(
            "updates:\n  server: https://u.example.com\n  public_key: /etc/updatectl/release.pub\n  pubkey: /etc/kubesolo/update.pub\n")
        let conflict = try #require(found.first { $0.rule == "UPD207" })
        #expect((conflict.line, conflict.column) == (4, 11))
        #expect((conflict.endLine, conflict.endColumn) == (4, 11 + "/etc/kubesolo/update.pub".count))
    }

    /// Each of UPD207's other shorthands underlines its whole value too.
    @Test(arguments: [
        (
            "  healthcheck_url: http://127.0.0.1:10248/healthz\n  healthcheck:\n    probes:\n"
                + "      - http: {url: \"http://127.0.0.1:10248/healthz\", status: 204}\n",
            "http://127.0.0.1:10248/healthz"
        ),
        ("  kube_system_settle: 45s\n  healthcheck:\n    probes:\n      - kube_system_ready: {settle: 60s}\n", "45s"),
        (
            "  maintenance_window: \"01:00-01:10\"\n  preflight:\n    - maintenance_window: {start: \"02:00\", end: \"04:00\"}\n",
            "\"01:00-01:10\""
        ),
    ])
    func everyShorthandConflictUnderlinesItsValue(lines: String, value: String) throws {
        let found = try findings("updates:\n  server: https://u.example.com\n" + lines)
        let conflict = try #require(found.first { $0.rule == "UPD207" }, "\(found.map(\.rule))")
        #expect((conflict.line, conflict.endLine) == (3, 3))
        #expect(conflict.endColumn - conflict.column == value.count, "\(conflict)")
    }

    /// UPD407 underlines the window, from its start to the end of its end.
    @Test func windowTooShortUnderlinesTheWindow() throws {
        let line = #"    - maintenance_window: {start: "02:00", end: "02:15"}"#
        let found = try findings(
            "updates:\n  server: https://u.example.com\n  public_key: /k.pub\n  healthcheck: {timeout: 30m}\n  preflight:\n\(line)\n")
        let short = try #require(found.first { $0.rule == "UPD407" })
        let start = try #require(line.range(of: "\"02:00\"")).lowerBound
        let end = try #require(line.range(of: "\"02:15\"")).upperBound
        #expect((short.line, short.column) == (6, line.distance(from: line.startIndex, to: start) + 1))
        #expect((short.endLine, short.endColumn) == (6, line.distance(from: line.startIndex, to: end) + 1))
    }

    /// A relative `pubkey` is one mistake, reported once.
    @Test func aRelativePubkeyIsOneFinding() throws {
        let found = try findings("updates:\n  server: https://u.example.com\n  pubkey: keys/update.pub\n")
        #expect(found.filter { $0.line == 3 }.count == 1, "\(found.map(\.rule))")
        #expect(!found.contains { $0.rule == "UPD406" }, "\(found.map(\.rule))")
    }

    /// The always-on probe's default timeout over a short run: the finding is at the run's
    /// timeout, the value that makes the conflict, not at the top of the file.
    @Test func probeTimeoutOverRunPointsAtTheShortTimeout() throws {
        let found = try findings(
            "updates:\n  server: https://u.example.com\n  public_key: /k.pub\n  healthcheck:\n    timeout: 5s\n")
        let over = try #require(found.first { $0.rule == "UPD402" })
        #expect((over.line, over.column, over.endColumn) == (5, 14, 16))
    }

    /// No link leads to a site that does not exist: SARIF carries the rule's docs path in its help
    /// and no `helpUri`; the step summary links nowhere; the schema has no `$id` URL.
    @Test func noReportLinksToAnInventedSite() throws {
        let policy = "updates:\n  server: https://u.example.com\n"
        let sarif = try lint(policy, format: "sarif")
        #expect(!sarif.stdout.contains("\"helpUri\""))
        #expect(!sarif.stdout.contains("\"informationUri\""))
        #expect(sarif.stdout.contains("docs/lint-rules.md#upd406-unauthenticated-updates"))
        let directory = try TemporaryDirectory()
        let summary = directory.url.appendingPathComponent("summary.md").path
        _ = try lint(policy, format: "github", environment: ["GITHUB_STEP_SUMMARY": summary])
        let written = try String(contentsOfFile: summary, encoding: .utf8)
        #expect(written.contains("UPD406"))
        #expect(!written.contains("](http"), "\(written)")
        #expect(!(try CLI.run(["schema"]).stdout.contains("\"$id\"")))
    }

    /// The job summary shows control characters as the other formats do, not dropped or turned
    /// into line breaks.
    @Test func theStepSummaryShowsControlCharacters() throws {
        let directory = try TemporaryDirectory()
        let summary = directory.url.appendingPathComponent("summary.md").path
        _ = try lint(
            "updates:\n  server: https://u.example.com\n  \"we\\rird\": 1\n  \"two\\r\\nlines\": 2\n", format: "github",
            environment: ["GITHUB_STEP_SUMMARY": summary])
        let written = try String(contentsOfFile: summary, encoding: .utf8)
        #expect(written.contains("we\\rird"), "\(written)")
        #expect(written.contains("two\\r\\nlines"), "\(written)")
        #expect(!written.contains("<br>") && !written.contains("\r"))
    }
}
