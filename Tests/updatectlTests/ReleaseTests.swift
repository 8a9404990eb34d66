import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What `scripts/test.sh` builds before the suite (scripts/package-deb.sh, which runs
/// scripts/release.sh first): the node tarball and the Debian package in dist/ (or
/// `UPDATECTL_DIST`). Without them (a bare `swift test`) these tests are skipped; after the
/// set-up they must be there.
enum ReleaseArtifacts {
    static var dist: URL {
        ProcessInfo.processInfo.environment["UPDATECTL_DIST"].map { URL(fileURLWithPath: $0) }
            ?? Paths.root.appendingPathComponent("dist")
    }

    static func find(prefix: String, suffix: String) -> URL? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dist.path)) ?? []
        return names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(suffix) }.sorted().last.map { dist.appendingPathComponent($0) }
    }

    static var tarball: URL? { find(prefix: "updatectl-", suffix: ".tar.gz") }
    static var deb: URL? { find(prefix: "updatectl_", suffix: ".deb") }

    /// Built, or expected to be (the set-up ran): a missing artifact then fails the test.
    static var expected: Bool { (tarball != nil && deb != nil) || TestComponents.setUp }

    /// The commit this checkout is at, as release.sh stamps it (without "-dirty").
    static var head: String? {
        guard let git = TestComponents.program("git"),
            let result = try? CLI.runProgram(git, ["-C", Paths.root.path, "rev-parse", "HEAD"]), result.status == 0
        else { return nil }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs a listed program and requires it to succeed; its standard output.
    static func run(_ name: String, _ arguments: [String], directory: URL? = nil) throws -> String {
        let program = try #require(TestComponents.program(name), "\(name) is not installed")
        let result = try CLI.runProgram(program, arguments, directory: directory)
        try #require(result.status == 0, "\(name) \(arguments.joined(separator: " ")): \(result.stdout)\(result.stderr)")
        return result.stdout
    }

    /// The tarball unpacked into `directory`; the folder it holds.
    static func unpack(into directory: URL) throws -> URL {
        let tarball = try #require(tarball, "no release tarball in \(dist.path): scripts/test.sh runs scripts/package-deb.sh first")
        _ = try run("tar", ["-xzf", tarball.path, "-C", directory.path])
        return directory.appendingPathComponent(tarball.lastPathComponent.replacingOccurrences(of: ".tar.gz", with: ""))
    }

    /// The shared libraries `ldd` says `file` loads, by the paths it found them at.
    static func libraries(of file: String) throws -> [String] {
        try run("ldd", [file]).split(separator: "\n").compactMap { line in
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if let arrow = words.firstIndex(of: "=>"), arrow + 1 < words.count, words[arrow + 1].hasPrefix("/") { return words[arrow + 1] }
            return words.first.flatMap { $0.hasPrefix("/") ? $0 : nil }
        }
    }
}

@Suite(.serialized) struct ReleaseTests {
    /// The node tarball holds the binary, the man page, completions for three shells, the units,
    /// the policies and a SHA256SUMS that verifies; dist/SHA256SUMS verifies the tarball itself.
    /// The binary names this commit and needs nothing but glibc: no Swift runtime, no libstdc++,
    /// no libyaml, no RUNPATH.
    @Test(.enabled(if: ReleaseArtifacts.expected))
    func theTarballHoldsWhatANodeNeeds() throws {
        let directory = try TemporaryDirectory()
        let root = try ReleaseArtifacts.unpack(into: directory.url)
        for file in [
            "bin/updatectl", "share/man/man1/updatectl.1", "share/bash-completion/completions/updatectl",
            "share/zsh/site-functions/_updatectl", "share/fish/vendor_completions.d/updatectl.fish",
            "lib/systemd/system/updatectl-apply.service", "lib/systemd/system/updatectl-apply.timer",
            "lib/systemd/system/updatectl-healthcheck.service", "lib/systemd/system/updatectl-agent.service",
            "lib/systemd/system/updatectl-metrics.service", "lib/systemd/system/updatectl-metrics.timer",
            "share/updatectl/updatectl-agent.sh", "share/updatectl/updatectl-agent.yaml", "share/doc/updatectl/policies/default.yaml",
            "share/updatectl/prometheus/updatectl-alerts.yaml", "share/updatectl/prometheus/updatectl-alerts.test.yaml",
            "share/updatectl/prometheus/updatectl-dashboard.json",
            "share/doc/updatectl/policies/kubesolo.yaml", "share/doc/updatectl/docs/install.md",
            "share/doc/updatectl/LICENSE", "share/doc/updatectl/SHA256SUMS",
        ] {
            #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent(file).path), "\(file) is missing")
        }
        let sums = try ReleaseArtifacts.run("sha256sum", ["--check", "--strict", "share/doc/updatectl/SHA256SUMS"], directory: root)
        #expect(sums.contains("bin/updatectl: OK"), "\(sums)")
        let outer = try ReleaseArtifacts.run("sha256sum", ["--check", "--strict", "SHA256SUMS"], directory: ReleaseArtifacts.dist)
        #expect(outer.contains(".tar.gz: OK") && outer.contains(".deb: OK"), "\(outer)")

        let binary = root.appendingPathComponent("bin/updatectl").path
        // The size bound of docs/performance.md: the Swift runtime, Foundation, swift-crypto and
        // swift-argument-parser, stripped, in 21 MB.
        let size = try #require(try FileManager.default.attributesOfItem(atPath: binary)[.size] as? Int)
        #expect(size <= 21_000_000, "the node binary is \(size) bytes")
        let version = try CLI.runProgram(binary, ["--version"]).stdout
        if let head = ReleaseArtifacts.head {
            #expect(version.hasPrefix("0.1.0 (commit \(head)"), "\(version) is not stamped with \(head)")
        }
        let dynamic = try ReleaseArtifacts.run("readelf", ["--dynamic", binary])
        let needed = dynamic.split(separator: "\n").filter { $0.contains("(NEEDED)") }.compactMap { line in
            line.split(separator: "[").last.map { String($0.dropLast()) }
        }
        let glibc: Set<String> = ["libc.so.6", "libm.so.6", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1"]
        #expect(!needed.isEmpty && Set(needed).isSubset(of: glibc), "needs \(needed)")
        #expect(!dynamic.contains("RUNPATH") && !dynamic.contains("RPATH"), "\(dynamic)")

        // The bash completion, sourced into a real bash and called as bash's `complete -F` calls
        // it: subcommands, nested ones, options, values, rule codes, `--version`, and paths as
        // paths (`-o filenames`).
        let completion = root.appendingPathComponent("share/bash-completion/completions/updatectl").path
        let bash = try String(contentsOfFile: completion, encoding: .utf8)
        #expect(!bash.hasPrefix("#!") && bash.contains("complete -o filenames -F _updatectl updatectl"))
        for (line, expected) in [
            ("updatectl li", "lint"), ("updatectl lint --format j", "json"), ("updatectl lint --fa", "--fail-on"),
            ("updatectl fleet u", "unlock"), ("updatectl apply --skip-f", "--skip-fleet-lock"),
            ("updatectl lint --explain UPD10", "UPD101 UPD102 UPD103 UPD104 UPD105 UPD106 UPD107 UPD108 UPD109"),
            ("updatectl --vers", "--version"),
            ("updatectl lint --output \(root.path)/share/man/man1/upd", "\(root.path)/share/man/man1/updatectl.1"),
        ] {
            let words = line.split(separator: " ").map { "'\($0)'" }.joined(separator: " ")
            let completed = try ReleaseArtifacts.run(
                "bash",
                [
                    "-c",
                    "source \(completion); COMP_WORDS=(\(words)); "
                        + "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE=\"${COMP_WORDS[*]}\"; COMP_POINT=${#COMP_LINE}; "
                        + "_updatectl updatectl \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD-1]}\"; echo \"${COMPREPLY[*]}\"",
                ])
            #expect(completed.trimmingCharacters(in: .whitespacesAndNewlines) == expected, "\(line) → \(completed)")
        }
        let fish = try String(contentsOf: root.appendingPathComponent("share/fish/vendor_completions.d/updatectl.fish"), encoding: .utf8)
        #expect(fish.contains("-fa 'lint' -d 'Check policies"))
        #expect(fish.contains("-l 'format'") && fish.contains("-rfka 'text concise json sarif github gitlab'"))
        let zsh = try String(contentsOf: root.appendingPathComponent("share/zsh/site-functions/_updatectl"), encoding: .utf8)
        #expect(zsh.hasPrefix("#compdef updatectl") && zsh.contains("'--format[") && zsh.contains("_updatectl_fleet_unlock()"))
        // The man page: swift-argument-parser's, finished by scripts/lib/manual-finish.py (no
        // blank line, updatectl's exit codes in EXIT STATUS).
        let man = try String(contentsOf: root.appendingPathComponent("share/man/man1/updatectl.1"), encoding: .utf8)
        #expect(man.contains(".Nm updatectl") && man.contains("fleet") && !man.contains("\n\n"))
        #expect(man.contains(".Sh \"EXIT STATUS\"\n.Bl -tag -width 3n\n.It 0\n") && man.contains(".It 5\ncheck: no update available"))
        #expect(!man.contains(".Ex -std"))
        // ENVIRONMENT and FILES before EXIT STATUS and SEE ALSO after it, in mdoc's order; no
        // test switch among the variables; nothing for mandoc's linter to say.
        let sections = man.split(separator: "\n").filter { $0.hasPrefix(".Sh ") }.map { String($0.dropFirst(4)) }
        #expect(
            sections == ["NAME", "SYNOPSIS", "DESCRIPTION", "ENVIRONMENT", "FILES", "\"EXIT STATUS\"", "\"SEE ALSO\"", "AUTHORS"],
            "\(sections)")
        for entry in [
            ".It Ev UPDATECTL_POLICY", ".It Ev https_proxy , http_proxy , no_proxy", ".It Pa /var/lib/kubesolo/update/state.json\n",
        ] {
            #expect(man.contains(entry), "\(entry)")
        }
        for entry in [".It Pa /var/lib/kubesolo/update/updatectl.json", ".It Pa /boot/grub/grubenv", ".It Pa /etc/kubesolo/update.pub"] {
            #expect(man.contains(entry), "\(entry)")
        }
        #expect(!man.contains("UPDATECTL_TEST_"))
        let mandoc = try #require(TestComponents.program("mandoc"))
        let linted = try CLI.runProgram(mandoc, ["-Tlint", root.appendingPathComponent("share/man/man1/updatectl.1").path])
        #expect(linted.status == 0 && linted.stdout.isEmpty && linted.stderr.isEmpty, "\(linted.stdout)\(linted.stderr)")
        let unit = try String(contentsOf: root.appendingPathComponent("lib/systemd/system/updatectl-apply.service"), encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/local/bin/updatectl apply"))
    }

    /// A root file system holding only the release binary, the C libraries `ldd` names for it and
    /// for libcurl, and CA certificates: no Swift toolchain, no libyaml. Inside it (chroot) the
    /// binary prints its version, lints, plans and applies a KubeSolo OS release from a server on
    /// 127.0.0.1, into the directory backend.
    @Test(.enabled(if: ReleaseArtifacts.expected), .disabled(if: getuid() != 0, "chroot needs root; this machine does not allow it"))
    func theReleaseBinaryRunsInABareRoot() async throws {
        let directory = try TemporaryDirectory()
        let unpacked = try ReleaseArtifacts.unpack(into: directory.url)
        let root = directory.url.appendingPathComponent("root")
        let files = FileManager.default
        func copy(_ source: String, to path: String) throws {
            let target = root.appendingPathComponent(path)
            try files.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            if files.fileExists(atPath: target.path) { return }
            // The file behind any links, under the name the loader asks for.
            try files.copyItem(at: URL(fileURLWithPath: source).resolvingSymlinksInPath(), to: target)
        }
        try copy(unpacked.appendingPathComponent("bin/updatectl").path, to: "usr/bin/updatectl")
        let curl = try #require(
            ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib"]
                .map { $0 + "/libcurl.so.4" }.first { files.fileExists(atPath: $0) }, "libcurl.so.4 is not installed")
        try copy(curl, to: String(curl.dropFirst()))
        for library in try ReleaseArtifacts.libraries(of: root.appendingPathComponent("usr/bin/updatectl").path)
            + ReleaseArtifacts.libraries(of: curl)
        {
            try copy(library, to: String(library.dropFirst()))
        }
        if files.fileExists(atPath: "/etc/ssl/certs/ca-certificates.crt") {
            try copy("/etc/ssl/certs/ca-certificates.crt", to: "etc/ssl/certs/ca-certificates.crt")
        }
        for folder in ["tmp", "etc/updatectl", "var/lib/kubesolo"] {
            try files.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        chmod(root.appendingPathComponent("tmp").path, 0o1777)
        let inside = try files.subpathsOfDirectory(atPath: root.path)
        #expect(!inside.contains { $0.contains("swift") || $0.contains("libyaml") || $0.contains("libstdc++") }, "\(inside)")

        let server = try await TestServer()
        let release = UpstreamRelease()
        var options = UpstreamRelease.Options()
        options.architecture = nil
        try release.publish(server, version: "1.1.0", options: options)
        try Data(release.publicKeyHex.utf8).write(to: root.appendingPathComponent("etc/updatectl/release.pub"))
        try Data(
            """
            updates:
              server: \(server.base)
              pubkey: /etc/updatectl/release.pub
              data_dir: /var/lib/kubesolo
              reboot: auto
              auto_rollback_after: 3
              kube_system_settle: 0
              preflight:
                - free_space: {headroom: 10%}
              healthcheck:
                probes:
                  - disk_writable: {timeout: 2s}
              backend: {type: directory, root: /var/lib/kubesolo/slots, initial_version: 1.0.0}

            """.utf8
        ).write(to: root.appendingPathComponent("etc/updatectl/policy.yaml"))

        func inRoot(_ arguments: [String]) async throws -> CLI.Result {
            let chroot = try #require(TestComponents.program("chroot"))
            let rootPath = root.path
            return try await onOwnThread {
                try CLI.runProgram(
                    chroot, [rootPath, "/usr/bin/updatectl"] + arguments, environment: ["PATH": "/usr/bin", "HOME": "/tmp"])
            }
        }
        let version = try await inRoot(["--version"])
        #expect(version.status == 0 && version.stdout.hasPrefix("0.1.0 (commit "), "\(version.stdout)\(version.stderr)")
        let lint = try await inRoot(["lint", "/etc/updatectl/policy.yaml"])
        #expect(lint.status == 0 && lint.stdout.contains("1 file checked: no problems"), "\(lint.stdout)\(lint.stderr)")
        let plan = try await inRoot(["plan", "/etc/updatectl/policy.yaml"])
        #expect(plan.status == 0 && plan.stdout.contains("download.files"), "\(plan.stdout)\(plan.stderr)")
        let apply = try await inRoot(["apply", "/etc/updatectl/policy.yaml"])
        #expect(apply.status == 0 && apply.stdout.contains("activated 1.1.0"), "\(apply.stdout)\(apply.stderr)")
        let healthcheck = try await inRoot(["healthcheck", "/etc/updatectl/policy.yaml"])
        #expect(
            healthcheck.status == 0 && healthcheck.stdout.contains("verified and committed 1.1.0"),
            "\(healthcheck.stdout)\(healthcheck.stderr)")
        let booted = try String(contentsOf: root.appendingPathComponent("var/lib/kubesolo/slots/booted"), encoding: .utf8)
        #expect(booted.trimmingCharacters(in: .whitespacesAndNewlines) == "b")
        await server.stop()
    }

    /// The Debian package: lintian (Debian's own checker) reports no error; it installs the
    /// binary in /usr/bin, the units pointing at it, the man page, completions and example
    /// policies; it depends on the libraries the binary links, and the binary runs from it.
    @Test(.enabled(if: ReleaseArtifacts.expected))
    func theDebianPackageIsLintianClean() throws {
        let deb = try #require(ReleaseArtifacts.deb, "no .deb in \(ReleaseArtifacts.dist.path)")
        let lintian = try #require(TestComponents.program("lintian"))
        let checked = try CLI.runProgram(lintian, ["--fail-on", "error", "--no-tag-display-limit", deb.path])
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
        #expect(!checked.stdout.split(separator: "\n").contains { $0.hasPrefix("E:") }, "\(checked.stdout)")

        let contents = try ReleaseArtifacts.run("dpkg-deb", ["--contents", deb.path])
        for path in [
            "./usr/bin/updatectl", "./usr/share/man/man1/updatectl.1.gz", "./usr/share/bash-completion/completions/updatectl",
            "./usr/share/zsh/vendor-completions/_updatectl", "./usr/share/fish/vendor_completions.d/updatectl.fish",
            "./lib/systemd/system/updatectl-apply.timer", "./usr/share/doc/updatectl/copyright",
            "./usr/share/doc/updatectl/examples/kubesolo.yaml", "./usr/share/updatectl/prometheus/updatectl-alerts.yaml",
            "./usr/share/updatectl/prometheus/updatectl-dashboard.json",
        ] {
            #expect(contents.contains(path), "\(path) is not in the package")
        }
        let control = try ReleaseArtifacts.run("dpkg-deb", ["--field", deb.path, "Depends"])
        #expect(control.contains("libc6") && control.contains("libyaml-0-2"), "\(control)")

        let directory = try TemporaryDirectory()
        _ = try ReleaseArtifacts.run("dpkg-deb", ["--extract", deb.path, directory.url.path])
        let unit = try String(
            contentsOf: directory.url.appendingPathComponent("lib/systemd/system/updatectl-apply.service"), encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/bin/updatectl apply"), "\(unit)")
        let binary = directory.url.appendingPathComponent("usr/bin/updatectl").path
        let lint = try CLI.runProgram(
            binary, ["lint", directory.url.appendingPathComponent("usr/share/doc/updatectl/examples/kubesolo.yaml").path])
        #expect(lint.status == 0, "\(lint.stdout)\(lint.stderr)")
    }
}
