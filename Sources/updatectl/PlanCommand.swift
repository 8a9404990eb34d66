import ArgumentParser
import JSONValue
import UpdateAgent
import UpdatePlan
import UpdatePolicy
import YAMLTree

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Compile a policy and print the ordered plan of every step a run takes (a dry run).",
        discussion: """
            Every step shows its phase, kind, parameters (defaults marked [default]) and where in \
            the policy it came from. A policy with lint errors has no plan: the errors are printed \
            as `lint` prints them and the exit status is 1.

              updatectl plan POLICY [--format text|json] [--state FILE]
              updatectl plan --diff OLD NEW

            --diff compares the compiled plans, not the text: steps added, removed or moved and \
            parameters changed. It exits 0 when the plans are equal and 1 when they differ.

            \(ExitStatus.helpTable(for: [.success, .failure, .usage]))
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Argument(
        help: "The policy file (two with --diff: OLD NEW); without one, the search order of docs/policy-discovery.md.", completion: .file())
    var paths: [String] = []

    @Option(help: "Output format: text or json.")
    var format: Format = .text

    @Option(help: "A state.json: mark the step where the next run would resume.", completion: .file())
    var state: String?

    @Flag(help: "Compare the plans of two policies.")
    var diff = false

    @OptionGroup var flags: PolicyFlags

    func validate() throws {
        if diff {
            guard paths.count == 2 else { throw ValidationError("--diff takes two policies: OLD NEW.") }
            guard state == nil else { throw ValidationError("--state does not go with --diff.") }
        } else {
            guard paths.count <= 1 else { throw ValidationError("Give one policy file (or two with --diff).") }
        }
    }

    func run() throws {
        if diff {
            let old = try compile(paths[0])
            let new = try compile(paths[1])
            let changes = PlanDiff.diff(old, new)
            switch format {
            case .text:
                if changes.isEmpty {
                    printLine("The plans are equal.")
                } else {
                    for change in changes { printLine("\(symbol(change.kind)) \(change.message)") }
                    printLine("\(changes.count) change\(changes.count == 1 ? "" : "s")")
                }
            case .json:
                print(
                    JSON.object([
                        ("plan_version", .int(PlanJSON.version)),
                        ("old", .string(old.policyFile)),
                        ("new", .string(new.policyFile)),
                        ("equal", .bool(changes.isEmpty)),
                        (
                            "changes",
                            .array(
                                changes.map { change in
                                    .object([
                                        ("kind", .string(change.kind.rawValue)), ("step", .optional(change.step)),
                                        ("message", .string(change.message)),
                                    ])
                                })
                        ),
                    ]).render())
            }
            if !changes.isEmpty { throw ExitStatus.failure.exitCode }
            return
        }
        let (path, searched) = try PolicyLocator.resolve(paths.first, confFound: flags.standAlone)
        if searched, let path { printError("using the policy \(path) (found by the search order; see docs/policy-discovery.md)") }
        if path == nil { printError("using \(flags.confPath ?? "the command line's flags") alone (no YAML policy was found)") }
        let plan = Planner.plan(try PolicyLoader.loadWithSource(path, consequence: "so it has no plan", flags: flags).policy)
        var resume: Plan.Resume?
        if let state {
            resume = plan.resume(from: try Self.readState(state).phase)
        }
        switch format {
        case .text: printText(PlanText.render(plan, resume: resume))
        case .json: print(PlanJSON.render(plan, resume: resume).render())
        }
    }

    private func symbol(_ kind: PlanDiff.Change.Kind) -> String {
        switch kind {
        case .added: "+"
        case .removed: "-"
        case .moved: "~"
        case .changed, .policy: "*"
        }
    }

    /// Lints and compiles a policy; lint errors print as `lint` prints them and exit 1.
    private func compile(_ path: String) throws -> Plan {
        Planner.plan(try PolicyLoader.load(path, consequence: "so it has no plan"))
    }

    /// The state, read without changing anything on disk.
    static func readState(_ path: String) throws -> UpdateState {
        let reading: StateStore.Reading
        do {
            reading = try StateStore(path: path).read()
        } catch {
            printError("error: cannot read the state file \(path): \(error)")
            throw ExitStatus.usage.exitCode
        }
        switch reading {
        case .state(let state): return state
        case .missing:
            printError("error: the state file \(path) does not exist")
            throw ExitStatus.usage.exitCode
        case .broken(let problem):
            // A broken state file is a failure, as every command says it (docs/exit-codes.md); a
            // path that cannot be read at all is a usage error.
            printError("error: the state file \(path) is not valid: \(problem)")
            throw ExitStatus.failure.exitCode
        }
    }
}
