import Foundation
import Testing

/// `lint`'s CI formats as their consumers read them: the official SARIF 2.1.0 schema and
/// sarif-tools, GitHub's annotation limits and job summary, GitLab's fingerprints.
@Suite struct CIFormatConsumerTests {
    static let python = TestComponents.python(modules: ["jsonschema"])
    static let sarifTools = TestComponents.program("sarif")

    /// A checkout with a policy of many findings (fixes among them: a misspelt key, a duration in
    /// words), one of a single finding, and lint run from it.
    func checkout() throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        var many = "updates:\n  server: https://u.example.com\n  public_key: ed25519:Hn1+J4gUuOPxSNmoJfiFmdZ3Rvb4vnwYrH7s+dqvFiU=\n"
        many += "  preflight:\n"
        for index in 0..<12 { many += "    - exec: {name: e\(index), command: [relative-\(index)]}\n" }
        many += "  healthcheck: {interval: 200ms, timeout: 5 minutes}\n  chanel: edge\n"
        try directory.write("policies/many.yaml", many)
        try directory.write("policies/one.yaml", "updates:\n  server: https://u.example.com\n  reboot: maybe\n")
        return directory
    }

    func lint(_ arguments: [String], in directory: TemporaryDirectory, environment: [String: String] = [:]) throws -> CLI.Result {
        try CLI.run(["lint"] + arguments, environment: environment, directory: directory.url)
    }

    @Test(.enabled(if: python != nil))
    func sarifValidatesAgainstTheOfficialSchema() throws {
        let directory = try checkout()
        let result = try lint(["--format", "sarif", "policies/", "missing.yaml"], in: directory)
        #expect(result.status == 2, "an unreadable input is a usage error")
        try directory.write("out.sarif", result.stdout)
        try directory.write(
            "validate.py",
            """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            log = json.load(open(sys.argv[2]))
            errors = sorted(str(e.message) for e in jsonschema.Draft4Validator(schema).iter_errors(log))
            print(json.dumps(errors))
            """)
        let schema = Paths.fixture("schemas/sarif-schema-2.1.0.json")
        let checked = try CLI.runProgram(
            try #require(Self.python),
            [
                directory.url.appendingPathComponent("validate.py").path, schema,
                directory.url.appendingPathComponent("out.sarif").path,
            ])
        #expect(checked.stdout == "[]\n", "\(checked.stdout)\(checked.stderr)")

        let log = try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let run = try #require((log["runs"] as? [[String: Any]])?.first)
        // What GitHub code scanning reads beyond the schema.
        #expect((run["automationDetails"] as? [String: Any])?["id"] as? String == "updatectl/lint/")
        let base = try #require((run["originalUriBaseIds"] as? [String: [String: String]])?["%SRCROOT%"]?["uri"])
        #expect(base == "file://" + directory.url.path + "/")
        let invocation = try #require((run["invocations"] as? [[String: Any]])?.first)
        #expect(invocation["executionSuccessful"] as? Bool == false)
        let notifications = try #require(invocation["toolExecutionNotifications"] as? [[String: Any]])
        #expect(notifications.count == 1)
        let rules = try #require(((run["tool"] as? [String: Any])?["driver"] as? [String: Any])?["rules"] as? [[String: Any]])
        for rule in rules {
            // No published site: no `helpUri` (an absolute URI in SARIF), the docs path in the help.
            #expect(rule["helpUri"] == nil)
            let markdown = try #require((rule["help"] as? [String: String])?["markdown"])
            #expect(markdown.contains("**Fix:**") && markdown.contains("docs/lint-rules.md#upd"))
        }
        let results = try #require(run["results"] as? [[String: Any]])
        #expect(results.count >= 13)
        // The schema checked fixes too: there are some.
        #expect(results.count { ($0["fixes"] as? [Any])?.isEmpty == false } >= 2)
        for result in results {
            #expect((result["partialFingerprints"] as? [String: String])?["updatectl/v1"]?.count == 32)
            let artifact = try #require(
                (((result["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])?["artifactLocation"])
                    as? [String: String])
            #expect(artifact["uriBaseId"] == "%SRCROOT%")
            #expect(artifact["uri"]?.hasPrefix("policies/") == true)
        }
    }

    /// A SARIF fix replaces text regions of the result's own file (the same `artifactLocation`),
    /// by line and code-point column as the run's `columnKind` says, with its safety alongside.
    @Test func sarifFixesReplaceTextRegionsOfTheResultsFile() throws {
        let directory = try checkout()
        try directory.write(
            "policies/many.yaml",
            "# caf\u{e9} \u{2615}\n" + (try String(contentsOf: directory.url.appendingPathComponent("policies/many.yaml"), encoding: .utf8))
        )
        let log = try #require(
            JSONSerialization.jsonObject(with: Data(try lint(["--format", "sarif", "policies/"], in: directory).stdout.utf8))
                as? [String: Any])
        let run = try #require((log["runs"] as? [[String: Any]])?.first)
        #expect(run["columnKind"] as? String == "unicodeCodePoints")
        #expect(run["defaultEncoding"] as? String == "utf-8")
        let results = try #require(run["results"] as? [[String: Any]])
        #expect(results.contains { $0["ruleId"] as? String == "UPD406" && $0["fixes"] == nil })
        for (rule, text) in [("UPD201", "channel"), ("UPD301", "5m")] {
            let result = try #require(results.first { $0["ruleId"] as? String == rule })
            let physical = try #require((result["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
            let fix = try #require((result["fixes"] as? [[String: Any]])?.first)
            #expect((fix["description"] as? [String: String])?["text"] == "write `\(text)`")
            #expect((fix["properties"] as? [String: String])?["safety"] == "safe")
            let change = try #require((fix["artifactChanges"] as? [[String: Any]])?.first)
            #expect(change["artifactLocation"] as? [String: String] == physical["artifactLocation"] as? [String: String])
            let replacement = try #require((change["replacements"] as? [[String: Any]])?.first)
            // The edit spans the finding here, so its region is the result's.
            #expect(replacement["deletedRegion"] as? [String: Int] == physical["region"] as? [String: Int])
            #expect((replacement["insertedContent"] as? [String: String])?["text"] == text)
        }
    }

    @Test(.enabled(if: sarifTools != nil))
    func sarifToolsCountsTheFindings() throws {
        let directory = try checkout()
        let result = try lint(["--format", "sarif", "--output", "out.sarif", "policies/"], in: directory)
        #expect(result.status == 1)
        let summary = try CLI.runProgram(
            try #require(Self.sarifTools), ["summary", directory.url.appendingPathComponent("out.sarif").path],
            directory: directory.url)
        #expect(summary.status == 0, "\(summary.stderr)")
        let json = try lint(["--format", "json", "policies/"], in: directory)
        let counts = try #require(
            (JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])?["summary"] as? [String: Int])
        #expect(summary.stdout.contains("error: \(counts["errors"]!)\n"), "\(summary.stdout)")
        #expect(summary.stdout.contains("warning: \(counts["warnings"]!)\n"), "\(summary.stdout)")
    }

    /// GitHub shows ten annotations of a kind per step: a summary line follows them, and the job
    /// summary holds every finding.
    @Test func githubGetsASummaryLineAndAJobSummary() throws {
        let directory = try checkout()
        let summaryFile = directory.url.appendingPathComponent("step-summary.md").path
        try "earlier step\n".write(toFile: summaryFile, atomically: true, encoding: .utf8)
        let result = try lint(["policies/"], in: directory, environment: ["GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summaryFile])
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n")
        let errors = lines.filter { $0.hasPrefix("::error ") }.count
        #expect(errors > 10)
        #expect(lines.last?.hasPrefix("updatectl lint: 2 files checked: \(errors) errors") == true, "\(lines.last ?? "")")
        #expect(lines.last?.contains("GitHub shows the first 10 annotations of each kind; every finding is in the job summary") == true)
        let summary = try String(contentsOfFile: summaryFile, encoding: .utf8)
        #expect(summary.hasPrefix("earlier step\n### updatectl lint\n"))
        let rows = summary.split(separator: "\n").filter { $0.hasPrefix("| policies/") }
        #expect(rows.count == lines.filter { $0.hasPrefix("::") }.count)
        #expect(rows.contains { $0.contains("| policies/one.yaml:3:11 | UPD308 bad-value |") })
        #expect(summary.contains("`updatectl lint --explain CODE`"))
    }

    /// Fingerprints survive lines inserted above; the unused-suppression message names no line.
    @Test func gitlabFingerprintsSurviveUnrelatedEdits() throws {
        let directory = try TemporaryDirectory()
        let body =
            "  server: https://u.example.com\n  reboot: auto  # updatectl: disable=UPD404\n  channel: edge  # updatectl: disable=UPD999\n"
        try directory.write("p.yaml", "updates:\n" + body)
        let before = try lint(["--format", "gitlab", "p.yaml"], in: directory)
        try directory.write("p.yaml", "# a comment\n# another\nupdates:\n" + body)
        let after = try lint(["--format", "gitlab", "p.yaml"], in: directory)
        func fingerprints(_ text: String) throws -> [String] {
            try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]]).compactMap {
                $0["fingerprint"] as? String
            }
        }
        let first = try fingerprints(before.stdout)
        #expect(first.count >= 2)
        #expect(try fingerprints(after.stdout) == first)
        #expect(before.stdout.contains("silences nothing: its line has no such finding"))
    }

    @Test func theSameFileNamedTwiceIsCheckedOnce() throws {
        let directory = try checkout()
        let result = try lint(
            [
                "--format", "json", "policies/one.yaml", "./policies/one.yaml", "policies/../policies/one.yaml",
                directory.url.appendingPathComponent("policies/one.yaml").path,
            ], in: directory)
        let object = try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect((object["summary"] as? [String: Int])?["files"] == 1)
        let files = Set((object["findings"] as? [[String: Any]] ?? []).compactMap { $0["file"] as? String })
        #expect(files == ["policies/one.yaml"])
    }

    /// One line per finding, always, even when a key holds a newline.
    @Test func conciseIsOneLinePerFinding() throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            "p.yaml", "updates:\n  server: https://u.example.com  # updatectl: disable=UPD406\n  \"bad\\nkey\": 1\n  reboot: \"a\\nb\"\n")
        let result = try lint(["--format", "concise", "p.yaml"], in: directory)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
        #expect(lines.count == 2, "\(result.stdout)")
        #expect(lines.allSatisfy { $0.hasPrefix("p.yaml:") })
        #expect(result.stdout.contains("bad\\nkey"))
    }

    /// Every format names files the same way: relative under the working directory, absolute
    /// outside it, `<stdin>` for standard input.
    @Test(arguments: ["text", "concise", "json", "github", "gitlab"])
    func pathsAreNamedTheSameInEveryFormat(format: String) throws {
        let directory = try checkout()
        let outside = try TemporaryDirectory()
        try outside.write("far.yaml", "updates:\n  server: https://u.example.com\n  reboot: maybe\n")
        let result = try CLI.run(
            ["lint", "--format", format, "./policies/one.yaml", outside.url.appendingPathComponent("far.yaml").path, "-"],
            stdin: Data("updates:\n  server: https://u.example.com\n  reboot: maybe\n".utf8), directory: directory.url)
        #expect(result.stdout.contains("policies/one.yaml"))
        #expect(!result.stdout.contains("./policies/one.yaml"))
        #expect(result.stdout.contains(outside.url.appendingPathComponent("far.yaml").path))
        #expect(result.stdout.contains("<stdin>"))
    }
}
