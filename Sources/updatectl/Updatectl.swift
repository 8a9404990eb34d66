import ArgumentParser
import CSupport

#if canImport(Glibc)
import Glibc
#endif

@main
struct Updatectl: ParsableCommand {
    static let version = "0.1.0"

    /// `--version`: the version, and the commit a release build was stamped with.
    static var versionLine: String {
        let commit = String(cString: csupport_build_commit())
        return commit.isEmpty ? "\(version) (development build, no commit stamped)" : "\(version) (commit \(commit))"
    }

    static let configuration = CommandConfiguration(
        commandName: "updatectl",
        abstract: "Declarative, policy-driven A/B updates for Linux nodes.",
        discussion: """
            updatectl reads an update policy (the `updates:` section of a cloud-init user-data \
            file, or a file holding only that), checks it, and drives the node's A/B update \
            state machine through it.

            \(ExitStatus.helpTable)
            """,
        version: versionLine,
        subcommands: [
            Lint.self, PlanCommand.self, CheckCommand.self, ApplyCommand.self, ActivateCommand.self, HealthcheckCommand.self,
            AgentCommand.self, RollbackCommand.self, FleetCommand.self, SimulateCommand.self, StatusCommand.self, StateCommand.self,
            Schema.self, Tree.self,
        ]
    )

    /// The arguments after the program's name: from argv as the process received it. (Swift's
    /// static runtime reads /proc/self/cmdline instead, which is not there before /proc is
    /// mounted; the runtime's answer is the fallback on a C library that does not hand argv to
    /// initialisers.)
    static var commandLine: [String] {
        let argc = Int(csupport_argc())
        guard argc > 0, let argv = csupport_argv() else { return Array(CommandLine.arguments.dropFirst()) }
        return (1..<argc).map { argv[$0].map { String(cString: $0) } ?? "" }
    }

    /// Parses the command line and runs the command it names, with updatectl's exit statuses:
    /// help, `--version` and completion scripts print and exit 0; a usage mistake (an unknown
    /// option, a missing argument, a failed `validate()`) prints the message and the usage and
    /// exits 2, not ArgumentParser's 64; a command ends with its own status (`ExitCode`), and any
    /// other error is printed as `error: …` and exits 1.
    static func main() {
        do {
            var command = try parseAsRoot(Lint.listingRules(commandLine))
            try command.run()
        } catch let stop as ExitCode {
            Glibc.exit(stop.rawValue)
        } catch {
            // ArgumentParser's own outcomes (help, `help COMMAND`, usage errors) come from the
            // parse or from the run of its help command; every other error is updatectl's.
            switch exitCode(for: error) {
            case .success:
                print(fullMessage(for: error))
                Glibc.exit(ExitStatus.success.rawValue)
            case .validationFailure:
                printErrorText(fullMessage(for: error) + "\n")
                Glibc.exit(ExitStatus.usage.rawValue)
            default:
                printError("error: \(error)")
                Glibc.exit(ExitStatus.failure.rawValue)
            }
        }
        Glibc.exit(ExitStatus.success.rawValue)
    }
}
