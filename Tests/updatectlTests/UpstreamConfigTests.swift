import Foundation
import Testing

/// KubeSolo OS's configuration as its users write it: the cloud-init block, update.conf and the
/// agent's flags, with its precedence.
@Suite struct UpstreamConfigTests {
    @Test func kubeSoloFilesLintCleanAndPlan() throws {
        let lint = try CLI.run(["lint", "examples/kubesolo/user-data.yaml", "examples/kubesolo/update.conf"], directory: Paths.root)
        #expect(lint.status == 0, "\(lint.stdout)\(lint.stderr)")
        #expect(lint.stdout.contains("2 files checked: no problems"))
        let plan = try CLI.run(["plan", "examples/kubesolo/user-data.yaml"], directory: Paths.root)
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("preflight.maintenance_window         examples/kubesolo/user-data.yaml:13:23 (maintenance_window)"))
        #expect(plan.stdout.contains("  backend    kubesolo, slots KSOLOA/KSOLOB, GRUB environment /boot/grub/grubenv"), "\(plan.stdout)")
        #expect(plan.stdout.contains("now is inside 02:00–05:00 UTC"))
        #expect(plan.stdout.contains("signature  on: /etc/kubesolo/update.pub"))
    }

    /// A directory holding an update.conf is linted with it; its findings are at its lines.
    @Test func lintFindsUpdateConfInADirectory() throws {
        let directory = try TemporaryDirectory()
        try directory.write("etc/kubesolo/update.conf", "server=https://u.example.com\nauto_rollback_after=-1\nfrobnicate=yes\n")
        let lint = try CLI.run(["lint", "--format", "concise", "etc"], directory: directory.url)
        #expect(lint.status == 1)
        #expect(
            lint.stdout.contains("etc/kubesolo/update.conf:2:21: error[UPD307]")
                || lint.stdout.contains("etc/kubesolo/update.conf:2:21: error[UPD202]"), "\(lint.stdout)")
        #expect(lint.stdout.contains("etc/kubesolo/update.conf:3:1: warning[UPD201] unknown key `frobnicate` in update.conf"))
    }

    /// Flags over the YAML policy over update.conf over the defaults, and `plan` says where each
    /// value came from.
    @Test func precedenceIsVisibleInThePlan() throws {
        let directory = try TemporaryDirectory()
        try directory.write("update.conf", "server=https://conf.example.com\nchannel=beta\nauto_rollback_after=5\nkube_system_settle=45\n")
        try directory.write("policy.yaml", "updates:\n  channel: stable  # updatectl: disable=UPD406\n")
        func plan(_ extra: [String]) throws -> [String: Any] {
            let result = try CLI.run(
                ["plan", "--format", "json", "policy.yaml", "--conf", "update.conf"] + extra, directory: directory.url)
            #expect(result.status == 0, "\(result.stderr)")
            return try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        }
        func parameter(_ plan: [String: Any], _ step: String, _ name: String) -> [String: Any]? {
            let steps = plan["steps"] as? [[String: Any]] ?? []
            let parameters = steps.first { $0["id"] as? String == step }?["parameters"] as? [[String: Any]] ?? []
            return parameters.first { $0["name"] as? String == name }
        }
        let plain = try plan([])
        #expect(plain["server"] as? String == "https://conf.example.com")
        #expect(plain["channel"] as? String == "stable", "the policy over update.conf")
        let server = try #require(parameter(plain, "check.metadata", "server"))
        #expect((server["origin"] as? [String: Any])?["file"] as? String == "update.conf")
        #expect((server["origin"] as? [String: Any])?["line"] as? Int == 1)
        #expect(plain["auto_rollback_after"] as? Int == 5)

        let flagged = try plan(["--channel", "edge", "--auto-rollback-after", "2", "--server", "https://flag.example.com"])
        #expect(flagged["channel"] as? String == "edge")
        #expect(flagged["auto_rollback_after"] as? Int == 2)
        #expect(flagged["server"] as? String == "https://flag.example.com")
        let channel = try #require(parameter(flagged, "check.metadata", "channel"))
        #expect((channel["origin"] as? [String: Any])?["flag"] as? String == "--channel")

        let text = try CLI.run(["plan", "policy.yaml", "--conf", "update.conf", "--channel", "edge"], directory: directory.url)
        #expect(text.stdout.contains("channel: edge [--channel]"))
        #expect(text.stdout.contains("server: https://conf.example.com [update.conf:1:8]"))
        #expect(text.stdout.contains("healthcheck.probe.kube_system_ready  update.conf:4:20 (kube_system_settle)"))
    }

    @Test func aBadFlagOrConfValueStopsTheCommandAndSaysWhere() throws {
        let directory = try TemporaryDirectory()
        try directory.write("update.conf", "server=https://u.example.com\nmaintenance_window=25:00-01:00\n")
        let conf = try CLI.run(["plan", "--conf", "update.conf"], directory: directory.url)
        #expect(conf.status == 1)
        #expect(conf.stderr.contains("update.conf:2:20"), "\(conf.stderr)")
        #expect(conf.stderr.contains("update.conf has lint errors, so it has no plan"))
        let flag = try CLI.run(
            ["plan", "--server", "https://u.example.com", "--auto-rollback-after", "soon"],
            environment: ["UPDATECTL_TEST_ROOT": directory.url.path], directory: directory.url)
        #expect(flag.status == 1)
        #expect(flag.stderr.contains("`--auto-rollback-after` expects a whole number"), "\(flag.stderr)")
        let both = try CLI.run(["plan", "--server", "https://u.example.com", "--registry", "r.example.com/os"], directory: directory.url)
        #expect(both.status == 2)
        #expect(both.stderr.contains("--server and --registry exclude each other"))
    }

    /// With no YAML policy anywhere, /etc/kubesolo/update.conf alone is the policy.
    @Test func updateConfAloneIsFoundAndUsed() throws {
        let directory = try TemporaryDirectory()
        try directory.write("etc/kubesolo/update.conf", "server=https://u.example.com\nchannel=beta\n")
        let plan = try CLI.run(["plan"], environment: ["UPDATECTL_TEST_ROOT": directory.url.path])
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stderr.contains("using \(directory.url.path)/etc/kubesolo/update.conf alone"))
        #expect(plan.stdout.contains("(channel beta) "))
        let nothing = try CLI.run(["plan"], environment: ["UPDATECTL_TEST_ROOT": directory.url.appendingPathComponent("none").path])
        #expect(nothing.status == 2)
        #expect(nothing.stderr.contains("/etc/kubesolo/update.conf)"), "the error lists update.conf among the places looked")
    }

    /// A node configured the KubeSolo OS way: the server, key and channel in update.conf, the
    /// node's own settings in the policy; apply and verify end to end.
    @Test func aNodeConfiguredThroughUpdateConfUpdates() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let release = UpstreamRelease()
        try release.publish(server, version: "1.1.0")
        let node = try TestNode()
        try node.directory.write("release.pub", release.publicKeyHex)
        try node.directory.write(
            "update.conf",
            """
            server=\(server.base)
            channel=stable
            pubkey=\(node.root.appendingPathComponent("release.pub").path)
            kube_system_settle=0
            auto_rollback_after=3

            """)
        try node.directory.write(
            "policy.yaml",
            """
            updates:
              data_dir: \(node.data)
              reboot: auto
              backend: {type: directory, root: \(node.slots), initial_version: 1.0.0}

            """)
        let conf = ["--conf", node.root.appendingPathComponent("update.conf").path]
        let applied = try await node.run("apply", conf, environment: node.amd64)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(applied.stdout.contains("verify.signatures                pass"))
        let verified = try await node.run("healthcheck", conf, environment: node.amd64)
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        let status = try await CLI.runAsync(["status", "--json", "--state", node.statePath])
        #expect(status.stdout.contains("\"phase\": \"success\""), "\(status.stdout)\(status.stderr)")
    }
}
