import Foundation
import JSONValue
import Testing
import UpdatePlan
import UpdatePolicy
import YAMLTree

enum Paths {
    static let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let root = tests.deletingLastPathComponent().deletingLastPathComponent()
}

/// Lints and compiles a policy file, failing the test on lint errors.
func compile(_ path: String, relativeTo base: URL = Paths.root) throws -> Plan {
    let bytes = try Array(Data(contentsOf: base.appendingPathComponent(path)))
    let result = PolicyLinter.lint(bytes, file: path, options: .tests)
    #expect(result.errorCount == 0, "\(result.findings.map { "\($0.rule)@\($0.start): \($0.message)" })")
    return Planner.plan(try #require(result.policy))
}

func compile(text: String) throws -> Plan {
    let result = PolicyLinter.lint(Array(text.utf8), file: "policy.yaml", options: .tests)
    #expect(result.errorCount == 0, "\(result.findings.map { "\($0.rule)@\($0.start): \($0.message)" })")
    return Planner.plan(try #require(result.policy))
}

/// Golden files under Snapshots/; `UPDATE_SNAPSHOTS=1 swift test` re-records them on purpose.
func assertSnapshot(_ text: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let url = Paths.tests.appendingPathComponent("Snapshots/\(name)")
    if ProcessInfo.processInfo.environment["UPDATE_SNAPSHOTS"] == "1" {
        try Data(text.utf8).write(to: url)
        return
    }
    let expected = try String(contentsOf: url, encoding: .utf8)
    #expect(
        text == expected, "snapshot \(name) differs; UPDATE_SNAPSHOTS=1 swift test re-records it",
        sourceLocation: sourceLocation)
}

@Suite struct PlanGoldenTests {
    static let policies = [
        "policies/default.yaml", "policies/hardened.yaml", "policies/kubesolo.yaml", "policies/fleet.yaml",
        "examples/cloud-init/user-data.yaml",
        "Tests/UpdatePlanTests/Fixtures/every-kind.yaml",
    ]

    @Test(arguments: policies)
    func textAndJSONPlansMatchTheirGoldenFiles(path: String) throws {
        let plan = try compile(path)
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        try assertSnapshot(PlanText.render(plan), named: "\(name).plan.txt")
        try assertSnapshot(PlanJSON.render(plan).render() + "\n", named: "\(name).plan.json")
    }
}

@Suite struct PlannerTests {
    @Test func theLifecycleRunsInOrder() throws {
        let plan = try compile("Tests/UpdatePlanTests/Fixtures/every-kind.yaml")
        #expect(
            plan.steps.map(\.id) == [
                "initialize.fleet_lock", "check.metadata", "check.signature", "check.version",
                "preflight.channel", "preflight.architecture", "preflight.min_compatible_version", "preflight.rollout_wave",
                "preflight.free_space", "preflight.node_not_blocked", "preflight.maintenance_window",
                "preflight.max_attempts", "preflight.no_downgrade", "preflight.rollout", "preflight.battery",
                "preflight.fleet-ok",
                "download.files", "verify.files", "verify.signatures", "stage.slot", "preflight.fleet_lock", "activate.slot", "reboot.auto",
                "boot.slot", "healthcheck.settle", "healthcheck.rounds",
                "healthcheck.probe.app", "healthcheck.probe.apiserver", "healthcheck.probe.etcd",
                "healthcheck.probe.scratch", "healthcheck.probe.kube_system_ready", "healthcheck.probe.disk_writable",
                "healthcheck.commit", "healthcheck.failure", "healthcheck.rollback", "release.fleet_lock",
            ])
        #expect(plan.steps.filter { $0.part == .apply }.map(\.phase).uniqued() == [.checking, .downloading, .staged, .activated])
        #expect(plan.steps[plan.postBootStart].id == "boot.slot")
    }

    @Test func withoutAPublicKeyThereIsNoSignatureStep() throws {
        let plan = try compile(text: "updates:\n  server: https://u.example.com # updatectl: disable=UPD406\n")
        #expect(!plan.steps.contains { $0.id == "check.signature" })
        #expect(PlanText.render(plan).contains("signature  off"))
    }

    @Test func everyDefaultShowsUpMarkedAsADefault() throws {
        let plan = try compile(text: "updates:\n  server: https://u.example.com # updatectl: disable=UPD406\n")
        // Nothing but the server was written: every parameter but server is a default.
        let written = plan.steps.flatMap(\.parameters).filter { !$0.origin.isDefault }.map(\.name)
        #expect(written == ["server"])
        let ids = plan.steps.map(\.id)
        for id in [
            "preflight.free_space", "preflight.node_not_blocked", "healthcheck.settle",
            "healthcheck.probe.kube_system_ready", "healthcheck.probe.disk_writable", "reboot.manual",
        ] {
            #expect(ids.contains(id))
        }
        for step in plan.steps where step.id != "check.metadata" { #expect(step.origin.isDefault, "\(step.id)") }
        let text = PlanText.render(plan)
        #expect(text.contains("headroom: 10% [default]"))
        #expect(text.contains("timeout: 5m [default]"))
        let json = PlanJSON.render(plan)
        guard case .array(let steps)? = json["steps"] else {
            Issue.record("no steps")
            return
        }
        #expect(
            steps.allSatisfy { step in
                guard case .array(let parameters)? = step["parameters"] else { return false }
                return parameters.allSatisfy { $0["default"] == .bool($0["name"]?.stringValue != "server") }
            })
    }

    @Test func originsPointIntoThePolicy() throws {
        let plan = try compile("Tests/UpdatePlanTests/Fixtures/every-kind.yaml")
        let window = try #require(plan.steps.first { $0.id == "preflight.maintenance_window" })
        #expect(window.origin.mark?.line == 8 && window.origin.mark?.column == 7)
        let start = try #require(window.parameters.first { $0.name == "start" })
        #expect(start.origin.mark?.line == 8)
        #expect(start.value == .time(TimeOfDay(hour: 23, minute: 0)))
    }

    @Test(arguments: [
        (Phase.idle, "check.metadata"), (.success, "check.metadata"), (.failed, "check.metadata"),
        (.rolledBack, "check.metadata"), (.checking, "check.metadata"), (.downloading, "check.metadata"),
        (.staged, "activate.slot"), (.activated, "boot.slot"), (.verifying, "boot.slot"),
    ])
    func aStatePhaseSaysWhereTheNextRunResumes(phase: Phase, step: String) throws {
        let plan = try compile("policies/hardened.yaml")
        let resume = plan.resume(from: phase)
        #expect(plan.steps[resume.index].id == step)
        #expect(PlanText.render(plan, resume: resume).contains("=> resume at step \(resume.index + 1)"))
    }

    /// Every probe becomes one step (the cost per probe is measured by `updatectl-bench`).
    @Test func twoThousandProbesCompileToTwoThousandProbeSteps() throws {
        var text = "updates:\n  server: https://u.example.com # updatectl: disable=UPD406\n  auto_rollback_after: 3\n"
        text += "  healthcheck:\n    probes:\n"
        for index in 0..<2_000 { text += "      - tcp: {name: p\(index), address: \"127.0.0.1:\(index + 1)\"}\n" }
        let plan = try compile(text: text)
        #expect(plan.steps.count { $0.kind == .probe } == 2_002)
    }
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}

extension LintOptions {
    /// Lint in tests: a fixed list of zones, so plans do not depend on the host's zoneinfo.
    static let tests = LintOptions(timeZones: TimeZoneNames(["Europe/Berlin", "America/New_York"]))
}
