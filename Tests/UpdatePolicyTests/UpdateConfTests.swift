import Testing
import UpdatePolicy
import YAMLTree

/// KubeSolo OS's update.conf as a policy layer: its lines, its findings at line and column.
@Suite struct UpdateConfTests {
    func layer(_ text: String) -> PolicyLayer {
        UpdateConf.layer(Array(text.utf8), file: "update.conf", timeZones: LintOptions.tests.timeZones)
    }

    @Test func valuesCommentsBlankLinesAndQuotes() throws {
        let layer = layer(
            """
            # written by cloud-init
            server=https://u.example.com/kubesolo

              channel = beta
            maintenance_window="23:00-01:00"
            pubkey='/etc/kubesolo/update.pub'
            auto_rollback_after=3
            kube_system_settle=45

            """)
        #expect(layer.findings.isEmpty, "\(layer.findings.map(\.message))")
        #expect(
            Set(layer.mapping.fields.keys) == [
                "server", "channel", "maintenance_window", "pubkey", "auto_rollback_after",
                "kube_system_settle",
            ])
        let channel = try #require(layer.mapping["channel"])
        #expect(channel.start.line == 4 && channel.start.column == 13)
        #expect(channel.source == .file("update.conf"))
        guard case .duration(let settle)? = layer.mapping["kube_system_settle"]?.value else {
            Issue.record("kube_system_settle is seconds, as KubeSolo OS's flag")
            return
        }
        #expect(settle == .seconds(45))
    }

    @Test func findingsLandOnTheirLineAndColumn() {
        let layer = layer("server=https://u.example.com\nchanel=beta\nauto_rollback_after=three\nno value here\nchannel=a\nchannel=b\n")
        let found = layer.findings.map { "\($0.rule)@\($0.start.line):\($0.start.column):\($0.severity)" }
        #expect(found == ["UPD201@2:1:warning", "UPD202@3:21:error", "UPD109@4:1:error", "UPD102@6:1:warning"], "\(found)")
        #expect(layer.findings.first?.help == "did you mean `channel`?")
        #expect(layer.findings.contains { $0.message.contains("`auto_rollback_after` expects a whole number") })
    }

    @Test func aPolicyFromTheConfAloneHasItsValuesAndOrigins() throws {
        let result = PolicyLinter.lintConf(
            Array("server=https://u.example.com\nchannel=beta\nauto_rollback_after=2\n".utf8),
            file: "/etc/kubesolo/update.conf", options: .tests)
        #expect(result.findings.isEmpty)
        let policy = try #require(result.policy)
        #expect(policy.channel.value == "beta")
        #expect(policy.channel.origin.elsewhere == "/etc/kubesolo/update.conf:2:9")
        #expect(policy.autoRollbackAfter.value == 2)
    }

    /// Flags over the YAML policy over update.conf over the defaults; a second spelling counts as
    /// the same setting.
    @Test func precedenceIsFlagsThenPolicyThenConfThenDefaults() throws {
        let conf = layer("channel=beta\nauto_rollback_after=5\npubkey=/etc/kubesolo/update.pub\nhealthcheck_url=http://127.0.0.1:1/x\n")
        let flags = PolicyLayer.flags([("auto_rollback_after", "7")], timeZones: LintOptions.tests.timeZones)
        let yaml = "updates:\n  server: https://u.example.com\n  channel: stable\n  public_key: /etc/updatectl/release.pub\n"
        let result = PolicyLinter.lint(
            YAMLParser.parse(Array(yaml.utf8)), file: "policy.yaml", options: .tests,
            layers: [conf, flags])
        #expect(result.findings.filter { $0.severity == .error }.isEmpty, "\(result.findings.map(\.message))")
        let policy = try #require(result.policy)
        #expect(policy.channel.value == "stable" && policy.channel.origin.mark?.line == 3)
        #expect(policy.autoRollbackAfter.value == 7 && policy.autoRollbackAfter.origin == .flag("--auto-rollback-after"))
        guard case .file(let path)? = policy.publicKey?.value else {
            Issue.record("a public key file")
            return
        }
        #expect(path == "/etc/updatectl/release.pub", "the policy's public_key, not update.conf's pubkey")
        #expect(policy.healthcheckURL?.origin.elsewhere == "update.conf:4:17")
        #expect(policy.healthcheck.probes.contains { $0.name.value == "healthcheck_url" })
    }

    @Test func aFlagWithABadValueSaysWhichFlag() {
        let flags = PolicyLayer.flags(
            [("auto_rollback_after", "often"), ("maintenance_window", "2-4")],
            timeZones: LintOptions.tests.timeZones)
        #expect(flags.findings.map(\.message).contains { $0.contains("`--auto-rollback-after` expects a whole number") })
        #expect(flags.findings.map(\.message).contains { $0.contains("`--maintenance-window` must be a window") })
    }
}
