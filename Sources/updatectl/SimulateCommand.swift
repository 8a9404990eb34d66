import ArgumentParser
import JSONValue
import UpdateAgent
import UpdatePolicy
import YAMLTree

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Replay a policy against a scripted world and print the timeline, on virtual time.",
        discussion: """
            The scenario (YAML, linted like a policy) scripts what the policy meets: the release \
            offered, the signature, the download, what the gates find, whether the new slot boots, \
            and each probe's outcome round by round. The real executor and state machine run \
            against it on a virtual clock. When the scenario declares `expect:`, a different \
            outcome exits 1, so scenarios can live in CI next to their policies.

            \(ExitStatus.helpTable(for: [.success, .failure, .usage]))
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Argument(help: "The policy file; without one, the search order of docs/policy-discovery.md.", completion: .file())
    var policy: String?

    @Option(help: "The scenario file.", completion: .file())
    var scenario: String

    @Option(help: "Output format: text or json.")
    var format: Format = .text

    func run() throws {
        guard let path = try PolicyLocator.resolve(policy).path else { throw ExitStatus.usage.exitCode }
        let loaded = try PolicyLoader.load(path)
        let bytes: [UInt8]
        do {
            bytes = try SourceReader.read(path: scenario, maxBytes: 1 << 20)
        } catch {
            printError("error: cannot read \(scenario): \(error.reason)")
            throw ExitStatus.usage.exitCode
        }
        let (parsed, lint) = ScenarioLinter.lint(bytes, file: DisplayPath.relative(scenario), policy: loaded)
        if !lint.findings.isEmpty {
            let report = LintReport(files: [LintReport.File(path: DisplayPath.relative(scenario), result: lint)])
            printErrorText(TextRenderer.render(report))
        }
        guard let parsed else {
            // A CI step that reads the JSON gets the findings (lint's JSON form), not an empty document.
            if format == .json {
                print(JSONRenderer.render(LintReport(files: [LintReport.File(path: DisplayPath.relative(scenario), result: lint)])))
            }
            printError("error: \(scenario) has errors, so nothing was simulated")
            throw ExitStatus.failure.exitCode
        }
        let result: SimulationResult
        do {
            result = try Simulator.run(policy: loaded, scenario: parsed)
        } catch let error as SystemError {
            printError("error: \(error)")
            throw ExitStatus.failure.exitCode
        }
        switch format {
        case .text: printText(SimulationText.render(result, policy: loaded.file, scenario: parsed))
        case .json: print(SimulationText.json(result, policy: loaded.file, scenario: parsed).render())
        }
        if result.mismatch != nil { throw ExitStatus.failure.exitCode }
    }
}

enum SimulationText {
    /// The timeline, one line per event; a value of the scenario's (a release's channel, a
    /// command's answer) is escaped in its line (`VisibleText`).
    static func render(_ result: SimulationResult, policy: String, scenario: Scenario) -> String {
        var out = "Simulation of \(policy) with \(scenario.file)\n"
        if let description = scenario.description { out += "  \(description)\n" }
        out += "\n"
        let width = max(6, result.events.map { Simulator.format($0.offset).count + 2 }.max() ?? 6)
        for event in result.events {
            let time = ("t+" + Simulator.format(event.offset)).padding(width)
            if event.step == "-" {
                out +=
                    "  \(time)  \(event.phase.padding(12)) \(event.decision == "event" ? "--" : "  ") \(VisibleText.escape(event.detail))\n"
            } else {
                out +=
                    "  \(time)  \(event.phase.padding(12)) \(event.step.padding(34)) \(event.decision.padding(5)) \(VisibleText.escape(event.detail))\n"
            }
        }
        out += "\nOutcome: \(result.summary)"
        if let expected = scenario.expectedOutcome { out += " (expected: \(expected))" }
        out += "\n"
        if let mismatch = result.mismatch { out += "MISMATCH: \(mismatch)\n" }
        return out
    }

    static func json(_ result: SimulationResult, policy: String, scenario: Scenario) -> JSON {
        .object([
            ("simulation_version", .int(1)),
            ("policy", .string(policy)),
            ("scenario", .string(scenario.file)),
            (
                "events",
                .array(
                    result.events.map { event in
                        .object([
                            ("t", .string("t+" + Simulator.format(event.offset))),
                            ("seconds", .int(Int(event.offset.components.seconds))),
                            ("phase", .string(event.phase)),
                            ("step", .string(event.step)),
                            ("decision", .string(event.decision)),
                            ("detail", .string(event.detail)),
                        ])
                    })
            ),
            ("outcome", .string(result.outcome)),
            ("summary", .string(result.summary)),
            ("runs", .int(result.runs)),
            ("at_seconds", .int(Int(result.at.components.seconds))),
            ("expected", .optional(scenario.expectedOutcome)),
            ("mismatch", .optional(result.mismatch)),
        ])
    }
}
