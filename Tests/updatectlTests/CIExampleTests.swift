import Foundation
import Testing

/// The CI examples' install steps, run as written against the release files served from
/// 127.0.0.1: they fetch the tarball and SHA256SUMS, refuse a tarball that does not match, and
/// the installed binary lints the policies the jobs name.
@Suite struct CIExampleTests {
    static let ready =
        ReleaseArtifacts.expected && TestComponents.python(modules: ["yaml"]) != nil
        && TestComponents.program("curl") != nil

    /// A job's shell steps, read from the example with a YAML parser: `steps` for GitHub (name →
    /// run), `before_script` + `script` for GitLab; and its variables.
    struct Job: Decodable {
        var variables: [String: String]
        var install: String
        var lint: String
    }

    static func job(_ example: String) throws -> Job {
        let python = try #require(TestComponents.python(modules: ["yaml"]))
        let path = Paths.root.appendingPathComponent("examples/ci/\(example)").path
        let result = try CLI.runProgram(
            python,
            [
                "-c",
                """
                import json, sys, yaml
                doc = yaml.safe_load(open(sys.argv[1]))
                if "jobs" in doc:
                    steps = {s.get("name"): s.get("run", "") for s in doc["jobs"]["lint"]["steps"]}
                    out = {"variables": doc["env"], "install": steps["Install updatectl"], "lint": steps["Lint policies"]}
                else:
                    job = doc["update-policies"]
                    before = [line for line in job["before_script"] if not line.startswith("apt-get")]
                    out = {"variables": job["variables"], "install": "\\n".join(before), "lint": "\\n".join(job["script"])}
                print(json.dumps(out))
                """, path,
            ])
        try #require(result.status == 0, "\(result.stderr)")
        return try JSONDecoder().decode(Job.self, from: Data(result.stdout.utf8))
    }

    /// The release files on a server of our own, as a GitHub release serves them.
    static func releaseServer(tamper: Bool = false) async throws -> (TestServer, name: String) {
        let tarball = try #require(ReleaseArtifacts.tarball)
        let server = try await TestServer()
        var bytes = try Data(contentsOf: tarball)
        if tamper { bytes[bytes.count / 2] ^= 0x01 }
        server.set("/" + tarball.lastPathComponent, body: bytes)
        server.set("/SHA256SUMS", body: try Data(contentsOf: ReleaseArtifacts.dist.appendingPathComponent("SHA256SUMS")))
        return (server, tarball.lastPathComponent)
    }

    /// Runs `script` with bash -e, as both CI systems do, in `directory` with `environment`.
    static func bash(_ script: String, directory: URL, environment: [String: String]) async throws -> CLI.Result {
        let bash = try #require(TestComponents.program("bash"))
        return try await onOwnThread { try CLI.runProgram(bash, ["-e", "-c", script], environment: environment, directory: directory) }
    }

    /// A project with a policy under policies/ and a cloud-init user-data under cloud-init/.
    static func project() throws -> TemporaryDirectory {
        let project = try TemporaryDirectory()
        try project.write(
            "policies/edge.yaml",
            "updates:\n  server: https://updates.example.com\n  auto_rollback_after: 3\n"
                + "  preflight:\n    - free_space: {}\n    - node_not_blocked: {}\n")
        try project.write(
            "cloud-init/user-data.yaml",
            "#cloud-config\nupdates:\n  server: https://updates.example.com\n"
                + "  auto_rollback_after: 3\n  preflight:\n    - free_space: {}\n    - maintenance_window: {start: \"25:00\", end: \"04:00\"}\n"
        )
        return project
    }

    @Test(.enabled(if: ready))
    func theGitHubActionsExampleInstallsAVerifiedReleaseAndLints() async throws {
        let job = try Self.job("github-actions.yml")
        let (server, name) = try await Self.releaseServer()
        #expect(
            name == "updatectl-\(job.variables["UPDATECTL_VERSION"] ?? "?")-linux-amd64.tar.gz",
            "the example installs another version than this tree builds")
        let project = try Self.project()
        let home = try TemporaryDirectory(), runner = try TemporaryDirectory()
        let githubPath = runner.url.appendingPathComponent("github_path").path
        let environment = [
            "UPDATECTL_VERSION": job.variables["UPDATECTL_VERSION"] ?? "", "UPDATECTL_RELEASES": server.base,
            "HOME": home.url.path, "RUNNER_TEMP": runner.url.path, "GITHUB_PATH": githubPath,
        ]
        let installed = try await Self.bash(job.install, directory: project.url, environment: environment)
        #expect(installed.status == 0, "\(installed.stdout)\(installed.stderr)")
        #expect(installed.stdout.contains("0.1.0 (commit "), "\(installed.stdout)")
        #expect(try String(contentsOfFile: githubPath, encoding: .utf8) == home.url.path + "/.local/bin\n")

        // The next step, with the PATH GitHub builds from GITHUB_PATH: annotations, exit 1 on the
        // broken window in cloud-init/.
        let lint = try await Self.bash(
            job.lint, directory: project.url,
            environment: ["PATH": home.url.path + "/.local/bin:/usr/bin:/bin", "GITHUB_ACTIONS": "true"])
        #expect(lint.status == 1, "\(lint.stdout)\(lint.stderr)")
        #expect(lint.stdout.contains("::error file=cloud-init/user-data.yaml,line=7"), "\(lint.stdout)")
        await server.stop()
    }

    @Test(.enabled(if: ready))
    func theGitLabExampleInstallsAVerifiedReleaseAndLints() async throws {
        let job = try Self.job("gitlab-ci.yml")
        let (server, _) = try await Self.releaseServer()
        let project = try Self.project()
        let environment = [
            "UPDATECTL_VERSION": job.variables["UPDATECTL_VERSION"] ?? "", "UPDATECTL_RELEASES": server.base,
            "CI_PROJECT_DIR": project.url.path,
        ]
        let run = try await Self.bash(job.install + "\n" + job.lint, directory: project.url, environment: environment)
        #expect(run.status == 1, "the script's second lint fails on the broken window: \(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("cloud-init/user-data.yaml:7:"), "\(run.stdout)")
        let report = try Data(contentsOf: project.url.appendingPathComponent("gl-code-quality-report.json"))
        let issues = try #require(try JSONSerialization.jsonObject(with: report) as? [[String: Any]])
        #expect(!issues.isEmpty)
        await server.stop()
    }

    /// A tarball that does not match SHA256SUMS (a corrupted download, a tampered mirror) stops
    /// the install before anything is unpacked.
    @Test(.enabled(if: ready))
    func aTarballThatDoesNotMatchItsChecksumIsNotInstalled() async throws {
        let job = try Self.job("github-actions.yml")
        let (server, _) = try await Self.releaseServer(tamper: true)
        let home = try TemporaryDirectory(), runner = try TemporaryDirectory()
        let environment = [
            "UPDATECTL_VERSION": job.variables["UPDATECTL_VERSION"] ?? "", "UPDATECTL_RELEASES": server.base,
            "HOME": home.url.path, "RUNNER_TEMP": runner.url.path,
            "GITHUB_PATH": runner.url.appendingPathComponent("github_path").path,
        ]
        let installed = try await Self.bash(job.install, directory: runner.url, environment: environment)
        #expect(installed.status != 0)
        #expect(installed.stdout.contains("FAILED") || installed.stderr.contains("FAILED"), "\(installed.stdout)\(installed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: home.url.path + "/.local/bin/updatectl"))
        await server.stop()
    }
}
