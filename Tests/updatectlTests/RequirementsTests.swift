import Foundation
import Testing

/// Every program a test starts is one that `scripts/test.sh` installs (scripts/requirements.txt),
/// so that the README's test command passes on a fresh machine and nothing skips in CI.
@Suite struct RequirementsTests {
    /// Files allowed to create processes: they start `updatectl` or a path their caller got from
    /// `TestComponents`.
    static let spawners: Set<String> = ["CLI.swift", "Background.swift"]

    /// What a test source does that the set-up would not cover.
    static func violations(in source: String, file: String) -> [String] {
        var found: [String] = []
        for name in matches(#"TestComponents\.program\("([^"]+)"\)"#, in: source)
        where !TestComponents.isListed("command", name) {
            found.append("\(file): starts `\(name)`, which scripts/requirements.txt does not list")
        }
        for list in matches(#"TestComponents\.python\(modules:\s*\[([^\]]*)\]"#, in: source) {
            for module in matches(#""([^"]+)""#, in: list) where !TestComponents.isListed("python", module) {
                found.append("\(file): imports the Python module `\(module)`, which scripts/requirements.txt does not list")
            }
        }
        for path in matches(#"runProgram\(\s*"([^"]+)""#, in: source) + matches(#"fileURLWithPath:\s*"(/[^"]+)"\)\s*$"#, in: source) {
            found.append("\(file): starts \(path) by a path of its own; ask TestComponents.program for it")
        }
        if !spawners.contains(file), source.contains("Process()") {
            found.append("\(file): creates a Process; start programs through CLI.runProgram with a TestComponents path")
        }
        return found
    }

    static func matches(_ pattern: String, in text: String) -> [String] {
        let regex = try! NSRegularExpression(pattern: pattern, options: [.anchorsMatchLines])
        let range = NSRange(text.startIndex..., in: text)
        return regex.matches(in: text, range: range).compactMap { match in
            Range(match.range(at: 1), in: text).map { String(text[$0]) }
        }
    }

    @Test func everyProgramATestStartsIsInstalledByTheSetUp() throws {
        let tests = Paths.root.appendingPathComponent("Tests")
        let files = try #require(FileManager.default.enumerator(at: tests, includingPropertiesForKeys: nil))
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" && $0.lastPathComponent != "RequirementsTests.swift" }
        #expect(files.count > 20)
        var found: [String] = []
        for file in files {
            found += Self.violations(in: try String(contentsOf: file, encoding: .utf8), file: file.lastPathComponent)
        }
        #expect(found.isEmpty, "\(found.joined(separator: "\n"))")
    }

    @Test func theCheckCatchesAProgramTheSetUpDoesNotInstall() {
        let source = """
            let etcd = TestComponents.program("not-a-listed-tool")
            let py = TestComponents.python(modules: ["yaml", "not_a_listed_module"])
            let server = Process()
            _ = try CLI.runProgram("/usr/bin/something", [])
            """
        let found = Self.violations(in: source, file: "Example.swift")
        #expect(found.count == 4, "\(found)")
        #expect(found.contains { $0.contains("`not-a-listed-tool`") })
        #expect(found.contains { $0.contains("`not_a_listed_module`") })
        #expect(found.contains { $0.contains("/usr/bin/something") })
        #expect(Self.violations(in: "TestComponents.program(\"kubectl\")", file: "Example.swift").isEmpty)
    }

    @Test func theManifestIsWellFormed() throws {
        let requirements = TestComponents.requirements
        #expect(requirements.count >= 8)
        for requirement in requirements {
            #expect(["image", "build", "release", "demo", "test"].contains(requirement.group), "\(requirement)")
            #expect(["command", "python", "pkgconfig", "file", "library"].contains(requirement.kind), "\(requirement)")
            #expect(["apt", "pip", "image"].contains(requirement.source.split(separator: ":").first.map(String.init)), "\(requirement)")
        }
    }

    /// After `scripts/test.sh` set the machine up, everything it lists is there: a missing
    /// component fails here rather than silently skipping the tests that need it.
    @Test(.enabled(if: TestComponents.setUp)) func everythingTheManifestListsIsPresentAfterSetUp() throws {
        for requirement in TestComponents.requirements {
            let present: Bool
            switch requirement.kind {
            case "command": present = TestComponents.onPath(requirement.name) != nil
            case "python":
                present =
                    (try? CLI.runProgram(try #require(TestComponents.onPath("python3")), ["-c", "import \(requirement.name)"]))?.status == 0
            case "file": present = FileManager.default.fileExists(atPath: requirement.name)
            case "pkgconfig":
                present =
                    (try? CLI.runProgram(try #require(TestComponents.onPath("pkg-config")), ["--exists", requirement.name]))?.status == 0
            case "library":
                present = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib", "/lib"]
                    .contains { FileManager.default.fileExists(atPath: "\($0)/\(requirement.name)") }
            default: present = false
            }
            #expect(present, "scripts/test.sh ran, but \(requirement.kind) \(requirement.name) (\(requirement.source)) is missing")
        }
    }
}
