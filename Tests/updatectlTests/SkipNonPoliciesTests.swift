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
