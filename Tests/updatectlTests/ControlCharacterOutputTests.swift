import Foundation
import Testing

/// Values from outside — here a release's metadata — reach every human-readable line with their
/// control characters escaped: a channel holding ESC and a newline can neither clear the
/// terminal nor forge a line, in the step's line nor in the final `error:` line.
@Suite struct ControlCharacterOutputTests {
    @Test func aChannelWithControlCharactersCannotForgeALine() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let release = UpstreamRelease()
        var options = UpstreamRelease.Options()
        // JSON escapes: the channel's value holds ESC [2J (clear the screen) and a newline.
        options.channel = "stable\\u001b[2J\\nerror: forged"
        options.releaseNotes = "notes\\u001b]0;title\\u0007\\r\\u0085"
        try release.publish(server, version: "1.1.0", options: options)
        let node = try TestNode.upstream(release, server: server)
        for command in ["apply", "check"] {
            let result = try await node.run(command, environment: node.amd64)
            #expect(result.status == 1, "\(command): \(result.stdout)\(result.stderr)")
            #expect(
                result.stderr.contains("error: refused by channel: the release is for channel stable\\u{1b}[2J\\nerror: forged, "),
                "\(command): \(result.stderr)")
            for output in [result.stdout, result.stderr] {
                #expect(!output.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\r" || $0 == "\u{85}" }, "\(command): \(output)")
                let lines = output.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
                #expect(!lines.contains { $0.hasPrefix("error: forged") }, "\(command): \(output)")
            }
        }
    }

    /// A policy's own control characters (lint's UPD101) reach the source excerpt as Control
    /// Pictures, one column each, so the caret still stands under them and the terminal obeys
    /// none of them.
    @Test func aPolicysControlCharactersAreShownNotObeyedInTheExcerpt() throws {
        let directory = try TemporaryDirectory()
        try directory.write("policy.yaml", "updates:\n  server: https://u.example.com\n  channel: a\u{1B}[2J\u{7F}b\n")
        let result = try CLI.run(["lint", directory.url.appendingPathComponent("policy.yaml").path])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        let output = result.stdout + result.stderr
        #expect(!output.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{7F}" }, "\(output)")
        #expect(output.contains("3 |   channel: a\u{241B}[2J\u{2421}b\n  |             ^"), "\(output)")
    }
}
