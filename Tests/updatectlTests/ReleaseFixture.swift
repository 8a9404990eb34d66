import Crypto
import Foundation

/// A signed release served by a `TestServer`: image, `latest.json` and `latest.json.sig`, with a
/// key made by the test.
struct ReleaseFixture {
    let key = Curve25519.Signing.PrivateKey()
    var publicKeyText: String { "ed25519:" + key.publicKey.rawRepresentation.base64EncodedString() }

    /// Serves `version` on `channel`; returns the metadata bytes.
    @discardableResult
    func publish(
        _ server: TestServer, version: String, image: Data, channel: String = "stable",
        extra: [String: String] = [:], sizeOverride: Int? = nil, signWith other: Curve25519.Signing.PrivateKey? = nil
    )
        throws -> Data
    {
        let digest = SHA256.hash(data: image).map { String(format: "%02x", $0) }.joined()
        var fields = [
            "\"version\": \"\(version)\"", "\"url\": \"images/os-\(version).img\"", "\"sha256\": \"\(digest)\"",
            "\"size\": \(sizeOverride ?? image.count)",
        ]
        for (key, value) in extra.sorted(by: { $0.key < $1.key }) { fields.append("\"\(key)\": \(value)") }
        let metadata = Data(("{" + fields.joined(separator: ", ") + "}\n").utf8)
        let signature = try (other ?? key).signature(for: metadata)
        server.set("/\(channel)/latest.json", body: metadata)
        server.set("/\(channel)/latest.json.sig", body: Data(signature.base64EncodedString().utf8))
        server.set("/\(channel)/images/os-\(version).img", body: image)
        return metadata
    }

    static func image(_ size: Int, seed: UInt8 = 1) -> Data {
        Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) })
    }
}

/// A node: a temp directory with a data_dir, a directory backend root and a policy.
final class TestNode {
    /// A test server offering `version` (signed), and a node whose policy points at it.
    static func offered(
        _ version: String = "1.1.0", imageSize: Int = 1000, publicKey: Bool = true,
        preflight: String = "    - free_space: {headroom: 10%}\n", extra: String = "",
        autoRollbackAfter: Int = 3
    ) async throws -> (TestServer, ReleaseFixture, TestNode) {
        let server = try await TestServer()
        let release = ReleaseFixture()
        try release.publish(server, version: version, image: ReleaseFixture.image(imageSize))
        let node = try TestNode()
        try node.writePolicy(
            server: server.base, publicKey: publicKey ? release.publicKeyText : nil, preflight: preflight,
            extra: extra.replacingOccurrences(of: "SERVER", with: server.base),
            autoRollbackAfter: autoRollbackAfter)
        return (server, release, node)
    }

    let directory: TemporaryDirectory
    var root: URL { directory.url }
    var slots: String { root.appendingPathComponent("slots").path }
    var data: String { root.appendingPathComponent("data").path }
    var policyPath: String { root.appendingPathComponent("policy.yaml").path }
    var statePath: String { data + "/update/state.json" }

    init() throws { directory = try TemporaryDirectory() }

    func writePolicy(
        server: String, publicKey: String?, preflight: String = "    - free_space: {headroom: 10%}\n",
        reboot: String = "auto", extra: String = "", autoRollbackAfter: Int = 3
    ) throws {
        // These nodes read updatectl's per-channel layout and one-image form; KubeSolo OS's layout
        // and pair have tests of their own (UpstreamReleaseTests).
        var text = "updates:\n  server: \(server)  # updatectl: disable=UPD406\n  layout: per_channel\n"
        if let publicKey { text += "  public_key: \(publicKey)\n" }
        text += "  data_dir: \(data)\n  reboot: \(reboot)\n  auto_rollback_after: \(autoRollbackAfter)\n"
        text += "  preflight:\n" + preflight
        text += "  backend: {type: directory, root: \(slots), initial_version: 1.0.0}\n" + extra
        try directory.write("policy.yaml", text)
    }

    /// A kubeconfig for kubectl that points at `server`; returns its path.
    @discardableResult
    func writeKubeconfig(server: String) throws -> String {
        try directory.write(
            "kubeconfig",
            """
            apiVersion: v1
            kind: Config
            clusters: [{name: fake, cluster: {server: "\(server)"}}]
            users: [{name: test, user: {token: secret}}]
            contexts: [{name: test, context: {cluster: fake, user: test}}]
            current-context: test

            """)
        return root.appendingPathComponent("kubeconfig").path
    }

    /// A marker of the directory backend. A root where nothing was written yet reads as the
    /// backend reads it: slot `a` booted, next and committed.
    func marker(_ name: String) -> String? {
        let value = (try? String(contentsOfFile: slots + "/" + name, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        if value == nil, ["booted", "next", "committed"].contains(name), !FileManager.default.fileExists(atPath: slots + "/booted") {
            return "a"
        }
        return value
    }

    /// The node's environment: a fixed clock, no kubeconfig, and a PATH without kubectl (a node
    /// without Kubernetes). Tests that talk to a cluster add `TestNode.withKubectl`.
    var environment: [String: String] {
        [
            "UPDATECTL_TEST_NOW": "2026-11-26T03:00:00Z", "KUBECONFIG": root.appendingPathComponent("none").path,
            "PATH": root.appendingPathComponent("no-kubectl").path,
        ]
    }

    /// PATH with the real kubectl on it, the way the product finds it.
    static var withKubectl: [String: String] {
        guard let kubectl = TestComponents.program("kubectl") else { return [:] }
        return ["PATH": URL(fileURLWithPath: kubectl).deletingLastPathComponent().path]
    }

    func state() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: statePath))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    func healthcheck(environment: [String: String] = [:]) async throws -> CLI.Result {
        try await run("healthcheck", environment: environment)
    }

    func run(_ command: String, _ extra: [String] = [], environment: [String: String] = [:]) async throws -> CLI.Result {
        try await CLI.runAsync([command, policyPath] + extra, environment: self.environment.merging(environment) { $1 })
    }

    func apply(_ extra: [String] = [], environment: [String: String] = [:]) async throws -> CLI.Result {
        try await run("apply", extra, environment: environment)
    }
}
