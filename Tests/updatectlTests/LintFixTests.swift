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
        try directory.write("nodes/user data.yaml", Self.userData)
        try directory.write("nodes/clean.yaml", Self.fixedUserData)
        let diff = try CLI.run(["lint", "--diff", "nodes"], directory: directory.url)
        #expect(diff.status == 1, "\(diff.stdout)\(diff.stderr)")
        // A name with a blank ends at a tab, as `patch` reads it.
        #expect(diff.stdout.hasPrefix("--- nodes/user data.yaml\t\n+++ nodes/user data.yaml\t\n@@ "), "\(diff.stdout)")
        #expect(!diff.stdout.contains("clean.yaml"))
        #expect(diff.stderr.contains("would fix 5 findings in 1 file"), "\(diff.stderr)")
        #expect(try Self.contents(directory, "nodes/user data.yaml") == Data(Self.userData.utf8))
        // `--output` takes the diff; a report format does not go with it.
        let written = try CLI.run(["lint", "--diff", "--output", "fixes.diff", "nodes"], directory: directory.url)
        #expect(written.status == 1 && written.stdout.isEmpty)
        #expect(try String(contentsOf: directory.url.appendingPathComponent("fixes.diff"), encoding: .utf8) == diff.stdout)
        let json = try CLI.run(["lint", "--diff", "--format", "json", "nodes"], directory: directory.url)
        #expect(json.status == 2 && json.stderr.contains("the json format carries the fixes without --diff"), "\(json.stderr)")
        let patched = try CLI.runProgram(
            try #require(TestComponents.program("patch")), ["-p0", "--binary"], stdin: Data(diff.stdout.utf8), directory: directory.url)
        #expect(patched.status == 0, "\(patched.stdout)\(patched.stderr)")
        #expect(try Self.contents(directory, "nodes/user data.yaml") == Data(Self.fixedUserData.utf8))
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

    /// A `# updatectl:` inside a quoted value or a block scalar (a `write_files` file, a shell
    /// command) is text: it suppresses nothing and no fix touches it. A file whose lines end in a
    /// lone CR has its comments end there, and its findings on their own lines.
    @Test func onlyRealCommentsAreSuppressionsAndFixesKeepToThem() throws {
        let directory = try TemporaryDirectory()
        let userData = """
            #cloud-config
            runcmd:
              - [sh, -c, "echo booted # updatectl: disable=UPD411"]
            write_files:
              - path: /etc/updatectl/policy.yaml
                content: |
                  updates:
                    server: https://updates.example.com/os   # updatectl: disable=UPD404
            updates:
              server: https://updates.example.com/os
              public_key: ed25519:Hn1+J4gUuOPxSNmoJfiFmdZ3Rvb4vnwYrH7s+dqvFiU=
              auto_rollback_after: 3
              preflight:
                - free_space: {headroom: 10%}

            """
        try directory.write("user-data.yaml", userData)
        let diff = try CLI.run(["lint", "--diff", "--unsafe-fixes", "user-data.yaml"], directory: directory.url)
        #expect(diff.status == 0 && diff.stdout.isEmpty, "\(diff.stdout)\(diff.stderr)")
        let lint = try CLI.run(["lint", "--format", "concise", "user-data.yaml"], directory: directory.url)
        #expect(!lint.stdout.contains("UPD001") && !lint.stdout.contains("UPD002"), "\(lint.stdout)")

        let crOnly =
            "updates:\r  server: https://u.example.com/os\r  public_key: ed25519:Hn1+J4gUuOPxSNmoJfiFmdZ3Rvb4vnwYrH7s+dqvFiU=\r"
            + "  preflight:\r    - free_space: {headroom: 10%}   # updatectl: disable=UPD405\r  auto_rollback_after: 3\r"
        try directory.write("cr.yaml", crOnly)
        let concise = try CLI.run(["lint", "--format", "concise", "cr.yaml"], directory: directory.url)
        #expect(concise.stdout.contains("cr.yaml:5:58: warning[UPD001]"), "\(concise.stdout)")
        let fixed = try CLI.run(["lint", "--fix", "--unsafe-fixes", "cr.yaml"], directory: directory.url)
        #expect(fixed.status == 0, "\(fixed.stdout)")
        #expect(
            try Self.contents(directory, "cr.yaml")
                == Data(crOnly.replacingOccurrences(of: "   # updatectl: disable=UPD405", with: "").utf8))
    }

    /// A value reached through an alias whose anchor stands in another cloud-init section is that
    /// section's: no fix edits it (the policy's own keys are still fixed).
    @Test func anAnchorOutsideThePolicyIsNotEdited() throws {
        let directory = try TemporaryDirectory()
        let text = """
            #cloud-config
            x-common: &common {timeout: 5 minutes}
            power_state: *common
            updates:
              server: https://u.example.com/os
              healthcheck: {<<: *common, intervall: 10s}

            """
        try directory.write("user-data.yaml", text)
        _ = try CLI.run(["lint", "--fix", "--unsafe-fixes", "user-data.yaml"], directory: directory.url)
        #expect(try Self.contents(directory, "user-data.yaml") == Data(text.replacingOccurrences(of: "intervall", with: "interval").utf8))
    }

    /// A file that cannot be replaced keeps its findings in the report, and the summary says so;
    /// a read-only file is not replaced.
    @Test(.enabled(if: geteuid() == 0))
    func aFileThatCannotBeWrittenKeepsItsFindings() throws {
        let directory = try TemporaryDirectory()
        let text = "updates:\n  server: https://updates.example.com\n  chanel: stable\n"
        try directory.write("locked/policy.yaml", text)
        let locked = directory.url.appendingPathComponent("locked").path
        #expect(chmod(locked + "/policy.yaml", 0o666) == 0 && chmod(locked, 0o555) == 0)
        defer { chmod(locked, 0o755) }
        #expect(chmod(directory.url.path, 0o755) == 0)
        let runuser = try #require(TestComponents.program("runuser"))
        let result = try CLI.runProgram(
            runuser, ["-u", "nobody", "--", CLI.binary.path, "lint", "--fix", "--format", "concise", "locked/policy.yaml"],
            directory: directory.url)
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("locked/policy.yaml:3:3: error[UPD201]"), "\(result.stdout)")
        #expect(result.stdout.contains("nothing fixed; 1 file could not be written"), "\(result.stdout)")
        #expect(try Self.contents(directory, "locked/policy.yaml") == Data(text.utf8))

        try directory.write("readonly.yaml", text)
        #expect(chmod(directory.url.appendingPathComponent("readonly.yaml").path, 0o444) == 0)
        let readOnly = try CLI.run(["lint", "--fix", "readonly.yaml"], directory: directory.url)
        #expect(readOnly.status == 2 && readOnly.stderr.contains("readonly.yaml is read-only (mode 444)"), "\(readOnly.stderr)")
        #expect(try Self.contents(directory, "readonly.yaml") == Data(text.utf8))
    }

    /// One file reached as itself, through a link and through its directory is fixed once.
    @Test func aFileReachedSeveralWaysIsFixedOnce() throws {
        let directory = try TemporaryDirectory()
        try directory.write("dir/policy.yaml", "updates:\n  server: https://updates.example.com\n  chanel: stable\n")
        try FileManager.default.createSymbolicLink(
            atPath: directory.url.appendingPathComponent("link.yaml").path, withDestinationPath: "dir/policy.yaml")
        let result = try CLI.run(["lint", "--fix", "dir/policy.yaml", "link.yaml", "dir"], directory: directory.url)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("fixed 1 finding in 1 file"), "\(result.stdout)")
    }

    /// Standard input: what is not a policy passes through as it is, bytes that are not UTF-8
    /// included, and `--output` takes the report.
    @Test func standardInputPassesThroughWhatItDoesNotFix() throws {
        var values = Data("replicaCount: 2\nupdate:\n  strategy: RollingUpdate\n".utf8)
        let skipped = try CLI.run(["lint", "--fix", "--skip-non-policies", "-"], stdin: values)
        #expect(skipped.stdout == String(decoding: values, as: UTF8.self), "\(skipped.stderr)")
        values = Data("updates:\n  server: https://updates.example.com\n  chanel: stable  # caf".utf8) + Data([0xE9, 0x0A])
        let directory = try TemporaryDirectory()
        let result = try CLI.runProgram(
            try #require(TestComponents.program("sh")),
            ["-c", "\"$0\" lint --fix --output report.txt - > fixed.yaml", CLI.binary.path], stdin: values, directory: directory.url)
        #expect(try Self.contents(directory, "fixed.yaml") == values, "\(result.stderr)")
        #expect(try String(contentsOf: directory.url.appendingPathComponent("report.txt"), encoding: .utf8).contains("1 file checked"))
    }

    /// A long file whose every line changes (past the diff's search limit, so the stretch is
    /// written removed-then-added) still gives a diff that `patch` makes into what `--fix` writes.
    @Test(.enabled(if: TestComponents.program("patch") != nil))
    func aDiffOfThousandsOfChangedLinesStillApplies() throws {
        let directory = try TemporaryDirectory()
        var text = "updates:\n  server: https://u.example.com/ks\n  preflight:\n    - free_space: {}\n"
        for index in 0..<2_500 { text += "    - exec: {name: g\(index), command: [/bin/true], timeout: 5 seconds}\n" }
        try directory.write("a.yaml", text)
        try directory.write("b.yaml", text)
        let diff = try CLI.run(["lint", "--diff", "a.yaml"], directory: directory.url)
        #expect(diff.status == 1)
        let fixed = try CLI.run(["lint", "--fix", "b.yaml"], directory: directory.url)
        #expect(fixed.stdout.contains("fixed 2500 findings"), "\(fixed.stdout)")
        let patched = try CLI.runProgram(
            try #require(TestComponents.program("patch")), ["-p0", "--binary"], stdin: Data(diff.stdout.utf8), directory: directory.url)
        #expect(patched.status == 0, "\(patched.stderr)")
        #expect(try Self.contents(directory, "a.yaml") == Self.contents(directory, "b.yaml"))
    }

    /// The suppressions under a misspelt mapping silence findings that appear only once it is
    /// fixed: they are not removed as unused meanwhile. A host check's suppression is honoured by
    /// `--on-host`, and is not unused without it.
    @Test func suppressionsAreKeptUntilTheyCanBeJudged() throws {
        let directory = try TemporaryDirectory()
        let text = """
            updates:
              server: https://u.example.com/ks
              auto_rollback_after: 0  # updatectl: disable=UPD404
              healthchek:
                interval: 100ms  # updatectl: disable=UPD412
                probes:
                  - http: {url: "http://127.0.0.1:10248/healthz"}

            """
        try directory.write("policy.yaml", text)
        let fixed = try CLI.run(["lint", "--fix", "--fail-on", "warning", "policy.yaml"], directory: directory.url)
        #expect(fixed.status == 0, "\(fixed.stdout)")
        #expect(try Self.contents(directory, "policy.yaml") == Data(text.replacingOccurrences(of: "healthchek", with: "healthcheck").utf8))

        let host = """
            updates:
              server: https://u.example.com/ks
              backend: {type: directory, root: /tmp}
              preflight:
                - free_space: {}
                - exec: {command: [/opt/vendor/bin/check-power]}  # updatectl: disable=UPD501

            """
        try directory.write("host.yaml", host)
        for flags in [["--on-host"], []] {
            let lint = try CLI.run(["lint", "--format", "concise"] + flags + ["host.yaml"], directory: directory.url)
            #expect(!lint.stdout.contains("UPD501") && !lint.stdout.contains("UPD001"), "\(flags): \(lint.stdout)")
        }
    }
}
