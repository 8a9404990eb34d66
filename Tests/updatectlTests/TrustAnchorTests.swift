import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The public key file and the policy are what a node trusts: whoever can change one chooses
/// what root installs. One that someone other than root (or the user running updatectl) could
/// change — a file writable by group or others, a directory above it that others can write, a
/// file of another user, a link another user owns — is refused by `apply --strict`, warned
/// about without it, and reported by `lint --on-host`; a key of root's, mode 0644 in a 0755
/// directory, passes and verifies the release.
@Suite struct TrustAnchorTests {
    /// How a test makes a path untrusted; the cases that need another owner need root, to chown.
    enum Weakness: String, CaseIterable, Sendable {
        case groupWritableFile, othersWritableDirectory, otherUsersFile, otherUsersLink

        var needsRoot: Bool { self == .otherUsersFile || self == .otherUsersLink }
    }

    /// A user id that is neither root nor this process's (nobody's).
    static let otherUser: uid_t = 65534

    /// A node of UpstreamReleaseTests' kind with its key at `keys/release.pub` (file 0644, every
    /// directory the test made 0755) and a release on offer.
    func setUp() async throws -> (TestServer, TestNode, key: String) {
        let server = try await TestServer()
        let release = UpstreamRelease()
        try release.publish(server, version: "1.1.0")
        let node = try TestNode.upstream(release, server: server, keyFile: "keys/release.pub")
        let key = node.root.appendingPathComponent("keys/release.pub").path
        chmod(node.root.path, 0o755)
        chmod(node.root.appendingPathComponent("keys").path, 0o755)
        chmod(key, 0o644)
        return (server, node, key)
    }

    /// Makes the key untrusted; returns the path the policy names and what updatectl says of it.
    func weaken(_ weakness: Weakness, key: String, node: TestNode) throws -> (named: String, said: String) {
        let keys = node.root.appendingPathComponent("keys").path
        switch weakness {
        case .groupWritableFile:
            chmod(key, 0o664)
            return (key, "the public key file \(key) is writable by group or others (mode 0664)")
        case .othersWritableDirectory:
            chmod(keys, 0o777)
            return (key, "the public key file \(key): \(keys) is writable by group or others (mode 0777)")
        case .otherUsersFile:
            chown(key, Self.otherUser, Self.otherUser)
            return (key, "the public key file \(key) belongs to uid \(Self.otherUser), neither root nor the user running updatectl")
        case .otherUsersLink:
            let link = node.root.appendingPathComponent("link.pub").path
            symlink(key, link)
            lchown(link, Self.otherUser, Self.otherUser)
            let policy = try String(contentsOfFile: node.policyPath, encoding: .utf8)
            try node.directory.write("policy.yaml", policy.replacingOccurrences(of: key, with: link))
            return (link, "the public key file \(link) is a symbolic link owned by uid \(Self.otherUser)")
        }
    }

    @Test(arguments: Weakness.allCases.filter { !$0.needsRoot || getuid() == 0 })
    func anUntrustedKeyFileIsRefusedUnderStrictAndReported(_ weakness: Weakness) async throws {
        let (server, node, key) = try await setUp()
        defer { Task { await server.stop() } }
        let (_, said) = try weaken(weakness, key: key, node: node)

        let strict = try await node.apply(["--strict"], environment: node.amd64)
        #expect(strict.status == 1, "\(strict.stdout)\(strict.stderr)")
        #expect(strict.stderr.contains("error: \(said)"), "\(strict.stderr)")
        #expect(!FileManager.default.fileExists(atPath: node.statePath), "refused before the run")
        #expect(!server.requests.contains("/latest.json"), "refused before anything is fetched")

        let host = try await CLI.runAsync(["lint", "--format", "concise", "--on-host", node.policyPath], environment: node.environment)
        #expect(host.status == 1, "\(host.stdout)")
        #expect(host.stdout.contains(":3:11: error[UPD506] \(said)"), "\(host.stdout)")

        let warned = try await node.apply(environment: node.amd64)
        #expect(warned.stderr.contains("warning: \(said)"), "\(warned.stderr)")
        #expect(warned.status == 0, "without --strict a warning: \(warned.stdout)\(warned.stderr)")
    }

    /// A key file of root's (or this user's), 0644 in 0755 directories, passes: `apply --strict`
    /// verifies the release with it and `lint --on-host` says nothing of the key or the policy.
    @Test func aKeyFileOnlyRootCanChangePasses() async throws {
        let (server, node, _) = try await setUp()
        defer { Task { await server.stop() } }
        let host = try await CLI.runAsync(["lint", "--format", "concise", "--on-host", node.policyPath], environment: node.environment)
        #expect(!host.stdout.contains("UPD506") && !host.stdout.contains("UPD507"), "\(host.stdout)")
        let strict = try await node.apply(["--strict"], environment: node.amd64)
        #expect(strict.status == 0, "\(strict.stdout)\(strict.stderr)")
        #expect(strict.stdout.contains("check.signature") && strict.stdout.contains("signature verifies"), "\(strict.stdout)")
        #expect(!strict.stderr.contains("warning:"), "\(strict.stderr)")
    }

    /// `apply --strict` refuses the node's policy saying `said`, and `lint --on-host` reports it
    /// as UPD506 (`at` the position, when given).
    func expectRefusedAndReported(
        _ node: TestNode, _ said: String, at position: String, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let strict = try await node.apply(["--strict"], environment: node.amd64)
        #expect(strict.status == 1, "\(strict.stdout)\(strict.stderr)", sourceLocation: sourceLocation)
        #expect(strict.stderr.contains("error: \(said)"), "\(strict.stderr)", sourceLocation: sourceLocation)
        let host = try await CLI.runAsync(["lint", "--format", "concise", "--on-host", node.policyPath], environment: node.environment)
        #expect(host.stdout.contains("\(position)error[UPD506] \(said)"), "\(host.stdout)", sourceLocation: sourceLocation)
    }

    /// Every key file of a `public_key` list is a trust anchor: a second key others can write is
    /// as dangerous as the first, since any one key verifies.
    @Test func everyKeyOfAListIsJudged() async throws {
        let (server, node, key) = try await setUp()
        defer { Task { await server.stop() } }
        let second = node.root.appendingPathComponent("keys/next.pub").path
        try FileManager.default.copyItem(atPath: key, toPath: second)
        chmod(second, 0o666)
        let policy = try String(contentsOfFile: node.policyPath, encoding: .utf8)
        try node.directory.write("policy.yaml", policy.replacingOccurrences(of: "pubkey: \(key)", with: "public_key: [\(key), \(second)]"))
        try await expectRefusedAndReported(
            node, "the public key file \(second) is writable by group or others (mode 0666)", at: ":3:15: ")
        chmod(second, 0o644)
        let applied = try await node.apply(["--strict"], environment: node.amd64)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
    }

    /// `ca_file` decides which servers are genuine: judged as the key is, and a missing one is
    /// reported by `lint --on-host`.
    @Test func theCAFileIsATrustAnchor() async throws {
        let (server, node, _) = try await setUp()
        defer { Task { await server.stop() } }
        let ca = node.root.appendingPathComponent("keys/ca.pem").path
        try node.directory.write("keys/ca.pem", "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
        chmod(ca, 0o666)
        let policy = try String(contentsOfFile: node.policyPath, encoding: .utf8)
        try node.directory.write("policy.yaml", policy + "  ca_file: \(ca)\n")
        try await expectRefusedAndReported(
            node, "the certificate authorities of `ca_file` \(ca) is writable by group or others (mode 0666)", at: "")
        try FileManager.default.removeItem(atPath: ca)
        let missing = try await CLI.runAsync(["lint", "--format", "concise", "--on-host", node.policyPath], environment: node.environment)
        #expect(missing.stdout.contains("error[UPD502] the certificate authorities of `ca_file` \(ca) cannot be read here"))
    }

    /// The policy itself: a policy file of another user, or one in a directory others can write,
    /// is refused by `apply --strict` and reported at line 1 by `lint --on-host` (UPD507).
    @Test(arguments: getuid() == 0 ? [false, true] : [false])
    func anUntrustedPolicyIsRefusedUnderStrictAndReported(_ otherUsersFile: Bool) async throws {
        let (server, node, _) = try await setUp()
        defer { Task { await server.stop() } }
        let etc = node.root.appendingPathComponent("etc").path
        try node.directory.write("etc/policy.yaml", try String(contentsOfFile: node.policyPath, encoding: .utf8))
        let policy = etc + "/policy.yaml"
        chmod(policy, 0o644)
        let said: String
        if otherUsersFile {
            chmod(etc, 0o755)
            chown(policy, Self.otherUser, Self.otherUser)
            said = "the policy \(policy) belongs to uid \(Self.otherUser)"
        } else {
            chmod(etc, 0o777)
            said = "the policy \(policy): \(etc) is writable by group or others (mode 0777)"
        }
        let strict = try await CLI.runAsync(["apply", "--strict", policy], environment: node.environment.merging(node.amd64) { $1 })
        #expect(strict.status == 1, "\(strict.stdout)\(strict.stderr)")
        #expect(strict.stderr.contains("error: \(said)"), "\(strict.stderr)")
        #expect(!FileManager.default.fileExists(atPath: node.statePath), "refused before the run")

        let host = try await CLI.runAsync(["lint", "--format", "concise", "--on-host", policy], environment: node.environment)
        #expect(host.stdout.contains(":1:1: warning[UPD507] \(said)"), "\(host.stdout)")
    }
}
