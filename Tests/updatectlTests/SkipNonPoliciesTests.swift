import Foundation
import Testing

/// `lint --skip-non-policies`, the pre-commit hook's mode, on what a GitOps repository holds
/// (Fixtures/gitops: multi-document manifests, a Helm chart's values and templates, an empty and a
/// comment-only file, update.conf, a good policy and a broken one).
@Suite struct SkipNonPoliciesTests {
    static let gitops = "Fixtures/gitops"

    func lint(_ arguments: [String], stdin: String? = nil) throws -> CLI.Result {
        try CLI.run(["lint"] + arguments, stdin: stdin.map { Data($0.utf8) }, directory: Paths.tests)
    }

    @Test func onlyTheBrokenPolicyOfAGitOpsRepositoryFails() throws {
        let concise = try lint(["--skip-non-policies", "--format", "concise", Self.gitops])
        #expect(concise.status == 1, "\(concise.stdout)\(concise.stderr)")
        let lines = concise.stdout.split(separator: "\n")
        #expect(lines.count == 1, "\(concise.stdout)")
        #expect(lines.first?.hasPrefix("Fixtures/gitops/policies/night.yaml:6:") == true, "\(concise.stdout)")
        #expect(lines.first?.contains("error[UPD306]") == true, "\(concise.stdout)")

        let text = try lint(["--skip-non-policies", Self.gitops])
        #expect(text.stdout.hasSuffix("3 files checked, 5 skipped (not policies): 1 error\n"), "\(text.stdout)")
    }

    /// Files that look like policies but are another tool's: Dependabot's `updates:` list, a
    /// Kubernetes object named policy.yaml (Kyverno), Helm values whose keys only resemble
    /// `updates`. A misspelt section is still a policy, reported at the misspelt key.
    @Test func anotherToolsFilesAreSkippedAndATypoIsFoundWhereItIs() throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            ".github/dependabot.yml", "version: 2\nupdates:\n  - package-ecosystem: github-actions\n    directory: /\n")
        try directory.write(
            "kyverno/policy.yaml", "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: require-labels}\nspec: {}\n")
        try directory.write("charts/values.yaml", "updater:\n  enabled: true\nupdated: today\nUpdates: {}\n")
        try directory.write("charts/typo.yaml", "replicaCount: 1\nupdate:\n  server: https://u.example.com\n")
        // As pre-commit passes them: every file by name, hidden folders included.
        let files = [".github/dependabot.yml", "kyverno/policy.yaml", "charts/values.yaml", "charts/typo.yaml"]
            .map { directory.url.appendingPathComponent($0).path }
        let result = try CLI.run(["lint", "--skip-non-policies", "--format", "concise"] + files)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stdout)")
        #expect(lines.first?.contains("typo.yaml:2:1: error[UPD203]") == true, "\(result.stdout)")
        let summary = try CLI.run(["lint", "--skip-non-policies"] + files)
        #expect(summary.stdout.contains("1 file checked, 3 skipped (not policies)"), "\(summary.stdout)")
    }

    /// A cloud-init file whose `updates:` holds only cloud-init's `network` (the policy written
    /// elsewhere, as docs/cloud-init.md shows) is no policy and no error.
    @Test func cloudInitsOwnUpdatesAloneIsNoPolicy() throws {
        let directory = try TemporaryDirectory()
        try directory.write("user-data.yaml", "#cloud-config\nhostname: edge-1\nupdates:\n  network:\n    when: [boot]\n")
        let strict = try CLI.run(["lint", directory.url.appendingPathComponent("user-data.yaml").path])
        #expect(strict.status == 0, "\(strict.stdout)")
        let hook = try CLI.run(["lint", "--skip-non-policies", directory.url.path])
        #expect(hook.status == 0 && hook.stdout.contains("0 files checked, 1 skipped"), "\(hook.stdout)")
    }

    /// Without the flag every file is checked as a policy, as before.
    @Test func withoutTheFlagEveryFileIsAPolicy() throws {
        let concise = try lint(["--format", "concise", Self.gitops])
        #expect(concise.status == 1)
        for expected in [
            "apps/empty.yaml:1:1: error[UPD107]", "apps/kustomization-notes.yaml:1:1: error[UPD107]",
            "apps/web/manifests.yaml:16:1: error[UPD106]", "charts/web/values.yaml:2:1: error[UPD203]",
            "charts/web/templates/deployment.yaml:1:", "policies/night.yaml:6:",
        ] {
            #expect(concise.stdout.contains("Fixtures/gitops/" + expected), "\(expected) in \(concise.stdout)")
        }
    }

    /// A policy is still checked where it hides: in one of several documents, behind a template's
    /// syntax error, under a misspelt `updates`, or in a file named as a policy.
    @Test(arguments: [
        ("a.yaml", "kind: ConfigMap\n---\nupdates:\n  server: https://u.example.com\n", "UPD106"),
        ("a.yaml", "{{- if .Values.on }}\nupdates:\n  server: https://u.example.com\n{{- end }}\n", "UPD101"),
        ("a.yaml", "update:\n  server: https://u.example.com\n", "UPD203"),
        ("policy.yaml", "", "UPD107"),
        ("policy.yml", "server: https://u.example.com\n", "UPD203"),
    ])
    func policiesAreNotSkipped(name: String, content: String, rule: String) throws {
        let directory = try TemporaryDirectory()
        try directory.write(name, content)
        let result = try CLI.run(["lint", "--skip-non-policies", "--format", "concise", name], directory: directory.url)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("\(name):"), "\(result.stdout)")
        #expect(result.stdout.contains("[\(rule)]"), "\(result.stdout)")
    }
}
