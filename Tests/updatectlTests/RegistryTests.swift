import Crypto
import Foundation
import Testing

@testable import UpdateAgent

/// Releases pulled from a real OCI registry (Debian's docker-registry) on 127.0.0.1: multi-arch
/// indexes, layers by media type, annotations, cosign signatures, token authentication.
@Suite(.serialized) struct RegistryTests {
    static let available = TestRegistry.program != nil

    /// A node whose policy pulls from `registry` (plain HTTP on 127.0.0.1).
    func node(_ registry: TestRegistry, key: Curve25519.Signing.PrivateKey?, extra: String = "") throws -> TestNode {
        let node = try TestNode()
        var keyLine = ""
        if let key {
            try node.directory.write("release.pub", key.publicKey.rawRepresentation.map { String(format: "%02x", $0) }.joined() + "\n")
            keyLine = "  pubkey: \(node.root.appendingPathComponent("release.pub").path)\n"
        }
        try node.directory.write(
            "policy.yaml",
            """
            updates:
              registry: http://\(registry.host)/kubesolo/os
              tag: stable
            \(keyLine)  data_dir: \(node.data)
              reboot: auto
              kube_system_settle: 0
              backend: {type: directory, root: \(node.slots), initial_version: 1.0.0}
            \(extra)
            """)
        return node
    }

    /// A multi-arch index: the node takes its own architecture's manifest, verifies the cosign
    /// signature of the index, downloads both layers (digests checked while they stream) and boots them.
    @Test(.enabled(if: available))
    func aMultiArchReleaseIsPulledForThisArchitectureAndVerified() async throws {
        let registry = try await TestRegistry()
        let amd64 = try registry.pushRelease(version: "1.1.0", architecture: "amd64")
        let arm64 = try registry.pushRelease(version: "1.1.0", architecture: "arm64")
        let index = try registry.pushIndex([(amd64.digest, "amd64"), (arm64.digest, "arm64")], tag: "stable")
        let key = Curve25519.Signing.PrivateKey()
        try registry.sign(index, with: key)
        let node = try node(registry, key: key)
        let plan = try await node.run("plan")
        #expect(plan.stdout.contains("registry   http://\(registry.host)/kubesolo/os:stable (channel stable)"), "\(plan.stdout)")
        let applied = try await node.apply(environment: ["UPDATECTL_TEST_ARCH": "arm64"])
        await registry.stop()
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(applied.stdout.contains("check.signature                  pass  cosign signature of \(index.prefix(19))… verifies"))
        #expect(applied.stdout.contains("for arm64 on stable"))
        let slot = URL(fileURLWithPath: node.slots).appendingPathComponent("b")
        #expect(try Data(contentsOf: slot.appendingPathComponent("vmlinuz")) == arm64.kernel)
        #expect(try Data(contentsOf: slot.appendingPathComponent("kubesolo-os.gz")) == arm64.initramfs)
        let verified = try await node.healthcheck()
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
    }

    /// A layer download killed halfway goes on in the next run with a `Range` request the
    /// registry validates by the blob's ETag (`If-Range`), and the digest still decides.
    @Test(.enabled(if: available))
    func aLayerDownloadKilledHalfwayGoesOnFromTheRegistry() async throws {
        let registry = try await TestRegistry()
        defer { Task { await registry.stop() } }
        let release = try registry.pushRelease(version: "1.1.0", architecture: "amd64", tag: "stable", initramfsSize: 400_000)
        let node = try node(registry, key: nil)
        let environment = node.environment.merging(["UPDATECTL_TEST_ARCH": "amd64"]) { $1 }
        let process = try BackgroundProcess(
            ["apply", node.policyPath],
            environment: environment.merging(["UPDATECTL_TEST_PAUSE": "download.partway"]) { $1 })
        let reached = await process.reached("paused at download.partway")
        #expect(reached, "never reached download.partway: \(process.stderr)")
        process.kill()
        let applied = try await node.apply(environment: ["UPDATECTL_TEST_ARCH": "amd64"])
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(applied.stdout.contains("kubesolo-os.gz: going on from byte"), "\(applied.stdout)")
        #expect(!applied.stdout.contains("sent the whole file"), "\(applied.stdout)")
        let slot = URL(fileURLWithPath: node.slots).appendingPathComponent("b")
        #expect(try Data(contentsOf: slot.appendingPathComponent("kubesolo-os.gz")) == release.initramfs)
    }

    @Test(.enabled(if: available))
    func anIndexWithoutThisArchitectureFails() async throws {
        let registry = try await TestRegistry()
        defer { Task { await registry.stop() } }
        let amd64 = try registry.pushRelease(version: "1.1.0", architecture: "amd64")
        try registry.pushIndex([(amd64.digest, "amd64")], tag: "stable")
        let node = try node(registry, key: nil)
        let applied = try await node.apply(environment: ["UPDATECTL_TEST_ARCH": "riscv64"])
        #expect(applied.status == 1)
        #expect(
            applied.stderr.contains("the index http://\(registry.host)/kubesolo/os:stable has no manifest for riscv64 (it has amd64)"),
            "\(applied.stderr)")
    }

    /// A single manifest whose architecture annotation is not this machine's is refused.
    @Test(.enabled(if: available))
    func aManifestForAnotherArchitectureIsRefused() async throws {
        let registry = try await TestRegistry()
        defer { Task { await registry.stop() } }
        _ = try registry.pushRelease(version: "1.1.0", architecture: "amd64", tag: "stable")
        let node = try node(registry, key: nil)
        let applied = try await node.apply(environment: ["UPDATECTL_TEST_ARCH": "arm64"])
        #expect(applied.status == 1)
        #expect(applied.stderr.contains("refused by architecture: the release is built for amd64, but this machine is arm64"))
    }

    /// A manifest whose annotations are wrong (no version) fails with what is missing.
    @Test(.enabled(if: available))
    func aManifestWithoutItsVersionAnnotationFails() async throws {
        let registry = try await TestRegistry()
        defer { Task { await registry.stop() } }
        _ = try registry.pushRelease(version: "1.1.0", architecture: "amd64", annotations: ["io.kubesolo.os.version": ""], tag: "stable")
        let node = try node(registry, key: nil)
        let applied = try await node.apply(environment: ["UPDATECTL_TEST_ARCH": "amd64"])
        #expect(applied.status == 1)
        #expect(applied.stderr.contains("has no io.kubesolo.os.version annotation"), "\(applied.stderr)")
    }

    /// A blob changed in the registry's storage: its digest no longer matches and nothing is staged.
    @Test(.enabled(if: available))
    func aTamperedBlobFailsItsDigest() async throws {
        let registry = try await TestRegistry()
        defer { Task { await registry.stop() } }
        let built = try registry.pushRelease(version: "1.1.0", architecture: "amd64", tag: "stable")
        try registry.tamper(TestRegistry.digest(built.initramfs), with: Data("evil".utf8) + built.initramfs.dropFirst(4))
        let node = try node(registry, key: nil)
        let applied = try await node.apply(environment: ["UPDATECTL_TEST_ARCH": "amd64"])
        #expect(applied.status == 1)
        #expect(applied.stderr.contains("verify.files: sha256 mismatch: kubesolo-os.gz hashes to"), "\(applied.stderr)")
        #expect(node.marker("next") == "a")
    }

    /// With a key, no signature, a signature by another key, or one naming another digest fail closed.
    @Test(.enabled(if: available))
    func aMissingOrBadSignatureFailsClosed() async throws {
        let registry = try await TestRegistry()
        defer { Task { await registry.stop() } }
        let built = try registry.pushRelease(version: "1.1.0", architecture: "amd64", tag: "stable")
        let key = Curve25519.Signing.PrivateKey()
        let node = try node(registry, key: key)
        let unsigned = try await node.apply(environment: ["UPDATECTL_TEST_ARCH": "amd64"])
        #expect(unsigned.status == 1)
        #expect(unsigned.stderr.contains("no cosign signature was found (sha256-\(built.digest.dropFirst(7)).sig)"), "\(unsigned.stderr)")
        #expect(!unsigned.stderr.contains("download"))

        try registry.sign(built.digest, with: Curve25519.Signing.PrivateKey())
        let forged = try await node.apply(environment: ["UPDATECTL_TEST_ARCH": "amd64"])
        #expect(forged.status == 1)
        #expect(forged.stderr.contains("bad signature: sha256-"), "\(forged.stderr)")
        #expect(forged.stderr.contains("does not verify with the configured public key"))

        try registry.sign(built.digest, with: key, naming: "sha256:" + String(repeating: "0", count: 64))
        let replayed = try await node.apply(environment: ["UPDATECTL_TEST_ARCH": "amd64"])
        #expect(replayed.status == 1)
        #expect(replayed.stderr.contains("a payload that does not name \(built.digest)"), "\(replayed.stderr)")

        try registry.sign(built.digest, with: key)
        let signed = try await node.apply(environment: ["UPDATECTL_TEST_ARCH": "amd64"])
        #expect(signed.status == 0, "\(signed.stdout)\(signed.stderr)")
    }

    /// A registry that wants tokens: the token service is asked with the credentials from
    /// `registry_auth`; without them the error says what to set.
    @Test(.enabled(if: available && TestRegistry.openssl != nil))
    func aTokenAuthRegistryIsPulledWithCredentials() async throws {
        let registry = try await TestRegistry(tokenAuth: true)
        defer { Task { await registry.stop() } }
        let built = try registry.pushRelease(version: "1.1.0", architecture: "amd64", tag: "stable")
        let anonymous = try node(registry, key: nil)
        let refused = try await anonymous.apply(environment: ["UPDATECTL_TEST_ARCH": "amd64"])
        #expect(refused.status == 1)
        #expect(
            refused.stderr.contains(
                "token service http://127.0.0.1:\(registry.tokenServer!.port)/token answered HTTP 401 "
                    + "(no credentials given: `registry_auth`)"), "\(refused.stderr)")

        let node = try TestNode()
        try node.directory.write("registry-auth", TestRegistry.credentials + "\n")
        try node.directory.write(
            "policy.yaml",
            try String(contentsOfFile: anonymous.policyPath, encoding: .utf8)
                .replacingOccurrences(of: anonymous.root.path, with: node.root.path)
                + "  registry_auth: \(node.root.appendingPathComponent("registry-auth").path)\n")
        let applied = try await node.apply(environment: ["UPDATECTL_TEST_ARCH": "amd64"])
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: node.slots).appendingPathComponent("b/kubesolo-os.gz")) == built.initramfs)
        #expect(registry.tokenServer!.requests.contains("/token"))
    }

    /// `registry_auth` in update.conf: a world-readable file is warned about, a wrong password is
    /// said to be refused (naming the file), and the right one pulls; the download's resume
    /// records are gone once the release is staged. Without a key, lint says the registry's
    /// releases are unauthenticated (UPD406), as for a server.
    @Test(.enabled(if: available && TestRegistry.openssl != nil))
    func registryAuthFromUpdateConfIsCheckedAndUsed() async throws {
        let registry = try await TestRegistry(tokenAuth: true)
        defer { Task { await registry.stop() } }
        let built = try registry.pushRelease(version: "1.1.0", architecture: "amd64", tag: "stable", initramfsSize: 200_000)
        let node = try TestNode()
        let auth = node.root.appendingPathComponent("registry-auth").path
        try node.directory.write("registry-auth", "updatectl:wrong\n")
        try node.directory.write(
            "update.conf", "registry=http://\(registry.host)/kubesolo/os\ntag=stable\nregistry_auth=\(auth)\n")
        try node.directory.write(
            "policy.yaml",
            """
            updates:
              data_dir: \(node.data)
              reboot: auto
              kube_system_settle: 0
              backend: {type: directory, root: \(node.slots), initial_version: 1.0.0}
            """)
        let conf = ["--conf", node.root.appendingPathComponent("update.conf").path]
        let confLint = try await CLI.runAsync(["lint", node.root.appendingPathComponent("update.conf").path])
        #expect(confLint.status == 0 && !confLint.stdout.contains("registry_auth"), "\(confLint.stdout)")
        for (scheme, finding) in [("http", "warning[UPD406]: updates come over `http` without a public_key"), ("https", "info[UPD406]")] {
            try node.directory.write("registry.yaml", "updates:\n  registry: \(scheme)://\(registry.host)/kubesolo/os\n")
            let lint = try await CLI.runAsync(["lint", node.root.appendingPathComponent("registry.yaml").path])
            #expect(lint.stdout.contains(finding), "\(lint.stdout)")
        }

        let refused = try await node.apply(conf, environment: ["UPDATECTL_TEST_ARCH": "amd64"])
        #expect(refused.status == 1)
        #expect(
            refused.stderr.contains("warning: the registry credentials \(auth) can be read by every user (mode 0644)"),
            "\(refused.stderr)")
        #expect(refused.stderr.contains("refused the credentials in \(auth)"), "\(refused.stderr)")

        try node.directory.write("registry-auth", TestRegistry.credentials + "\n")
        chmod(auth, 0o600)
        let applied = try await node.apply(conf, environment: ["UPDATECTL_TEST_ARCH": "amd64"])
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(!applied.stderr.contains("warning"), "\(applied.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: node.slots).appendingPathComponent("b/kubesolo-os.gz")) == built.initramfs)
        #expect(node.resumeRecords.isEmpty, "left behind: \(node.resumeRecords)")
    }

    /// `node(…)` without its `tag: stable` line.
    func untagged(_ registry: TestRegistry, extra: String) throws -> TestNode {
        let node = try node(registry, key: nil, extra: extra)
        let policy = try String(contentsOfFile: node.policyPath, encoding: .utf8)
        try node.directory.write("policy.yaml", policy.replacingOccurrences(of: "  tag: stable\n", with: ""))
        return node
    }

    /// `tag: sha256:<hex>`, `registry: …@sha256:<hex>` and `--tag sha256:<hex>` pin the index
    /// by digest; the index fetched must hash to it.
    @Test(.enabled(if: available))
    func aReleaseIsPinnedByDigest() async throws {
        let registry = try await TestRegistry()
        defer { Task { await registry.stop() } }
        let amd64 = try registry.pushRelease(version: "1.1.0", architecture: "amd64")
        let index = try registry.pushIndex([(amd64.digest, "amd64")], tag: "stable")
        _ = try registry.pushRelease(version: "1.2.0", architecture: "amd64", tag: "stable")
        for (extra, flags) in [
            ("  tag: \(index)", [String]()), ("", ["--registry", "http://\(registry.host)/kubesolo/os@\(index)"]),
            ("", ["--tag", index]),
        ] {
            let node = try untagged(registry, extra: extra)
            let plan = try await node.run("plan", flags)
            #expect(plan.stdout.contains("http://\(registry.host)/kubesolo/os@\(index)"), "\(plan.stdout)\(plan.stderr)")
            let applied = try await node.apply(flags, environment: ["UPDATECTL_TEST_ARCH": "amd64"])
            #expect(applied.status == 0, "\(flags) \(applied.stdout)\(applied.stderr)")
            #expect(applied.stdout.contains("offered 1.1.0"), "\(applied.stdout)")
        }
        let node = try untagged(registry, extra: "  tag: sha256:\(String(repeating: "A", count: 64))")
        let lint = try await node.run("lint")
        #expect(lint.status == 1)
        #expect(lint.stdout.contains("policy.yaml:7:"), "\(lint.stdout)")
        #expect(lint.stdout.contains("sha256:<64 lower-case hex digits>"), "\(lint.stdout)")
    }

    /// A manifest or index that names a blob or manifest by something other than exactly
    /// `sha256:` and 64 lower-case hex digits is refused before anything else is asked: such a
    /// name would reach another path of the registry's host, with the credentials.
    @Test func malformedDigestsInAManifestAreRefusedBeforeAnyRequest() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let escape = "sha256:../../../../other/secret/" + String(repeating: "a", count: 39)
        let good = "sha256:" + String(repeating: "b", count: 64)
        let manifest = """
            {"schemaVersion": 2, "mediaType": "\(TestRegistry.manifestType)",
             "layers": [{"mediaType": "\(RegistryRelease.kernelMediaType)", "digest": "\(escape)", "size": 10},
                        {"mediaType": "\(RegistryRelease.initramfsMediaType)", "digest": "\(good)", "size": 10}],
             "annotations": {"io.kubesolo.os.version": "1.1.0"}}
            """
        let index = """
            {"schemaVersion": 2, "mediaType": "\(TestRegistry.indexType)",
             "manifests": [{"mediaType": "\(TestRegistry.manifestType)", "digest": "\(escape)", "size": 10,
                            "platform": {"architecture": "amd64", "os": "linux"}}]}
            """
        for (document, expected) in [
            (manifest, "the kernel layer of http://127.0.0.1:\(server.port)/kubesolo/os:stable has no sha256 digest"),
            (index, "names the amd64 manifest by \"\(escape)\", not a digest"),
        ] {
            let asked = Locked<[String]>([])
            server.handleEverything { request in
                asked.withLock { $0.append(request.path) }
                guard request.path == "/v2/kubesolo/os/manifests/stable" else { return TestServer.Answer(status: 404) }
                return TestServer.Answer(status: 200, body: Data(document.utf8), headers: ["Content-Type": TestRegistry.manifestType])
            }
            let node = try TestNode()
            try node.directory.write(
                "policy.yaml",
                """
                updates:
                  registry: http://127.0.0.1:\(server.port)/kubesolo/os
                  tag: stable
                  data_dir: \(node.data)
                  backend: {type: directory, root: \(node.slots), initial_version: 1.0.0}
                """)
            let applied = try await node.apply(environment: ["UPDATECTL_TEST_ARCH": "amd64"])
            #expect(applied.status == 1)
            #expect(applied.stderr.contains(expected), "\(applied.stderr)")
            #expect(asked.withLock { $0 } == ["/v2/kubesolo/os/manifests/stable"], "asked for \(asked.withLock { $0 })")
        }
    }

    /// Whatever libcurl's version, a request's `Authorization` follows a redirect to the same
    /// origin and is dropped on a redirect to another port or host; other headers go along.
    @Test func credentialHeadersStayWithTheirOrigin() async throws {
        let origin = try await TestServer(), other = try await TestServer()
        defer {
            Task {
                await origin.stop()
                await other.stop()
            }
        }
        let seen = Locked<[String: String]>([:])
        for server in [origin, other] {
            server.handle("/final") { request in
                seen.withLock { $0["\(server.port)"] = request.headers["authorization"] ?? "none" }
                return TestServer.Answer(status: 200, body: Data("final".utf8))
            }
        }
        origin.set("/away", TestServer.Answer(status: 307, headers: ["Location": "\(other.base)/final"]))
        origin.set("/here", TestServer.Answer(status: 302, headers: ["Location": "/final"]))
        for path in ["/away", "/here"] {
            let request = TransportRequest(
                url: origin.base + path, maxBytes: 1 << 10, headers: ["Authorization: Bearer secret", "Accept: x/y"])
            let answer = try await onOwnThread { try CurlTransport().fetch(request) }
            #expect(answer.response.status == 200 && answer.body == Array("final".utf8))
        }
        #expect(seen.withLock { $0 } == ["\(other.port)": "none", "\(origin.port)": "Bearer secret"])
    }

    /// Blobs redirected to another server (a CDN): it gets neither the registry's token nor its
    /// credentials, served honestly or not. When it answers 401 naming a token service of its
    /// own, nothing is sent there and the run fails saying why.
    @Test(.enabled(if: available && TestRegistry.openssl != nil))
    func credentialsStayWithTheRegistryWhenBlobsAreRedirected() async throws {
        let cdn = try await TestServer()
        defer { Task { await cdn.stop() } }
        let registry = try await TestRegistry(tokenAuth: true, redirectBlobsTo: cdn.base)
        defer { Task { await registry.stop() } }
        let hostile = Locked(false)
        let authorizations = Locked<[String]>([])
        let storage = registry.storage
        cdn.handleEverything { request in
            if let authorization = request.headers["authorization"] { authorizations.withLock { $0.append(authorization) } }
            guard !hostile.withLock({ $0 }) else {
                if request.path == "/token" { return TestServer.Answer(status: 200, body: Data(#"{"token": "stolen"}"#.utf8)) }
                return TestServer.Answer(
                    status: 401, body: Data("log in".utf8),
                    headers: ["WWW-Authenticate": #"Bearer realm="\#(cdn.base)/token",service="cdn",scope="blob:pull""#])
            }
            guard let blob = try? Data(contentsOf: storage.appendingPathComponent(request.path)) else {
                return TestServer.Answer(status: 404)
            }
            return TestServer.Answer(status: 200, body: blob)
        }
        let key = Curve25519.Signing.PrivateKey()
        let first = try registry.pushRelease(version: "1.1.0", architecture: "amd64", tag: "stable")
        try registry.sign(first.digest, with: key)
        let auth = try TemporaryDirectory()
        try auth.write("registry-auth", TestRegistry.credentials + "\n")
        let node = try node(registry, key: key, extra: "  registry_auth: \(auth.url.appendingPathComponent("registry-auth").path)")
        let applied = try await node.apply(environment: ["UPDATECTL_TEST_ARCH": "amd64"])
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(cdn.requests.contains { $0.hasSuffix("/data") }, "the blobs did not come from the CDN: \(cdn.requests)")
        #expect(authorizations.withLock { $0 }.isEmpty, "the CDN saw \(authorizations.withLock { $0 })")
        let verified = try await node.healthcheck()
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")

        hostile.withLock { $0 = true }
        let second = try registry.pushRelease(version: "1.2.0", architecture: "amd64", tag: "stable")
        try registry.sign(second.digest, with: key)
        let refused = try await node.apply(environment: ["UPDATECTL_TEST_ARCH": "amd64"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("was redirected to \(cdn.base), which answered HTTP 401"), "\(refused.stderr)")
        #expect(!cdn.requests.contains { $0.hasSuffix("/token") }, "the CDN's token service was asked: \(cdn.requests)")
        #expect(authorizations.withLock { $0 }.isEmpty, "the CDN saw \(authorizations.withLock { $0 })")
    }
}

/// A value shared with a server's handler threads.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) -> T) -> T { lock.withLock { body(&value) } }
}

extension TestNode {
    /// The `FILE.resume` records anywhere under the node's folder.
    var resumeRecords: [String] {
        let walker = FileManager.default.enumerator(atPath: root.path)
        return (walker?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".resume") }
    }
}
