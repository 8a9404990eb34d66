import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct HostChecksTests {
    /// A Kubernetes gate or probe (the default kube_system_ready one included) on a host without
    /// kubectl on PATH is a warning; with kubectl there is none.
    @Test func lintOnHostWarnsWhenKubectlIsMissing() throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            "policy.yaml",
            """
            updates:
              server: https://u.example.com  # updatectl: disable=UPD406
              preflight:
                - free_space: {}
                - node_not_blocked: {}

            """)
        let policy = directory.url.appendingPathComponent("policy.yaml").path
        let without = try CLI.run(["lint", "--format", "concise", "--on-host", policy], environment: ["PATH": directory.url.path])
        let lines = without.stdout.split(separator: "\n").map(String.init)
        #expect(
            lines.contains {
                $0.contains(":5:7: warning[UPD504] kubectl is not installed (not on PATH): gate `node_not_blocked` cannot ask the cluster")
            },
            "\(without.stdout)")
        #expect(lines.contains { $0.contains(":2:3: warning[UPD504] kubectl is not installed (not on PATH): probe `kube_system_ready`") })
        if let kubectl = TestComponents.program("kubectl") {
            let with = try CLI.run(
                ["lint", "--format", "concise", "--on-host", policy],
                environment: ["PATH": URL(fileURLWithPath: kubectl).deletingLastPathComponent().path])
            #expect(!with.stdout.contains("UPD504"), "\(with.stdout)")
        }
    }

    /// A policy that names no backend drives a KubeSolo OS node: `plan` says kubesolo and `lint
    /// --on-host` checks this host's boot layout and says why; a `directory` backend, which
    /// changes no real system, is a warning on a host (UPD505).
    @Test func lintOnHostSaysWhichBackendRunsHere() throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            "policy.yaml",
            """
            updates:
              server: https://u.example.com  # updatectl: disable=UPD406
              kube_system_settle: 0
              backend:
                grubenv: \(directory.url.path)/no-grubenv

            """)
        let policy = directory.url.appendingPathComponent("policy.yaml").path
        let plan = try CLI.run(["plan", policy])
        #expect(
            plan.stdout.contains("  backend    kubesolo, slots KSOLOA/KSOLOB, GRUB environment \(directory.url.path)/no-grubenv"),
            "\(plan.stdout)")
        let host = try CLI.run(["lint", "--format", "json", "--on-host", policy])
        #expect(host.status == 1)
        #expect(host.stdout.contains("the policy names no `backend:`, so it is kubesolo"), "\(host.stdout)")
        try directory.write(
            "toy.yaml",
            """
            updates:
              server: https://u.example.com  # updatectl: disable=UPD406
              kube_system_settle: 0
              backend: {type: directory, root: \(directory.url.path)/slots}

            """)
        let toy = try CLI.run(["lint", "--format", "concise", "--on-host", directory.url.appendingPathComponent("toy.yaml").path])
        #expect(
            toy.stdout.split(separator: "\n").contains {
                $0.contains("toy.yaml:4:") && $0.contains("warning[UPD505] the directory backend changes no real system")
            }, "\(toy.stdout)")
        #expect(!toy.stdout.contains("UPD502"), "\(toy.stdout)")
    }

    /// A key file holding a key the signature rules refuse (the identity point: small order; a
    /// non-canonical encoding) is reported by `lint --on-host`, where the key is read.
    @Test func lintOnHostReportsAKeyTheSignatureRulesRefuse() throws {
        let directory = try TemporaryDirectory()
        for (name, hex, reason) in [
            ("identity.pub", "01" + String(repeating: "00", count: 31), "a point of small order"),
            ("noncanonical.pub", "ed" + String(repeating: "ff", count: 30) + "7f", "not a canonical Ed25519 encoding"),
        ] {
            try directory.write(name, hex + "\n")
            try directory.write(
                "policy.yaml",
                """
                updates:
                  server: https://u.example.com
                  public_key: \(directory.url.path)/\(name)
                  auto_rollback_after: 3

                """)
            let policy = directory.url.appendingPathComponent("policy.yaml").path
            let host = try CLI.run(["lint", "--format", "concise", "--on-host", policy])
            #expect(host.status == 1, "\(host.stdout)")
            #expect(
                host.stdout.contains(":3:15: error[UPD502] the public key file \(directory.url.path)/\(name): the public key is \(reason)"),
                "\(host.stdout)")
        }
    }

    @Test func lintOnHostChecksProgramsKeysAndPermissions() throws {
        let directory = try TemporaryDirectory()
        let unsafe = directory.url.appendingPathComponent("check.sh").path
        try directory.write("check.sh", "#!/bin/sh\nexit 0\n")
        chmod(unsafe, 0o777)
        try directory.write(
            "policy.yaml",
            """
            updates:
              server: https://u.example.com
              public_key: \(directory.url.path)/missing.pub
              auto_rollback_after: 3
              preflight:
                - free_space: {}
                - exec: {name: present, command: [/bin/true]}
                - exec: {name: missing, command: [/usr/local/bin/not-installed-anywhere]}
                - exec: {name: unsafe, command: [\(unsafe)]}

            """)
        let policy = directory.url.appendingPathComponent("policy.yaml").path
        chmod(policy, 0o666)
        // Without --on-host lint looks at the file only: it runs in CI, far from the node.
        let plain = try CLI.run(["lint", "--format", "concise", policy])
        #expect(plain.status == 0, "\(plain.stdout)")
        let host = try CLI.run(["lint", "--format", "concise", "--on-host", policy])
        #expect(host.status == 1)
        let lines = host.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.contains(":3:15: error[UPD502] cannot read the public key file") })
        #expect(lines.contains { $0.contains(":8:38: error[UPD501] gate `missing`: /usr/local/bin/not-installed-anywhere does not exist") })
        #expect(
            lines.contains {
                $0.contains(":9:") && $0.contains("error[UPD501] gate `unsafe`: \(unsafe) is writable by group or others (mode 0777)")
            })
        #expect(lines.contains { $0.contains(":1:1: warning[UPD503] the policy file is writable by group or others (mode 0666)") })
        #expect(!lines.contains { $0.contains("present") })
    }

    /// A fleet lock's certificate files and id file must be readable on the node; a missing one is
    /// an error where the policy names it, a present one is not reported.
    @Test func lintOnHostChecksTheFleetLockFiles() throws {
        let directory = try TemporaryDirectory()
        try directory.write("ca.pem", "-----BEGIN CERTIFICATE-----\n")
        try directory.write(
            "policy.yaml",
            """
            updates:
              server: https://u.example.com  # updatectl: disable=UPD406
              kube_system_settle: 0
              preflight:
                - free_space: {}
                - fleet_lock:
                    engine: etcd
                    endpoints: [https://127.0.0.1:2379]
                    ca_file: \(directory.url.path)/ca.pem
                    cert_file: \(directory.url.path)/client.pem
                    key_file: \(directory.url.path)/client.key

            """)
        let policy = directory.url.appendingPathComponent("policy.yaml").path
        let plain = try CLI.run(["lint", "--format", "concise", policy])
        #expect(plain.status == 0, "\(plain.stdout)")
        let host = try CLI.run(["lint", "--format", "concise", "--on-host", policy])
        #expect(host.status == 1, "\(host.stdout)")
        let lines = host.stdout.split(separator: "\n").map(String.init)
        #expect(
            lines.contains { $0.contains(":10:20: error[UPD502] gate `fleet_lock`: cannot read \(directory.url.path)/client.pem") },
            "\(host.stdout)")
        #expect(lines.contains { $0.contains(":11:19: error[UPD502] gate `fleet_lock`: cannot read \(directory.url.path)/client.key") })
        #expect(!lines.contains { $0.contains("ca.pem") })
    }

    @Test func strictRefusesAPolicyOthersCanWrite() throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            "policy.yaml",
            "updates:\n  server: http://127.0.0.1:9\n  data_dir: \(directory.url.path)/data\n"
                + "  backend: {type: directory, root: \(directory.url.path)/slots}\n")
        let policy = directory.url.appendingPathComponent("policy.yaml").path
        chmod(policy, 0o666)
        let strict = try CLI.run(["apply", "--strict", policy])
        #expect(strict.status == 1)
        #expect(strict.stderr.contains("error: the policy \(policy) is writable by group or others"))
        #expect(!FileManager.default.fileExists(atPath: directory.url.path + "/data/update/state.json"))
        let warned = try CLI.run(["apply", policy])
        #expect(warned.stderr.contains("warning: the policy \(policy) is writable by group or others (mode 0666)"))
    }
}
