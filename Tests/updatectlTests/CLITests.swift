import Foundation
import Testing

@Suite struct CLITests {
    @Test func versionPrints() throws {
        let result = try CLI.run(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout == "0.1.0 (development build, no commit stamped)\n")
    }

    /// Every kind of usage mistake exits 2, says what is wrong on standard error with the usage,
    /// and runs nothing.
    @Test func usageMistakesExitTwoAndSayWhat() throws {
        let policy = Paths.root.appendingPathComponent("policies/default.yaml").path
        for (arguments, message) in [
            (["lint", "--colour", policy], "Error: Unknown option '--colour'"),
            (["lint", "--format"], "Error: Missing value for '--format <format>'"),
            (["lint", "--format", "xml", policy], "Error: The value 'xml' is invalid for '--format <format>'. Please provide one of"),
            (["lint", "--on-host=yes", policy], "Error: The option '--on-host' does not take any value, but 'yes' was specified."),
            (["rollback", policy, "extra"], "Error: Unexpected argument 'extra'"),
            (["simulate", policy], "Error: Missing expected argument '--scenario <scenario>'"),
            (["fleet", "unlock"], "Error: Missing expected argument '<id>'"),
            (["fleet", "lock"], "Error: Unexpected argument 'lock'"),
            // A group inside a group (apply's node arguments hold the agent's flags) is validated too.
            (
                ["apply", "--server", "https://a.example.com", "--registry", "r.example.com/os", policy],
                "Error: --server and --registry exclude each other"
            ),
            (["--generate-completion-script", "tcsh"], "Error: Can't generate completion scripts for 'tcsh'."),
        ] {
            let result = try CLI.run(arguments)
            #expect(result.status == 2, "\(arguments): \(result.stdout)\(result.stderr)")
            #expect(result.stderr.hasPrefix(message), "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("Usage: updatectl"), "\(arguments): \(result.stderr)")
        }
    }

    /// `--name=value` is `--name value`; after `--` a word that starts with a dash is a path.
    @Test func optionFormsAndTheEndOfOptions() throws {
        let policy = Paths.root.appendingPathComponent("policies/default.yaml").path
        let equals = try CLI.run(["lint", "--format=concise", "--fail-on=none", policy])
        #expect(equals.status == 0 && equals.stdout.isEmpty, "\(equals.stdout)\(equals.stderr)")
        let directory = try TemporaryDirectory()
        try directory.write("-odd.yaml", "updates: {server: https://u.example.com}\n")
        let dashed = try CLI.run(["lint", "--format", "concise", "--fail-on", "none", "--", "-odd.yaml"], directory: directory.url)
        #expect(dashed.status == 0 && dashed.stdout.contains("-odd.yaml:"), "\(dashed.stdout)\(dashed.stderr)")
    }

    /// `help COMMAND` and `COMMAND --help` print the same help; a group without a subcommand
    /// prints its own.
    @Test func helpForNestedCommands() throws {
        let viaHelp = try CLI.run(["help", "fleet", "unlock"])
        let viaFlag = try CLI.run(["fleet", "unlock", "--help"])
        #expect(viaHelp.status == 0 && viaHelp.stdout == viaFlag.stdout)
        #expect(viaHelp.stdout.contains("USAGE: updatectl fleet unlock [<options>] <id> [<policy>]"), "\(viaHelp.stdout)")
        let group = try CLI.run(["fleet"])
        #expect(group.status == 0 && group.stdout.contains("SUBCOMMANDS:\n  status"), "\(group.stdout)")
        #expect(group.stdout.contains("See 'updatectl help fleet <subcommand>' for detailed help."), "\(group.stdout)")
    }
}

@Suite struct TreeCommandTests {
    @Test func helpListsTheCommands() throws {
        let result = try CLI.run(["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("USAGE: updatectl"))
        #expect(result.stdout.contains("tree"))
    }

    @Test func treeShowsPositionsAndStylesFromStandardInput() throws {
        let result = try CLI.run(["tree", "-"], stdin: Data("updates:\n  reboot: 'auto'\n".utf8))
        #expect(result.status == 0)
        #expect(result.stdout.contains("2:11 scalar single_quoted \"auto\""))
    }

    @Test func treeReportsProblemsWithFileLineAndColumn() throws {
        let result = try CLI.run(["tree", "-"], stdin: Data("a: 1\na: 2\n".utf8))
        #expect(result.status == 1)
        #expect(result.stderr.contains("-:2:1: error: key 'a' is given twice in this mapping"))
        #expect(result.stderr.contains("-:1:1: note: first given here"))
    }
}

@Suite struct ExitCodeTableTests {
    @Test func helpPrintsTheExitCodeTable() throws {
        let help = try CLI.run(["--help"]).stdout
        for line in ["0  success", "1  failure", "2  usage", "3  deferred", "4  busy"] {
            #expect(help.contains(line))
        }
        #expect(try CLI.run(["lint", "--help"]).stdout.contains("2  usage: bad flags"))
    }

    /// docs/exit-codes.md's table of which command returns which code, row by row.
    static let documented: [(command: String, codes: [Int])] = {
        let page = (try? String(contentsOf: Paths.root.appendingPathComponent("docs/exit-codes.md"), encoding: .utf8)) ?? ""
        let table = page.components(separatedBy: "<!-- exit-codes-by-command -->").dropFirst().first ?? ""
        return table.split(separator: "\n").dropFirst(2).compactMap { line in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 2 else { return nil }
            return (
                cells[0].trimmingCharacters(in: ["`"]),
                cells[1].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            )
        }
    }()

    /// Each command's `--help` lists the codes that command can return, and only those, as
    /// docs/exit-codes.md says.
    @Test func eachCommandsHelpListsItsOwnExitCodes() throws {
        #expect(Self.documented.count == 13, "\(Self.documented)")
        for (command, codes) in Self.documented {
            let help = try CLI.run(command.split(separator: " ").map(String.init) + ["--help"]).stdout
            let table = try #require(help.components(separatedBy: "EXIT STATUS:\n").dropFirst().first, "\(command): \(help)")
            let listed = table.split(separator: "\n").prefix { $0.hasPrefix("  ") }.compactMap { Int($0.split(separator: " ")[0]) }
            #expect(listed == codes, "\(command) --help lists \(listed)")
        }
    }

    /// The node commands take KubeSolo OS's flags, and their help says so.
    @Test(arguments: ["rollback", "healthcheck", "fleet status", "fleet unlock", "apply", "check", "agent"])
    func nodeCommandsListTheServerAndChannelFlags(command: String) throws {
        let help = try CLI.run(command.split(separator: " ").map(String.init) + ["--help"]).stdout
        #expect(help.contains("--server <server>") && help.contains("--channel <channel>"), "\(help)")
    }

    /// `status --format json` is said as it is: an object around the state, not the state itself.
    @Test func statusHelpDescribesItsJSON() throws {
        let help = try CLI.run(["status", "--help"]).stdout
        #expect(help.contains("{\"status_version\": 1, ...}"), "\(help)")
        #expect(!help.contains("the state object itself"))
    }

    /// `simulate` needs a scenario: its usage line says so, and leaving it out is a usage error.
    @Test func simulatesUsageShowsTheScenarioAsRequired() throws {
        let help = try CLI.run(["simulate", "--help"]).stdout
        #expect(help.contains("USAGE: updatectl simulate [<policy>] --scenario <scenario> [--format <format>]"), "\(help)")
        let without = try CLI.run(["simulate", "policies/default.yaml"], directory: Paths.root)
        #expect(without.status == 2 && without.stderr.contains("Missing expected argument '--scenario <scenario>'"), "\(without.stderr)")
    }
}
