import JSONValue
import UpdateAgent
import UpdatePlan
import UpdatePolicy
import YAMLTree

/// What the fuzzer drives, and what the test suite replays its corpus through: raw bytes through
/// the YAML tree, policy decoding, lint and its fixes, the planner and both plan renderings, and the scenario
/// reader. Any crash, trap or hang here is a finding.
public enum FuzzHarness {
    /// A fixed zone list, so a run does not depend on the host's zoneinfo.
    static let options = LintOptions(timeZones: TimeZoneNames(["Europe/Berlin", "America/New_York", "Asia/Tokyo"]))

    /// Returns a small digest so the work cannot be optimised away.
    @discardableResult
    public static func run(_ bytes: [UInt8]) -> Int {
        let result = PolicyLinter.lint(bytes, file: "fuzz.yaml", options: options)
        var digest = result.findings.count
        for finding in result.findings {
            // Every position must lie inside the input.
            precondition(
                finding.start.offset <= bytes.count && finding.end.offset <= bytes.count + 1,
                "a finding points past the end of the input")
            digest &+= finding.start.line
        }
        if result.errorCount == 0, let policy = result.policy {
            let plan = Planner.plan(policy)
            digest &+= PlanText.render(plan).utf8.count
            digest &+= PlanJSON.render(plan).render().utf8.count
            digest &+= plan.resume(from: .activated).index
        }
        // Fixing keeps every byte outside the edits and a readable file readable.
        for safety in Fix.Safety.allCases {
            if let problem = FixCheck.violation(fixing: bytes, safety: safety, options: options) { preconditionFailure(problem) }
        }
        let scenario = ScenarioLinter.lint(bytes, file: "fuzz.yaml")
        digest &+= scenario.result.findings.count
        return digest
    }

    /// The JSON side, for what reads JSON from outside: the strict reader (both ways of taking
    /// bytes that are not UTF-8), the state file's decoder (the Go agent and whoever can write
    /// the data partition write it) and the release metadata's (any update server). A value that
    /// parses renders to text that parses back to the same value; a state that decodes writes
    /// bytes that decode to the same bytes.
    @discardableResult
    public static func runJSON(_ bytes: [UInt8]) -> Int {
        var digest = 0
        for lossy in [false, true] {
            guard let value = try? JSON.parse(bytes, replacingInvalidUTF8: lossy) else { continue }
            for indent in [0, 2] {
                let text = Array(value.render(indent: indent).utf8)
                guard let again = try? JSON.parse(text) else { preconditionFailure("rendered JSON does not parse") }
                precondition(again == value, "rendered JSON parses to another value")
                digest &+= text.count
            }
        }
        if let state = try? UpdateState.decode(bytes) {
            let written = state.fileBytes
            guard let again = try? UpdateState.decode(written) else { preconditionFailure("a written state does not decode") }
            precondition(again.fileBytes == written, "a written state decodes to another state")
            digest &+= written.count
        }
        if let metadata = try? ReleaseMetadata.parse(bytes, metadataURL: "https://updates.example.com/latest.json", serverIsFile: false) {
            digest &+= metadata.files.count + metadata.version.utf8.count
        }
        return digest
    }
}
