import Foundation
import UpdatePolicy
import YAMLTree

/// A policy fixture whose `«CODE»` markers say where a finding with that rule must land; the
/// markers are removed before linting. `# message: …` and `# help: …` comment lines give text the
/// findings must contain.
struct MarkedFixture {
    struct Expected: Hashable, CustomStringConvertible {
        var rule: String
        var line: Int
        var column: Int
        var description: String { "\(rule)@\(line):\(column)" }
    }

    var name: String
    var source: [UInt8]
    var expected: [Expected]
    var messages: [String]
    var helps: [String]

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    init(path: String) throws {
        name = path
        let text = try String(contentsOf: Self.directory.appendingPathComponent(path), encoding: .utf8)
        var clean = ""
        var expected: [Expected] = []
        var line = 1
        var column = 1
        var scalars = Array(text.unicodeScalars)[...]
        while let scalar = scalars.first {
            if scalar == "«", let close = scalars.firstIndex(of: "»") {
                var rule = ""
                rule.unicodeScalars.append(contentsOf: scalars[scalars.index(after: scalars.startIndex)..<close])
                expected.append(Expected(rule: rule, line: line, column: column))
                scalars = scalars[scalars.index(after: close)...]
                continue
            }
            clean.unicodeScalars.append(scalar)
            if scalar == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
            scalars = scalars.dropFirst()
        }
        source = Array(clean.utf8)
        self.expected = expected
        let lines = clean.split(separator: "\n").map(String.init)
        messages = lines.filter { $0.hasPrefix("# message: ") }.map { String($0.dropFirst("# message: ".count)) }
        helps = lines.filter { $0.hasPrefix("# help: ") }.map { String($0.dropFirst("# help: ".count)) }
    }

    func lint(options: LintOptions = .tests) -> LintResult {
        name.hasSuffix(".conf")
            ? PolicyLinter.lintConf(source, file: name, options: options)
            : PolicyLinter.lint(source, file: name, options: options)
    }
}

extension LintOptions {
    /// Lint in tests: a fixed list of zones, so results do not depend on the host's zoneinfo.
    static let tests = LintOptions(
        timeZones: TimeZoneNames([
            "Europe/Berlin", "Europe/London", "Europe/Paris", "America/New_York", "America/Los_Angeles", "Asia/Tokyo",
            "Australia/Sydney",
        ]))
}
