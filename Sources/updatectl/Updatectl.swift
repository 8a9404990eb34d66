import CSupport

@main
struct Updatectl: Command {
    static let version = "0.1.0"

    /// `--version`: the version, and the commit a release build was stamped with.
    static var versionLine: String {
        let commit = String(cString: csupport_build_commit())
        return commit.isEmpty ? "\(version) (development build, no commit stamped)" : "\(version) (commit \(commit))"
    }

    static let info = CommandInfo(
        name: "updatectl",
        abstract: "Declarative, policy-driven A/B updates for Linux nodes.",
        discussion: """
            updatectl reads an update policy (the `updates:` section of a cloud-init user-data \
            file, or a file holding only that), checks it, and drives the node's A/B update \
            state machine through it.

            \(ExitStatus.helpTable)
            """,
        version: versionLine,
        subcommands: [Lint.self, PlanCommand.self, CheckCommand.self, ApplyCommand.self, ActivateCommand.self, HealthcheckCommand.self, RollbackCommand.self, FleetCommand.self, SimulateCommand.self, StatusCommand.self, StateCommand.self, Schema.self, Tree.self]
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

    /// Runs the command line with updatectl's exit codes: bad flags exit 2.
    static func main() {
        CommandLineParser.main(Updatectl.self, arguments: commandLine)
    }
}
