import Foundation
import UpdatePlan
import UpdatePolicy

@testable import UpdateAgent

/// The real `ApplyRun` and `HealthcheckRun` in this process, on the simulated world of a
/// scenario (`SimulationSetup`: virtual clock, scripted server, node, fleet and backend), with
/// the state in a scratch folder. A backend operation can be made to fail (`failing`).
final class ExecutorHarness {
    struct Unusable: Error, CustomStringConvertible {
        var description: String
    }

    let scratch: URL
    let setup: SimulationSetup
    var environment: AgentEnvironment

    /// `policy` and `scenario` are YAML texts; `failing` names backend operations that throw.
    init(policy: String, scenario: String, failing: Set<FailingBackend.Operation> = []) throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("updatectl-executor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let linted = PolicyLinter.lint(Array(policy.utf8), file: "policy.yaml", options: LintOptions(timeZones: ZoneInfo()))
        let errors = linted.findings.filter { $0.severity == .error }
        guard errors.isEmpty, let decoded = linted.policy else {
            throw Unusable(description: "policy: " + errors.map { "\($0.rule) \($0.message)" }.joined(separator: "; "))
        }
        let (parsed, result) = ScenarioLinter.lint(Array(scenario.utf8), file: "scenario.yaml")
        guard let parsed, !result.findings.contains(where: { $0.severity == .error }) else {
            throw Unusable(description: "scenario: " + result.findings.map { "\($0.rule) \($0.message)" }.joined(separator: "; "))
        }
        setup = try SimulationSetup(policy: decoded, scenario: parsed, scratch: scratch.path)
        environment = setup.environment
        if !failing.isEmpty { environment.backend = FailingBackend(setup.backend, failing: failing) }
    }

    deinit { try? FileManager.default.removeItem(at: scratch) }

    var plan: Plan { setup.plan }

    func apply(dryRun: Bool = false, checkOnly: Bool = false) throws -> ApplyOutcome {
        var run = ApplyRun(plan: setup.plan, policy: setup.policy, policySHA256: nil, environment: environment)
        run.dryRun = dryRun
        run.checkOnly = checkOnly
        return try run.run()
    }

    func activate() throws -> ApplyOutcome {
        try ApplyRun(plan: setup.plan, policy: setup.policy, policySHA256: nil, environment: environment).activate()
    }

    func healthcheck() throws -> HealthcheckOutcome {
        try HealthcheckRun(plan: setup.plan, policy: setup.policy, environment: environment).run()
    }

    /// The node reboots (into what the backend activated, or falls back as scripted).
    func reboot() throws {
        setup.clock.sleep(for: .seconds(60))
        try setup.backend.reboot()
    }

    func state() throws -> UpdateState {
        guard case .state(let state) = try environment.store.read() else { throw Unusable(description: "no state file") }
        return state
    }

    /// The last run's step records: step id → decision.
    func decisions() throws -> [String: String] {
        Dictionary(try state().lastRun.map { ($0.step, $0.decision) }, uniquingKeysWith: { $1 })
    }

    /// Every step the reporter was told of, in order: "step decision".
    var reported: [String] {
        setup.reporter.events.filter { $0.step != "-" }.map { "\($0.step) \($0.decision)" }
    }

    /// Paths in the simulated backend's scratch folder (the downloaded files).
    func files() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: scratch.path)) ?? [] }
}

/// A backend whose named operations throw; every other call goes to the wrapped one.
final class FailingBackend: UpdateBackend, @unchecked Sendable {
    enum Operation: Hashable { case prepareFiles, stage, activate, reboot, commit, rollback }

    // `@unchecked Sendable`: both properties are constants and `SimulatedBackend` is itself safe.
    let base: SimulatedBackend
    let failing: Set<Operation>

    init(_ base: SimulatedBackend, failing: Set<Operation>) {
        self.base = base
        self.failing = failing
    }

    private func check(_ operation: Operation) throws {
        if failing.contains(operation) { throw BackendError("\(operation) failed (scripted)") }
    }

    func bootedSlot() throws -> Slot { try base.bootedSlot() }
    func runningVersion() throws -> String { try base.runningVersion() }
    func imageDirectory(for slot: Slot) -> String { base.imageDirectory(for: slot) }
    func prepareFiles(for slot: Slot, names: [String]) throws -> [String: String] {
        try check(.prepareFiles)
        return try base.prepareFiles(for: slot, names: names)
    }
    func stage(files: [String: String], slot: Slot, version: String, fromVersion: String) throws {
        try check(.stage)
        try base.stage(files: files, slot: slot, version: version, fromVersion: fromVersion)
    }
    func invalidate(slot: Slot, keepingDownloads: Bool) { base.invalidate(slot: slot, keepingDownloads: keepingDownloads) }
    func activate(slot: Slot, version: String, fromVersion: String) throws {
        try check(.activate)
        try base.activate(slot: slot, version: version, fromVersion: fromVersion)
    }
    func reboot() throws {
        try check(.reboot)
        try base.reboot()
    }
    func commit(slot: Slot, version: String) throws {
        try check(.commit)
        try base.commit(slot: slot, version: version)
    }
    func rollback(to slot: Slot, version: String, fromVersion: String) throws {
        try check(.rollback)
        try base.rollback(to: slot, version: version, fromVersion: fromVersion)
    }
    func bootID() throws -> String { try base.bootID() }
    func nextSlot() throws -> Slot? { try base.nextSlot() }
    func committedVersion() throws -> String? { try base.committedVersion() }
    func confirmBoot() throws -> String? { try base.confirmBoot() }
    func slotSpace(for slot: Slot, replacing names: [String]) throws -> SlotSpace? {
        try base.slotSpace(for: slot, replacing: names)
    }
    func removeLeftovers(slot: Slot) throws -> [String] { try base.removeLeftovers(slot: slot) }
    var lockPath: String? { base.lockPath }
}
