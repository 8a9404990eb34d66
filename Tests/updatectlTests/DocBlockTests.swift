import Foundation
import Testing
import UpdatePolicy
import YAMLTree

/// One fenced block of README.md or docs/*.md: where it is, its info string (the language and
/// `key=value` attributes after it) and its text.
struct DocBlock: Sendable, CustomTestStringConvertible {
    var file: String
    var line: Int
    var language: String
    var attributes: [String: String]
    var text: String

    var testDescription: String { "\(file):\(line)" }

    /// `yaml expect=UPD401 skip="a manifest"` → ("yaml", ["expect": "UPD401", "skip": "a manifest"]).
    static func parse(info: String) -> (language: String, attributes: [String: String]) {
        var rest = Substring(info)
        let language = String(rest.prefix { $0 != " " })
        rest = rest.dropFirst(language.count)
        var attributes: [String: String] = [:]
        while true {
            rest = rest.drop { $0 == " " }
            guard !rest.isEmpty else { break }
            let name = String(rest.prefix { $0 != "=" && $0 != " " })
            rest = rest.dropFirst(name.count)
            var value = ""
            if rest.first == "=" {
                rest = rest.dropFirst()
                if rest.first == "\"" {
                    rest = rest.dropFirst()
                    value = String(rest.prefix { $0 != "\"" })
                    rest = rest.dropFirst(value.count + 1)
                } else {
                    value = String(rest.prefix { $0 != " " })
                    rest = rest.dropFirst(value.count)
                }
            }
            attributes[name] = value
        }
        return (language, attributes)
    }

    /// Every fenced block of README.md and docs/*.md, in file order.
    static let all: [DocBlock] = {
        let root = Paths.root
        let docs = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("docs").path)) ?? []
        let files = ["README.md"] + docs.filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
        var blocks: [DocBlock] = []
        for file in files {
            guard let text = try? String(contentsOf: root.appendingPathComponent(file), encoding: .utf8) else { continue }
            var open: (line: Int, info: String, lines: [Substring])?
            for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                if line.hasPrefix("```") {
                    if let block = open {
                        let (language, attributes) = parse(info: block.info)
                        blocks.append(
                            DocBlock(
                                file: file, line: block.line, language: language, attributes: attributes,
                                text: block.lines.joined(separator: "\n") + "\n"))
                        open = nil
                    } else {
                        open = (index + 1, String(line.dropFirst(3)), [])
                    }
                } else if open != nil {
                    open?.lines.append(line)
                }
            }
        }
        return blocks
    }()

    static func of(_ languages: Set<String>) -> [DocBlock] { all.filter { languages.contains($0.language) } }

    /// The top-level keys of a YAML text (lines that start with a key at column 1).
    var topLevelKeys: [String] {
        text.split(separator: "\n").compactMap { line in
            guard let first = line.first, first.isLetter || first == "_", let colon = line.firstIndex(of: ":") else { return nil }
            return String(line[..<colon])
        }
    }
}

/// The docs are executed: every YAML block is linted (a policy, a fragment of one, a scenario) or,
/// when it is another file (a workflow, a manifest), at least parsed, with what it is stated;
/// every JSON block parses; every shell block runs or states why it cannot here. A block opts out
/// only with `skip="reason"` in its info string, and the reason is required.
@Suite struct DocBlockTests {
    /// Attributes a block may carry, by language.
    static let known: [String: Set<String>] = [
        "yaml": ["skip", "expect", "kind", "file"],
        "ini": ["skip", "expect", "file"],
        "json": ["skip"],
        "sh": ["skip", "run", "cwd", "given", "with"],
        "console": ["skip", "run", "cwd", "given", "with"],
    ]

    func checkAttributes(_ block: DocBlock) {
        let allowed = Self.known[block.language] ?? []
        for name in block.attributes.keys {
            #expect(allowed.contains(name), "\(block.testDescription): unknown attribute `\(name)` for a \(block.language) block")
        }
        if let reason = block.attributes["skip"] {
            #expect(reason.count >= 8, "\(block.testDescription): `skip` needs a stated reason")
        }
    }

    @Test func theRunnerSeesTheBlocks() {
        #expect(DocBlock.of(["yaml"]).count >= 50)
        #expect(DocBlock.of(["sh", "console"]).count >= 8)
        #expect(
            DocBlock.parse(info: #"yaml expect=UPD401 skip="a reason here""#).attributes == ["expect": "UPD401", "skip": "a reason here"])
    }

    /// A policy (it has `updates:`), a fragment of one (every top-level key is a policy key: it is
    /// linted under `updates:` beside a server), a scenario (`scenario:`), or another file whose
    /// `kind` is stated and which must at least parse.
    @Test(arguments: DocBlock.of(["yaml", "ini"]))
    func aYAMLBlockLints(_ block: DocBlock) throws {
        checkAttributes(block)
        if block.attributes["skip"] != nil { return }
        let keys = block.topLevelKeys
        let policyKeys = Set(PolicySchema.updates.keys.map(\.name))
        let directory = try TemporaryDirectory()
        if keys.contains("scenario") {
            let (_, result) = ScenarioLinter.lint(Array(block.text.utf8), file: block.testDescription)
            let errors = result.findings.filter { $0.severity == .error }.map { "\($0.rule.rawValue) \($0.message)" }
            #expect(errors.isEmpty, "\(block.testDescription): \(errors)")
            return
        }
        var text = block.text
        let expected = Set((block.attributes["expect"] ?? "").split(separator: ",").map(String.init))
        let lines = block.text.split(separator: "\n", omittingEmptySubsequences: false)
        let namesAServer = lines.contains { line in
            let trimmed = line.drop { $0 == " " }
            return line.first == " " && (trimmed.hasPrefix("server:") || trimmed.hasPrefix("registry:"))
        }
        if keys.contains("updates"), !namesAServer, !expected.contains("UPD204"), let at = lines.firstIndex(of: "updates:") {
            // A fragment written under `updates:`: linted beside a server, as a policy has one.
            var withServer = lines.map(String.init)
            withServer.insert("  server: https://updates.example.com", at: at + 1)
            text = withServer.joined(separator: "\n")
        } else if !expected.isEmpty {
            // An example of a finding: linted as it is written.
        } else if !keys.contains("updates"), !keys.isEmpty, keys.allSatisfy(policyKeys.contains) {
            let indented = block.text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "  " + $0 }
            let server = keys.contains("server") || keys.contains("registry") ? "" : "  server: https://updates.example.com\n"
            text = "updates:\n" + server + indented.joined(separator: "\n")
        } else if !keys.contains("updates") {
            let kind = try #require(
                block.attributes["kind"], "\(block.testDescription): not a policy or a scenario: say what it is with kind=…")
            #expect(!kind.isEmpty)
            let document = YAMLParser.parse(Array(block.text.utf8))
            #expect(document.problems.isEmpty, "\(block.testDescription) does not parse: \(document.problems)")
            return
        }
        let name = block.attributes["file"] ?? "policy.yaml"
        try directory.write(name, text)
        let lint = try CLI.run(["lint", "--format", "json", directory.url.appendingPathComponent(name).path])
        let report = try JSONSerialization.jsonObject(with: Data(lint.stdout.utf8)) as? [String: Any]
        let findings = (report?["findings"] as? [[String: Any]]) ?? []
        let errors = findings.filter { $0["severity"] as? String == "error" }.compactMap { $0["rule"] as? String }
        let unexpected = errors.filter { !expected.contains($0) }
        #expect(unexpected.isEmpty, "\(block.testDescription): lint errors \(unexpected): \(lint.stdout)")
        let seen = Set(findings.compactMap { $0["rule"] as? String })
        #expect(expected.isSubset(of: seen), "\(block.testDescription): expected \(expected.sorted()), found \(seen.sorted())")
    }

    @Test(arguments: DocBlock.of(["json"]))
    func aJSONBlockParses(_ block: DocBlock) throws {
        checkAttributes(block)
        if block.attributes["skip"] != nil { return }
        #expect(throws: Never.self, "\(block.testDescription)") {
            _ = try JSONSerialization.jsonObject(with: Data(block.text.utf8), options: [.fragmentsAllowed])
        }
    }

    /// A shell block runs with `updatectl` on PATH (`run`), in a fresh folder holding the files
    /// `given` names (with `cwd=repo`, the repository's files too, linked), with the placeholders
    /// `with="NAME=path;…"` replaced, and must exit 0; one that cannot run here says why
    /// (`skip="…"`).
    @Test(arguments: DocBlock.of(["sh", "console"]))
    func aShellBlockRuns(_ block: DocBlock) throws {
        checkAttributes(block)
        if block.attributes["skip"] != nil { return }
        #expect(block.attributes["run"] != nil, "\(block.testDescription): a shell block says `run` or `skip=\"why\"`")
        guard block.attributes["run"] != nil else { return }
        let directory = try TemporaryDirectory()
        for name in (block.attributes["given"] ?? "").split(separator: " ") {
            try directory.write(String(name), "given \(name)\n")
        }
        if block.attributes["cwd"] == "repo" {
            for entry in try FileManager.default.contentsOfDirectory(atPath: Paths.root.path) where !entry.hasPrefix(".") {
                try FileManager.default.createSymbolicLink(
                    at: directory.url.appendingPathComponent(entry), withDestinationURL: Paths.root.appendingPathComponent(entry))
            }
        }
        var script = block.text
        for pair in (block.attributes["with"] ?? "").split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            #expect(script.contains(parts[0]), "\(block.testDescription): the placeholder \(parts[0]) is not in the block")
            script = script.replacingOccurrences(of: parts[0], with: parts[1])
        }
        let bash = try #require(TestComponents.program("bash"))
        let path = CLI.binary.deletingLastPathComponent().path + ":/usr/local/bin:/usr/bin:/bin"
        let result = try CLI.runProgram(
            bash, ["-euo", "pipefail", "-c", script], environment: ["PATH": path], directory: directory.url)
        #expect(result.status == 0, "\(block.testDescription) exited \(result.status): \(result.stdout)\(result.stderr)")
    }
}
