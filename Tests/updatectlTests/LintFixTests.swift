import Foundation
import Testing

/// `updatectl lint --fix`, `--unsafe-fixes` and `--diff`, run as a person runs them: the real
/// binary on real files in a temporary directory, `patch` reading the diff.
@Suite struct LintFixTests {
    /// A cloud-init user-data file with CRLF line ends, comments, an anchor, a quoted value and
    /// other sections around `updates:`, and four findings with safe fixes.
    static let userData =
        "#cloud-config\r\n"
        + "hostname: edge-1   # set by the installer\r\n"
        + "updates:\r\n"
        + "  server: 'https://updates.example.com/os'\r\n"
        + "  public_key: /etc/updatectl/release.pub\r\n"
        + "  auto_rollback_after: 3\r\n"
        + "  channel: &chan stable\r\n"
        + "  healthchek:            # the probes\r\n"
        + "    timeout: \"5 minutes\"\r\n"
        + "  preflight:\r\n"
        + "    - free_space: {headroom: 10%}\r\n"
        + "    - maintenance_window: {days: [Tuesday, sat], start: 22:00, end: \"04:00\", timezone: Europe/Berln}\r\n"
        + "runcmd:\r\n"
        + "  - [echo, *chan]\r\n"

    static let fixedUserData =
        userData
        .replacingOccurrences(of: "healthchek:", with: "healthcheck:")
        .replacingOccurrences(of: "\"5 minutes\"", with: "\"5m\"")
        .replacingOccurrences(of: "[Tuesday, sat]", with: "[tue, sat]")
        .replacingOccurrences(of: "start: 22:00", with: "start: \"22:00\"")
        .replacingOccurrences(of: "Europe/Berln", with: "Europe/Berlin")

    static func contents(_ directory: TemporaryDirectory, _ name: String) throws -> Data {
        try Data(contentsOf: directory.url.appendingPathComponent(name))
    }

    @Test func fixRewritesOnlyTheFixedBytesAndKeepsTheMode() throws {
        let directory = try TemporaryDirectory()
        try directory.write("user-data.yaml", Self.userData)
        let path = directory.url.appendingPathComponent("user-data.yaml").path
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
        let result = try CLI.run(["lint", "--fix", "user-data.yaml"], directory: directory.url)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(try Self.contents(directory, "user-data.yaml") == Data(Self.fixedUserData.utf8))
        #expect(result.stdout.contains("fixed 5 findings in 1 file; 0 findings remain"), "\(result.stdout)")
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o640)
        // No temporary file is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path) == ["user-data.yaml"])
        // A second run has nothing to do and changes nothing.
        let again = try CLI.run(["lint", "--fix", "user-data.yaml"], directory: directory.url)
        #expect(again.status == 0 && again.stdout.contains("nothing to fix"), "\(again.stdout)")
        #expect(try Self.contents(directory, "user-data.yaml") == Data(Self.fixedUserData.utf8))
    }

    /// The owner and group stay the file's (the test runs as root on CI; elsewhere it is skipped).
    @Test(.enabled(if: geteuid() == 0))
    func fixKeepsTheOwner() throws {
        let directory = try TemporaryDirectory()
        try directory.write("policy.yaml", "updates:\n  server: https://updates.example.com\n  chanel: stable\n")
        let path = directory.url.appendingPathComponent("policy.yaml").path
        #expect(chown(path, 65534, 65534) == 0)
        let result = try CLI.run(["lint", "--fix", "policy.yaml"], directory: directory.url)
        #expect(
            try Self.contents(directory, "policy.yaml")
                == Data("updates:\n  server: https://updates.example.com\n  channel: stable\n".utf8), "\(result.stdout)")
        var status = stat()
        #expect(stat(path, &status) == 0 && status.st_uid == 65534 && status.st_gid == 65534)
    }

    /// A symbolic link is followed: the file it names is fixed, the link stays a link. A file
    /// with a second hard link is refused (replacing it would part the links), unchanged.
    @Test func linksAreFollowedOrRefused() throws {
        let directory = try TemporaryDirectory()
        let text = "updates:\n  server: https://updates.example.com\n  chanel: stable\n"
        try directory.write("real/policy.yaml", text)
        try FileManager.default.createSymbolicLink(
            atPath: directory.url.appendingPathComponent("link.yaml").path, withDestinationPath: "real/policy.yaml")
        let linked = try CLI.run(["lint", "--fix", "link.yaml"], directory: directory.url)
        #expect(linked.status == 0, "\(linked.stdout)\(linked.stderr)")
        #expect(try Self.contents(directory, "real/policy.yaml") == Data(text.replacingOccurrences(of: "chanel", with: "channel").utf8))
        #expect(
            try FileManager.default.destinationOfSymbolicLink(atPath: directory.url.appendingPathComponent("link.yaml").path)
                == "real/policy.yaml")

        try directory.write("a.yaml", text)
        #expect(link(directory.url.appendingPathComponent("a.yaml").path, directory.url.appendingPathComponent("b.yaml").path) == 0)
        let hard = try CLI.run(["lint", "--fix", "a.yaml"], directory: directory.url)
        #expect(hard.status == 2, "\(hard.stdout)\(hard.stderr)")
        #expect(hard.stderr.contains("a.yaml has 2 hard links"), "\(hard.stderr)")
        #expect(try Self.contents(directory, "a.yaml") == Data(text.utf8))
    }

    /// `--diff` writes nothing, exits 1, and `patch -p0` makes of its output what `--fix` makes.
    @Test(.enabled(if: TestComponents.program("patch") != nil))
    func diffIsWhatFixWouldDo() throws {
        let directory = try TemporaryDirectory()
        try directory.write("nodes/user-data.yaml", Self.userData)
        try directory.write("nodes/clean.yaml", Self.fixedUserData)
        let diff = try CLI.run(["lint", "--diff", "nodes"], directory: directory.url)
        #expect(diff.status == 1, "\(diff.stdout)\(diff.stderr)")
        #expect(diff.stdout.hasPrefix("--- nodes/user-data.yaml\n+++ nodes/user-data.yaml\n@@ "), "\(diff.stdout)")
        #expect(!diff.stdout.contains("clean.yaml"))
        #expect(diff.stderr.contains("would fix 5 findings in 1 file"), "\(diff.stderr)")
        #expect(try Self.contents(directory, "nodes/user-data.yaml") == Data(Self.userData.utf8))
        let patched = try CLI.runProgram(
            try #require(TestComponents.program("patch")), ["-p0", "--binary"], stdin: Data(diff.stdout.utf8), directory: directory.url)
        #expect(patched.status == 0, "\(patched.stdout)\(patched.stderr)")
        #expect(try Self.contents(directory, "nodes/user-data.yaml") == Data(Self.fixedUserData.utf8))
        let none = try CLI.run(["lint", "--diff", "nodes"], directory: directory.url)
        #expect(none.status == 0 && none.stdout.isEmpty, "\(none.stdout)\(none.stderr)")
    }

    /// An unsafe fix (a base-60 duration, which may have meant hours) waits for `--unsafe-fixes`;
    /// what remains decides the exit status.
    @Test func unsafeFixesWaitForTheirFlag() throws {
        let directory = try TemporaryDirectory()
        let text = "updates:\n  server: https://updates.example.com\n  healthcheck:\n    timeout: 1:30\n"
        try directory.write("policy.yaml", text)
        let safe = try CLI.run(["lint", "--fix", "policy.yaml"], directory: directory.url)
        #expect(safe.status == 1, "\(safe.stdout)")
        #expect(safe.stdout.contains("UPD301") && safe.stdout.contains("nothing to fix"), "\(safe.stdout)")
        #expect(try Self.contents(directory, "policy.yaml") == Data(text.utf8))
        let unsafe = try CLI.run(["lint", "--fix", "--unsafe-fixes", "policy.yaml"], directory: directory.url)
        #expect(try Self.contents(directory, "policy.yaml") == Data(text.replacingOccurrences(of: "1:30", with: "1m30s").utf8))
        #expect(unsafe.stdout.contains("fixed 1 finding in 1 file"), "\(unsafe.stdout)")
        let alone = try CLI.run(["lint", "--unsafe-fixes", "policy.yaml"], directory: directory.url)
        #expect(alone.status == 2 && alone.stderr.contains("--unsafe-fixes goes with --fix"), "\(alone.stderr)")
    }

    /// From standard input, the fixed policy goes to standard output and the report to standard error.
    @Test func standardInputIsFixedToStandardOutput() throws {
        let text = "updates:\n  server: https://updates.example.com\n  reboot: Auto\n  chanel: stable\n"
        let result = try CLI.run(["lint", "--fix", "--format", "json", "-"], stdin: Data(text.utf8))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "updates:\n  server: https://updates.example.com\n  reboot: auto\n  channel: stable\n")
        #expect(result.stderr.contains("\"findings\"") && result.stderr.contains("fixed 2 findings"), "\(result.stderr)")
    }

    /// A node's anchor and tag are part of its span, not of its value: the fix leaves them, and
    /// every alias of the anchor reads the fixed value.
    @Test func anchorsAndTagsStayWhereTheyAre() throws {
        let directory = try TemporaryDirectory()
        let text = """
            updates:
              server: https://updates.example.com
              healthcheck:
                timeout: &t 5 minutes
                interval: !!str 10 seconds
              agent:
                check_every: *t
              &k chanel: stable

            """
        try directory.write("policy.yaml", text)
        let result = try CLI.run(["lint", "--fix", "policy.yaml"], directory: directory.url)
        let expected =
            text.replacingOccurrences(of: "&t 5 minutes", with: "&t 5m").replacingOccurrences(of: "!!str 10 seconds", with: "!!str 10s")
            .replacingOccurrences(of: "&k chanel", with: "&k channel")
        #expect(try Self.contents(directory, "policy.yaml") == Data(expected.utf8), "\(result.stdout)")
        #expect(result.stdout.contains("fixed 4 findings"), "\(result.stdout)")
    }
}
