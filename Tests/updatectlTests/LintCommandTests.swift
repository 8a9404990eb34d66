import Foundation
import Testing
import UpdatePolicy

enum Paths {
    static let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let root = tests.deletingLastPathComponent().deletingLastPathComponent()
    static func fixture(_ name: String) -> String { tests.appendingPathComponent("Fixtures/\(name)").path }
}

/// Golden files under Snapshots/; `UPDATE_SNAPSHOTS=1 swift test` re-records them on purpose.
func assertSnapshot(_ text: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let url = Paths.tests.appendingPathComponent("Snapshots/\(name)")
    if ProcessInfo.processInfo.environment["UPDATE_SNAPSHOTS"] == "1" {
        try Data(text.utf8).write(to: url)
        return
    }
    let expected = try String(contentsOf: url, encoding: .utf8)
    #expect(text == expected, "snapshot \(name) differs; UPDATE_SNAPSHOTS=1 swift test re-records it", sourceLocation: sourceLocation)
}

@Suite struct LintCommandTests {
    /// Runs lint from the test directory, so paths in reports are relative and stable.
    func lint(_ arguments: [String], environment: [String: String] = [:]) throws -> CLI.Result {
        try CLI.run(["lint"] + arguments, environment: environment, directory: Paths.tests)
    }

    @Test(arguments: ["text", "concise", "json", "sarif", "github", "gitlab"])
    func everyFormatMatchesItsSnapshot(format: String) throws {
        let result = try lint(["--format", format, "Fixtures/broken.yaml"])
        #expect(result.status == 1)
        // SARIF names the working directory (originalUriBaseIds): where the checkout is varies.
        try assertSnapshot(result.stdout.replacingOccurrences(of: Paths.tests.path, with: "$TESTS"), named: "broken.\(format).txt")
    }

    /// `lint --explain` without a code lists every rule (docs/lint-rules.md sends users there);
    /// with one it explains it; with an unknown one it says how to list them.
    @Test func explainWithoutACodeListsTheRules() throws {
        let listed = try CLI.run(["lint", "--explain"])
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.split(separator: "\n").filter { $0.hasPrefix("UPD") }.count == Rules.all.count)
        #expect(listed.stdout.contains("UPD406  unauthenticated-updates"))
        #expect(try CLI.run(["lint", "--explain", "--format", "json"]).status == 0)
        let one = try CLI.run(["lint", "--explain", "UPD401"])
        #expect(one.stdout.hasPrefix("UPD401 settle-not-under-timeout"))
        let unknown = try CLI.run(["lint", "--explain", "UPD999"])
        #expect(unknown.status == 2 && unknown.stderr.contains("`updatectl lint --explain` lists them"))
    }

    @Test func jsonCarriesEveryFieldAndTheSummary() throws {
        let result = try lint(["--format", "json", "Fixtures/broken.yaml"])
        let object = try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["schema_version"] as? Int == 1)
        let findings = try #require(object["findings"] as? [[String: Any]])
        let first = try #require(findings.first)
        for key in ["file", "line", "column", "end_line", "end_column", "severity", "rule", "name", "message", "help", "notes", "fixes"] {
            #expect(first[key] != nil, "missing \(key)")
        }
        let summary = try #require(object["summary"] as? [String: Int])
        #expect(summary["files"] == 1)
        #expect(summary["errors"] == findings.count { $0["severity"] as? String == "error" })
    }

    @Test func githubIsTheDefaultInsideActionsAndEscapesProperties() throws {
        let result = try lint(["Fixtures/broken.yaml"], environment: ["GITHUB_ACTIONS": "true"])
        #expect(result.stdout.hasPrefix("::warning file=Fixtures/broken.yaml,line=3,col=11,"))
        #expect(result.stdout.contains("title=UPD404 rollback-off::"))
        #expect(result.stdout.contains("%0Ahelp: "))
        #expect(result.stdout.contains("title=UPD201 unknown-key::unknown key `chanel` in updates"))
    }

    @Test func githubPropertiesAreEscapedAsTheToolkitDoes() throws {
        let directory = try TemporaryDirectory()
        try directory.write("a,b:c.yaml", "updates:\n  server: https://u.example.com\n  reboot: 50%\n")
        let result = try CLI.run(["lint", "--format", "github", "a,b:c.yaml"], directory: directory.url)
        #expect(result.stdout.contains("::error file=a%2Cb%3Ac.yaml,line=3,col=11,endLine=3,endColumn=14,title=UPD308 bad-value::"))
        #expect(result.stdout.contains("found `50%25`"))
    }

    @Test func exitCodesFollowFailOn() throws {
        let clean = Paths.root.appendingPathComponent("policies").path
        #expect(try lint([clean]).status == 0)
        #expect(try lint(["Fixtures/broken.yaml"]).status == 1)
        #expect(try lint(["--fail-on", "none", "Fixtures/broken.yaml"]).status == 0)
        let warningsOnly = try CLI.run(
            ["lint", "-", "--fail-on", "warning"],
            stdin: Data("updates:\n  server: https://u.example.com\n  channel: on\n".utf8))
        #expect(warningsOnly.status == 1)
        let infoOnly = try CLI.run(["lint", "-"], stdin: Data("updates:\n  server: https://u.example.com\n".utf8))
        #expect(infoOnly.status == 0)
        #expect(infoOnly.stdout.contains("info[UPD406]"))
    }

    @Test func unreadablePathsAndBadFlagsExitTwo() throws {
        let missing = try lint(["/nonexistent/policy.yaml"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("cannot read /nonexistent/policy.yaml: No such file or directory"))
        #expect(try lint(["--format", "xml", "Fixtures/broken.yaml"]).status == 2)
        #expect(try lint([]).status == 2)
    }

    @Test func directoriesAreSearchedAndStdinIsNamedStdin() throws {
        let directory = try TemporaryDirectory()
        try directory.write("a/one.yaml", "updates:\n  server: https://u.example.com\n  reboot: maybe\n")
        try directory.write("a/b/two.yml", "updates:\n  server: ftp://x\n")
        try directory.write("a/notes.txt", "not yaml")
        let result = try CLI.run(["lint", "--format", "concise", directory.url.appendingPathComponent("a").path])
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(
            lines.contains {
                $0.hasSuffix("b/two.yml:2:11: error[UPD303] `server` may not use the `ftp` scheme; it takes `https`, `http`, `file`")
            })
        #expect(lines.contains { $0.contains("one.yaml:3:11: error[UPD308]") })
        let stdin = try CLI.run(["lint", "--format", "concise", "-"], stdin: Data("updates:\n  sever: x\n".utf8))
        #expect(stdin.stdout.contains("<stdin>:2:3: error[UPD201] [*] unknown key `sever` in updates"))
    }

    @Test func manyFilesInOneProcessKeepTheirOrder() throws {
        let directory = try TemporaryDirectory()
        for index in 0..<40 {
            try directory.write(String(format: "p%02d.yaml", index), "updates:\n  server: https://u.example.com\n  reboot: r\(index)\n")
        }
        let result = try CLI.run(["lint", "--format", "concise", directory.url.path])
        let files = result.stdout.split(separator: "\n").filter { $0.contains("UPD308") }.map { $0.split(separator: ":")[0] }
        #expect(files.count == 40)
        #expect(files == files.sorted())
    }

    @Test func outputWritesTheReportToAFile() throws {
        let directory = try TemporaryDirectory()
        let target = directory.url.appendingPathComponent("report.sarif").path
        let result = try lint(["--format", "sarif", "--output", target, "Fixtures/broken.yaml"])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        let written = try String(contentsOfFile: target, encoding: .utf8)
        #expect(written.contains("\"version\": \"2.1.0\""))
    }

    @Test func explainPrintsTheRulesDocumentation() throws {
        let result = try CLI.run(["lint", "--explain", "UPD404"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("UPD404 rollback-off (warning, cross-field rules)"))
        #expect(result.stdout.contains("# updatectl: disable=UPD404"))
        #expect(try CLI.run(["lint", "--explain", "rollback-off"]).stdout == result.stdout)
        #expect(try CLI.run(["lint", "--explain", "UPD999"]).status == 2)
    }

    /// A policy whose findings carry fixes: a misspelt key and a duration in words (safe), a
    /// suppression naming no rule with several close codes (unsafe), after a comment of multi-byte
    /// characters, so a byte offset is not a character offset.
    static let fixable =
        "# caf\u{e9} \u{2615}\nupdates:\n  server: https://u.example.com  # updatectl: disable=UPD46\n"
        + "  healthcheck: {timeout: 5 minutes}\n  chanel: edge\n"

    func lintFixable(_ format: String) throws -> CLI.Result {
        try CLI.run(["lint", "--format", format, "-"], stdin: Data(Self.fixable.utf8))
    }

    /// Every JSON finding lists its fixes (`[]` when none); a fix's edits, applied to the file's
    /// bytes, give the fixed file.
    @Test func jsonFixesAreEditsOfTheFilesBytes() throws {
        let object = try #require(JSONSerialization.jsonObject(with: Data(try lintFixable("json").stdout.utf8)) as? [String: Any])
        let findings = try #require(object["findings"] as? [[String: Any]])
        #expect(findings.count == 4)
        #expect(findings.allSatisfy { $0["fixes"] is [Any] })
        #expect((findings.first { $0["rule"] as? String == "UPD406" }?["fixes"] as? [Any])?.isEmpty == true)
        func fix(_ rule: String) throws -> [String: Any] {
            try #require((findings.first { $0["rule"] as? String == rule }?["fixes"] as? [[String: Any]])?.first)
        }
        #expect(try fix("UPD201")["title"] as? String == "write `channel`")
        #expect(try fix("UPD201")["safety"] as? String == "safe")
        #expect(try fix("UPD301")["title"] as? String == "write `5m`")
        #expect(try fix("UPD002")["safety"] as? String == "unsafe")
        var bytes = Array(Self.fixable.utf8)
        let edits = try ["UPD201", "UPD301"].flatMap { try #require(try fix($0)["edits"] as? [[String: Any]]) }
        for edit in edits.sorted(by: { ($0["start"] as? Int ?? 0) > ($1["start"] as? Int ?? 0) }) {
            let start = try #require(edit["start"] as? Int), end = try #require(edit["end"] as? Int)
            bytes.replaceSubrange(start..<end, with: Array(try #require(edit["text"] as? String).utf8))
        }
        #expect(
            String(decoding: bytes, as: UTF8.self)
                == "# caf\u{e9} \u{2615}\nupdates:\n  server: https://u.example.com  # updatectl: disable=UPD46\n"
                + "  healthcheck: {timeout: 5m}\n  channel: edge\n")
    }

    /// The text format names the fix and the flags that apply it, and its summary counts the
    /// findings `--fix` resolves; concise marks those with `[*]`.
    @Test func textAndConciseSayWhatLintFixResolves() throws {
        let text = try lintFixable("text").stdout
        #expect(text.contains("  = help: did you mean `channel`?\n  = fix: write `channel` (updatectl lint --fix)\n"))
        #expect(text.contains("  = fix: write `UPD406` (updatectl lint --fix --unsafe-fixes)\n"))
        #expect(
            text.hasSuffix(
                "1 file checked: 2 errors, 1 warning, 1 info; 2 fixable with `updatectl lint --fix` (1 more with `--unsafe-fixes`)\n"))
        let concise = try lintFixable("concise").stdout
        #expect(concise.contains("<stdin>:5:3: error[UPD201] [*] unknown key `chanel` in updates\n"))
        #expect(concise.contains("warning[UPD002] `UPD46`"))
        #expect(concise.contains("info[UPD406] no public_key"))
        let github = try lintFixable("github").stdout
        #expect(github.contains("%0Afix: write `channel` (updatectl lint --fix)"))
    }

    /// `--explain` says whether and how `lint --fix` fixes a rule's findings; the list marks the
    /// rules with fixes.
    @Test func explainSaysWhetherLintFixFixesTheRule() throws {
        let duration = try CLI.run(["lint", "--explain", "UPD301"]).stdout
        #expect(
            duration.contains(
                "\nAutomatic fix: safe where the replacement is certain (`updatectl lint --fix` applies it), "
                    + "else unsafe (only with `--unsafe-fixes`).\n\nExample:"))
        #expect(try CLI.run(["lint", "--explain", "UPD309"]).stdout.contains("Automatic fix: safe (`updatectl lint --fix` applies it"))
        #expect(!(try CLI.run(["lint", "--explain", "UPD306"]).stdout.contains("Automatic fix")))
        let list = try CLI.run(["lint", "--explain"]).stdout.split(separator: "\n")
        #expect(list.contains { $0.hasPrefix("UPD201  unknown-key") && $0.contains(" error    [*] ") })
        #expect(list.contains { $0.hasPrefix("UPD306  bad-time-of-day") && !$0.contains("[*]") })
        #expect(list.contains { $0.hasPrefix("[*]: `updatectl lint --fix`") })
    }

    @Test func noInlineDisableReportsSilencedFindings() throws {
        let policy = Paths.root.appendingPathComponent("policies/default.yaml").path
        let result = try CLI.run(["lint", "--format", "concise", "--no-inline-disable", policy])
        #expect(result.stdout.contains("UPD404"))
        #expect(result.stdout.contains("UPD406"))
    }
}

@Suite struct SchemaCommandTests {
    @Test func everyShippedPolicyValidatesAgainstTheExportedSchema() throws {
        let directory = try TemporaryDirectory()
        let schema = try CLI.run(["schema"])
        #expect(schema.status == 0)
        try directory.write("schema.json", schema.stdout)
        let policies = ["policies/default.yaml", "policies/hardened.yaml", "examples/cloud-init/user-data.yaml"]
            .map { Paths.root.appendingPathComponent($0).path }
        let script = """
            import json, sys, yaml, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft202012Validator.check_schema(schema)
            validator = jsonschema.Draft202012Validator(schema)
            bad = yaml.safe_load("updates:\\n  server: ftp://x\\n  reboot: sometimes\\n  sever: 1\\n")
            assert len(list(validator.iter_errors(bad))) >= 2, "the schema accepts a bad policy"
            for path in sys.argv[2:]:
                errors = [e.message for e in validator.iter_errors(yaml.safe_load(open(path)))]
                if errors:
                    print(path, errors)
                    sys.exit(1)
            print("ok", len(sys.argv) - 2)
            """
        try directory.write("check.py", script)
        let python = try #require(TestComponents.python(modules: ["jsonschema", "yaml"]), "python3 with jsonschema and yaml")
        let result = try CLI.runProgram(
            python,
            [
                directory.url.appendingPathComponent("check.py").path,
                directory.url.appendingPathComponent("schema.json").path,
            ] + policies)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout == "ok 3\n")
    }

    /// Thousands of one finding do not bury the report: the text shows the first 20 of a rule in
    /// a file and says how many more; concise (and json) list every one; the summary counts all.
    @Test func manyFindingsOfOneRuleAreBoundedInTheText() throws {
        let directory = try TemporaryDirectory()
        let gates = (0..<2000).map { "    - exec: {name: g\($0), command: [/bin/true], colour: red}" }.joined(separator: "\n")
        try directory.write("many.yaml", "updates:\n  server: https://u.example.com\n  preflight:\n\(gates)\n")
        let path = directory.url.appendingPathComponent("many.yaml").path
        let text = try CLI.run(["lint", path])
        #expect(text.status == 1)
        #expect(text.stdout.components(separatedBy: "error[UPD201]").count - 1 == 20, "\(text.stdout.prefix(400))")
        #expect(text.stdout.contains("note: 1980 more UPD201 findings in \(path) not shown (--format concise or json lists every one)"))
        #expect(text.stdout.contains("1 file checked: 2000 errors"))
        let concise = try CLI.run(["lint", "--format", "concise", path])
        #expect(concise.stdout.components(separatedBy: "error[UPD201]").count - 1 == 2000)
    }
}
