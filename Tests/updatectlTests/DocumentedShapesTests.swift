import Foundation
import JSONValue
import Testing

/// The JSON shapes docs/plan.md and docs/state.md document field by field are exactly what the
/// commands print: every field documented, no field missing from the docs.
@Suite struct DocumentedShapesTests {
    /// The first-column field names of the table under `<!-- fields: NAME -->` in `page`.
    static func documented(_ name: String, in page: String) throws -> Set<String> {
        let text = try String(contentsOf: Paths.root.appendingPathComponent("docs/\(page)"), encoding: .utf8)
        let marker = try #require(text.range(of: "<!-- fields: \(name) -->\n"), "no field table \(name) in \(page)")
        var fields = Set<String>()
        for line in text[marker.upperBound...].split(separator: "\n", omittingEmptySubsequences: false).dropFirst(2) {
            guard line.hasPrefix("| `") else { break }
            fields.insert(String(line.dropFirst(3).prefix { $0 != "`" }))
        }
        return fields
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func planJSONMatchesItsDocs() throws {
        let directory = try TemporaryDirectory()
        try directory.write("state.json", "{\"phase\": \"activated\"}\n")
        let result = try CLI.run(
            [
                "plan", "--format", "json", "examples/cloud-init/user-data.yaml", "--state",
                directory.url.appendingPathComponent("state.json").path,
            ], directory: Paths.root)
        let plan = try Self.object(result.stdout)
        #expect(Set(plan.keys) == (try Self.documented("plan", in: "plan.md")))
        let steps = try #require(plan["steps"] as? [[String: Any]])
        var stepKeys = Set<String>()
        for step in steps { stepKeys.formUnion(step.keys) }
        #expect(stepKeys == (try Self.documented("plan.steps", in: "plan.md")))
        #expect(Set(try #require(plan["resume"] as? [String: Any]).keys) == (try Self.documented("plan.resume", in: "plan.md")))
        #expect(steps.contains { $0["default"] as? Bool == true } && steps.contains { $0["default"] as? Bool == false })
    }

    @Test func planDiffJSONMatchesItsDocs() throws {
        let result = try CLI.run(
            ["plan", "--diff", "--format", "json", "policies/default.yaml", "policies/hardened.yaml"],
            directory: Paths.root)
        let diff = try Self.object(result.stdout)
        #expect(Set(diff.keys) == (try Self.documented("diff", in: "plan.md")))
        var changeKeys = Set<String>()
        for change in try #require(diff["changes"] as? [[String: Any]]) { changeKeys.formUnion(change.keys) }
        #expect(changeKeys == (try Self.documented("diff.changes", in: "plan.md")))
    }

    @Test func statusJSONMatchesItsDocs() throws {
        let directory = try TemporaryDirectory()
        try directory.write("state.json", "{\"phase\": \"idle\"}\n")
        let result = try CLI.run(["status", "--format", "json", "--state", directory.url.appendingPathComponent("state.json").path])
        #expect(Set(try Self.object(result.stdout).keys) == (try Self.documented("status", in: "state.md")))
    }
}
