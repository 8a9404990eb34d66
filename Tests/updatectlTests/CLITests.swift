import Foundation
import Testing

@Suite struct CLITests {
    @Test func versionPrints() throws {
        let result = try CLI.run(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout == "0.1.0 (development build, no commit stamped)\n")
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
}
