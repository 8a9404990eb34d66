import UpdatePlan
import UpdatePolicy
import YAMLTree

/// What the fuzzer drives, and what the test suite replays its corpus through: raw bytes through
/// the YAML tree, policy decoding, lint, the planner and both plan renderings, and the scenario
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
            precondition(finding.start.offset <= bytes.count && finding.end.offset <= bytes.count + 1,
                         "a finding points past the end of the input")
            digest &+= finding.start.line
        }
        if result.errorCount == 0, let policy = result.policy {
            let plan = Planner.plan(policy)
            digest &+= PlanText.render(plan).utf8.count
            digest &+= PlanJSON.render(plan).render().utf8.count
            digest &+= plan.resume(from: .activated).index
        }
        let scenario = ScenarioLinter.lint(bytes, file: "fuzz.yaml")
        digest &+= scenario.result.findings.count
        return digest
    }
}
