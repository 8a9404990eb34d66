import Foundation
import Testing

/// The hook in .pre-commit-hooks.yaml, run by the real pre-commit (`try-repo` against this
/// checkout) in a repository of policies, with the updatectl under test on PATH.
@Suite struct PreCommitTests {
    static let preCommit = TestComponents.program("pre-commit")
    static let git = TestComponents.program("git")

    struct Repository {
        let directory: TemporaryDirectory
        let environment: [String: String]

        init() throws {
            directory = try TemporaryDirectory()
            let bin = CLI.binary.deletingLastPathComponent().path
            let gitDirectory = URL(fileURLWithPath: try #require(PreCommitTests.git)).deletingLastPathComponent().path
            let python = URL(fileURLWithPath: try #require(PreCommitTests.preCommit)).deletingLastPathComponent().path
            environment = [
                "PATH": "\(bin):\(python):\(gitDirectory):/usr/bin:/bin",
                "PRE_COMMIT_HOME": directory.url.appendingPathComponent(".cache").path,
                "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
            ]
            _ = try git(["init", "-q", "-b", "main"])
        }

        func git(_ arguments: [String]) throws -> CLI.Result {
            let result = try CLI.runProgram(try #require(PreCommitTests.git), arguments, environment: environment, directory: directory.url)
            try #require(result.status == 0, "git \(arguments): \(result.stderr)")
            return result
        }

        /// `pre-commit try-repo CHECKOUT HOOK --all-files`.
        func tryRepo(_ hook: String = "updatectl-lint") throws -> CLI.Result {
            try CLI.runProgram(
                try #require(PreCommitTests.preCommit),
                ["try-repo", Paths.root.path, hook, "--all-files", "--color", "never"],
                environment: environment, directory: directory.url)
        }
    }

    /// A repository with a good policy, a GitHub workflow (YAML, but no policy) and a
    /// KubeSolo OS update.conf passes; a broken policy added to it fails the hook, with the
    /// finding at its file, line and column.
    @Test(.enabled(if: preCommit != nil && git != nil))
    func theHookPassesAndFailsThroughPreCommit() throws {
        let repository = try Repository()
        try repository.directory.write(
            "policies/edge.yaml",
            """
            updates:
              server: https://updates.example.com/kubesolo
              public_key: /etc/updatectl/release.pub
              auto_rollback_after: 3
              preflight:
                - free_space: {headroom: 10%}
                - node_not_blocked: {}

            """)
        try repository.directory.write(".github/workflows/ci.yml", "name: ci\non: [push]\njobs: {}\n")
        try repository.directory.write("kubesolo/update.conf", "server=https://updates.example.com/kubesolo\nchannel=stable\n")
        _ = try repository.git(["add", "."])
        let passing = try repository.tryRepo()
        #expect(passing.status == 0, "\(passing.stdout)\(passing.stderr)")
        #expect(passing.stdout.contains("updatectl lint") && passing.stdout.contains("Passed"), "\(passing.stdout)")

        try repository.directory.write(
            "policies/broken.yaml",
            """
            updates:
              server: https://updates.example.com/kubesolo
              preflight:
                - maintenance_window: {start: "25:00", end: "04:00"}

            """)
        _ = try repository.git(["add", "."])
        let failing = try repository.tryRepo()
        #expect(failing.status == 1, "\(failing.stdout)\(failing.stderr)")
        #expect(failing.stdout.contains("Failed"), "\(failing.stdout)")
        #expect(failing.stdout.contains("policies/broken.yaml:4:"), "\(failing.stdout)")
        #expect(!failing.stdout.contains("ci.yml"), "a workflow is no policy: \(failing.stdout)")
    }

    /// A GitOps repository (Fixtures/gitops: multi-document manifests, a Helm chart whose values
    /// have top-level `server:` and `channel:`, an empty and a comment-only file, a good policy, a
    /// broken one) and a workflow: the hook fails for the broken policy alone, with its finding,
    /// and passes once it is mended.
    @Test(.enabled(if: preCommit != nil && git != nil))
    func theHookChecksOnlyThePoliciesOfAMixedRepository() throws {
        let repository = try Repository()
        let fixtures = Paths.tests.appendingPathComponent("Fixtures/gitops")
        for item in try FileManager.default.contentsOfDirectory(atPath: fixtures.path) {
            try FileManager.default.copyItem(
                at: fixtures.appendingPathComponent(item), to: repository.directory.url.appendingPathComponent(item))
        }
        try repository.directory.write(".github/workflows/ci.yml", "name: ci\non: [push]\njobs: {}\n")
        _ = try repository.git(["add", "."])
        let failing = try repository.tryRepo()
        #expect(failing.status == 1, "\(failing.stdout)\(failing.stderr)")
        #expect(failing.stdout.contains("Failed"), "\(failing.stdout)")
        let places = failing.stdout.split(separator: "\n").filter { $0.contains("--> ") }
        #expect(places.count == 1 && places[0].contains("policies/night.yaml:6:"), "\(failing.stdout)")
        #expect(failing.stdout.contains("error[UPD306]"), "\(failing.stdout)")
        #expect(failing.stdout.contains("3 files checked, 6 skipped (not policies): 1 error"), "\(failing.stdout)")

        try repository.directory.write(
            "policies/night.yaml",
            "updates:\n  server: https://updates.example.com/kubesolo\n  public_key: /etc/updatectl/release.pub\n")
        _ = try repository.git(["add", "."])
        let passing = try repository.tryRepo()
        #expect(passing.status == 0, "\(passing.stdout)\(passing.stderr)")
        #expect(passing.stdout.contains("Passed"), "\(passing.stdout)")
    }

    /// `updatectl-fix` on a repository with a misspelt key and a duration in words: the first run
    /// fixes both in place and fails (pre-commit's rule for a hook that changes files), leaving the
    /// comment, the other cloud-init sections and the Helm values (no policy) as they were; the
    /// second run passes.
    @Test(.enabled(if: preCommit != nil && git != nil))
    func theFixHookFixesFailsOnceAndThenPasses() throws {
        let repository = try Repository()
        let policy = """
            #cloud-config
            hostname: edge-1
            updates:
              server: https://updates.example.com/kubesolo  # the fleet's mirror
              public_key: /etc/updatectl/release.pub
              auto_rollback_after: 3
              helthcheck:
                timeout: 5 minutes
              preflight:
                - free_space: {headroom: 10%}
            runcmd:
              - [echo, hi]

            """
        try repository.directory.write("nodes/edge-1.yaml", policy)
        // Helm values: `timeout: 5 minutes` is no policy's, and is not touched.
        let values = "server: https://x.example.com\ntimeout: 5 minutes\n"
        try repository.directory.write("chart/values.yaml", values)
        _ = try repository.git(["add", "."])
        let first = try repository.tryRepo("updatectl-fix")
        #expect(first.status == 1, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("Failed") && first.stdout.contains("files were modified by this hook"), "\(first.stdout)")
        let fixed = try String(contentsOf: repository.directory.url.appendingPathComponent("nodes/edge-1.yaml"), encoding: .utf8)
        #expect(
            fixed == policy.replacingOccurrences(of: "helthcheck", with: "healthcheck").replacingOccurrences(of: "5 minutes", with: "5m"))
        let untouched = try String(contentsOf: repository.directory.url.appendingPathComponent("chart/values.yaml"), encoding: .utf8)
        #expect(untouched == values)
        _ = try repository.git(["add", "."])
        let second = try repository.tryRepo("updatectl-fix")
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        #expect(second.stdout.contains("Passed"), "\(second.stdout)")
    }
}
