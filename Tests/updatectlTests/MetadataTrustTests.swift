import Crypto
import Foundation
import Testing
import UpdateAgent

/// What a signature on release metadata means: unsigned metadata cannot state a version, a replay
/// of an older signed document is refused, a frozen one is noticed, sizes bound downloads, keys
/// rotate, and a private CA needs no change to the system's bundle. Each test starts the real
/// `updatectl` against a real server on 127.0.0.1 that misbehaves as an attacker's would.
@Suite struct MetadataTrustTests {
    func published(_ options: UpstreamRelease.Options = .init(), version: String = "1.1.0") async throws -> (TestServer, UpstreamRelease) {
        let server = try await TestServer()
        let release = UpstreamRelease()
        try release.publish(server, version: version, options: options)
        return (server, release)
    }

    /// Serves `text` as latest.json, signed (hex) beside it at `signatureAt`.
    func sign(_ text: String, _ release: UpstreamRelease, on server: TestServer, signatureAt: String = "/latest.json.sig") throws {
        server.set("/latest.json", body: Data(text.utf8))
        server.set(signatureAt, body: try #require(try release.signature(Data(text.utf8), .hex)))
    }

    /// The run failed (exit 1) and said `text` on standard error.
    func expectRefused(_ result: CLI.Result, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 1, "\(result.stdout)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(text), "\(result.stderr)", sourceLocation: sourceLocation)
    }

    func slotB(_ node: TestNode) -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: node.slots + "/b")) ?? [] }

    /// Unsigned metadata that calls genuine, signed 1.1.0 files "9.0.0" would take a node on 1.2.0
    /// back past `no_downgrade` and then refuse every real release as not newer than 9.0.0.
    @Test func unsignedMetadataCannotStateAVersion() async throws {
        var options = UpstreamRelease.Options()
        options.metadataSignature = .none
        let (server, release) = try await published(options)
        defer { Task { await server.stop() } }
        let genuine = String(decoding: try #require(server.body("/latest.json")), as: UTF8.self)
        server.set(
            "/latest.json", body: Data(genuine.replacingOccurrences(of: "\"version\": \"1.1.0\"", with: "\"version\": \"9.0.0\"").utf8))
        let node = try TestNode.upstream(release, server: server, initialVersion: "1.2.0")
        let applied = try await node.apply(environment: node.amd64)
        expectRefused(applied, "the metadata is not signed")
        #expect(slotB(node).isEmpty, "nothing staged")
        #expect(!server.requests.contains { $0.hasSuffix("/1.1.0/vmlinuz") }, "no file fetched")
        #expect(try node.state()["last_failure_reason"] as? String == "signature")
    }

    /// The signature is looked for beside the metadata, a place the metadata cannot move; where
    /// its `metadata_sig_url` points only when the policy says so.
    @Test func theMetadataCannotMoveItsOwnSignature() async throws {
        let (server, release) = try await published()
        defer { Task { await server.stop() } }
        let genuine = String(decoding: try #require(server.body("/latest.json")), as: UTF8.self)
        server.remove("/latest.json.sig")
        try sign(
            genuine.replacingOccurrences(of: "\"metadata_sig_url\": \"latest.json.sig\"", with: "\"metadata_sig_url\": \"sigs/latest\""),
            release, on: server, signatureAt: "/sigs/latest")
        let node = try TestNode.upstream(release, server: server)
        let refused = try await node.apply(environment: node.amd64)
        expectRefused(
            refused, "it names metadata_sig_url \(server.base)/sigs/latest, which is looked at only with `follow_metadata_sig_url: true`")
        let following = try TestNode.upstream(release, server: server, extra: "  follow_metadata_sig_url: true")
        let applied = try await following.apply(environment: following.amd64)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(applied.stdout.contains("signature verifies (\(server.base)/sigs/latest)"), "\(applied.stdout)")
    }

    /// Yesterday's genuinely signed document, served again after a newer one was accepted, is a
    /// replay: deferred (the node waits for a newer one), unless `--force` says it is wanted.
    /// `status` says what was accepted.
    @Test func anOlderSignedDocumentIsARefusedReplay() async throws {
        var newer = UpstreamRelease.Options()
        newer.minCompatibleVersion = "5.0.0"  // refused by a gate: accepted as metadata, never installed
        newer.releaseDate = "2026-11-25T10:00:00Z"
        let (server, release) = try await published(newer, version: "1.2.0")
        defer { Task { await server.stop() } }
        let node = try TestNode.upstream(release, server: server)
        let first = try await node.apply(environment: node.amd64)
        #expect(first.stdout.contains("check.signature                  pass"), "\(first.stdout)")
        #expect(first.status != 0, "the gate refuses 1.2.0")
        let status = try await node.run("status")
        #expect(
            status.stdout.contains(
                "signed metadata  1.2.0, release_date 2026-11-25T10:00:00Z (17h ago), accepted 2026-11-26T03:00:00Z"),
            "\(status.stdout)")
        try release.publish(server, version: "1.1.0")
        let checked = try await node.run("check", environment: node.amd64)
        #expect(checked.status == 5, "\(checked.stdout)\(checked.stderr)")
        #expect(checked.stdout.contains("no update: the metadata offers 1.1.0, older than"), "\(checked.stdout)")
        let replayed = try await node.apply(environment: node.amd64)
        // Deferred as a gate defers (exit 3): the node waits for a newer release.
        #expect(replayed.status == 3, "\(replayed.stdout)\(replayed.stderr)")
        #expect(
            replayed.stdout.contains(
                "check.signature                  block the metadata offers 1.1.0, older than the newest signed metadata "
                    + "accepted (1.2.0, release_date 2026-11-25T10:00:00Z, at 2026-11-26T03:00:00Z): a replayed document"),
            "\(replayed.stdout)")
        #expect(try node.state()["deferred_gate"] as? String == "check.signature")
        #expect(slotB(node).isEmpty)
        let forced = try await node.apply(["--force"], environment: node.amd64)
        #expect(forced.status == 0, "\(forced.stdout)\(forced.stderr)")
        #expect(forced.stdout.contains("older than the newest signed metadata accepted"), "\(forced.stdout)")
        #expect(forced.stdout.contains("accepted (--force)"))
        // What --force let pass does not lower the record: the node now runs 1.1.0 (up to date),
        // and 1.2.0 stays the newest accepted.
        #expect(try await node.healthcheck().status == 0)
        let again = try await node.apply(environment: node.amd64)
        #expect(again.stdout.contains("up to date"), "\(again.stdout)")
        let after = try await node.run("status")
        #expect(after.stdout.contains("signed metadata  1.2.0, release_date 2026-11-25T10:00:00Z"), "\(after.stdout)")
    }

    /// `max_metadata_age`: a mirror frozen on an old, validly signed document is noticed.
    @Test func metadataOlderThanMaxMetadataAgeIsRefused() async throws {
        let (server, release) = try await published()
        defer { Task { await server.stop() } }
        let strict = try TestNode.upstream(release, server: server, extra: "  max_metadata_age: 72h")
        let refused = try await strict.apply(environment: strict.amd64)
        expectRefused(refused, "the metadata is 5d 17h old (release_date 2026-11-20T10:00:00Z), older than `max_metadata_age` (72h)")
        #expect(try strict.state()["last_failure_reason"] as? String == "metadata")
        let lenient = try TestNode.upstream(release, server: server, extra: "  max_metadata_age: 168h")
        let applied = try await lenient.apply(environment: lenient.amd64)
        #expect(applied.status == 0, "\(applied.stderr)")

        var undated = UpstreamRelease.Options()
        undated.releaseDate = nil
        try release.publish(server, version: "1.1.0", options: undated)
        let unknown = try await strict.apply(environment: strict.amd64)
        expectRefused(unknown, "the metadata has no release_date updatectl can read")
    }

    /// Signed sizes (`vmlinuz_size`, `initramfs_size`) bound the download: a server that sends
    /// more is cut off at the first chunk past them, not after the junk.
    @Test func aFileLongerThanItsSignedSizeIsCutOff() async throws {
        let (server, release) = try await published()
        defer { Task { await server.stop() } }
        let genuine = String(decoding: try #require(server.body("/latest.json")), as: UTF8.self)
        try sign(
            genuine.replacingOccurrences(of: "{\n", with: "{\n  \"vmlinuz_size\": 3000, \"initramfs_size\": 9000,\n"), release, on: server)
        let kernel = try #require(server.body("/1.1.0/vmlinuz"))
        server.set("/1.1.0/vmlinuz", body: kernel + Data(repeating: 0x41, count: 4 << 20))
        let node = try TestNode.upstream(release, server: server)
        let applied = try await node.apply(environment: node.amd64)
        expectRefused(applied, "vmlinuz is larger than the 3000 bytes announced; cut off at the first byte past them")
        #expect(!server.requests.contains("HEAD /1.1.0/vmlinuz"), "a signed size needs no HEAD")
    }

    /// Without signed sizes, a file is bounded by `download.max_release_size`: refused before
    /// the download when the server says more, cut off there when it says nothing.
    @Test func withoutSignedSizesMaxReleaseSizeBoundsAFile() async throws {
        let (server, release) = try await published()
        defer { Task { await server.stop() } }
        let kernel = try #require(server.body("/1.1.0/vmlinuz"))
        let endless = kernel + Data(repeating: 0x41, count: 1 << 20)
        server.set("/1.1.0/vmlinuz", body: endless)
        // No free_space gate: it would refuse a file of unknown size before the download.
        let node = try TestNode.upstream(
            release, server: server, extra: "  download: {max_release_size: 64KiB}", gate: "no_downgrade: true")
        let said = try await node.apply(environment: node.amd64)
        expectRefused(
            said,
            "the server says vmlinuz is 1.0 MiB (Content-Length), more than `download.max_release_size` (64KiB): refused "
                + "before the download")
        #expect(!server.requests.contains("/1.1.0/vmlinuz"), "no GET")
        // A server that answers no HEAD: the GET is cut off at max_release_size.
        server.handle("/1.1.0/vmlinuz") { request in
            request.method == "HEAD" ? TestServer.Answer(status: 405) : TestServer.Answer(body: endless)
        }
        let cut = try await node.apply(environment: node.amd64)
        expectRefused(cut, "vmlinuz is larger than `download.max_release_size` (64KiB), and the metadata gives no size; cut off")
    }

    /// What is missing on the server is said before any gate or download: a file (its HEAD
    /// answers 404) and a file's signature.
    @Test func whatTheServerLacksIsSaidBeforeTheDownload() async throws {
        let (server, release) = try await published()
        defer { Task { await server.stop() } }
        let node = try TestNode.upstream(release, server: server)
        let signature = try #require(server.body("/1.1.0/vmlinuz.sig"))
        server.remove("/1.1.0/vmlinuz.sig")
        let unsigned = try await node.apply(environment: node.amd64)
        expectRefused(unsigned, "/1.1.0/vmlinuz.sig answered HTTP 404: the signature is missing")
        #expect(!server.requests.contains("/1.1.0/vmlinuz") && !server.requests.contains("/1.1.0/kubesolo-os.gz"), "no download")
        server.set("/1.1.0/vmlinuz.sig", body: signature)
        server.remove("/1.1.0/vmlinuz")
        let missing = try await node.apply(environment: node.amd64)
        expectRefused(missing, "HEAD \(server.base)/1.1.0/vmlinuz answered HTTP 404: the server does not have vmlinuz")
        #expect(!missing.stdout.contains("preflight.free_space"), "before the gates")
        #expect(try node.state()["last_failure_reason"] as? String == "network")
    }

    /// `public_key` as a list: any one key verifies, so a key can be rotated without a flag day.
    @Test func aKeyListVerifiesWithAnyOfItsKeys() async throws {
        let (server, release) = try await published()
        defer { Task { await server.stop() } }
        func inline(_ key: Curve25519.Signing.PrivateKey) -> String { "ed25519:" + key.publicKey.rawRepresentation.base64EncodedString() }
        let retired = Curve25519.Signing.PrivateKey(), other = Curve25519.Signing.PrivateKey()
        let rotating = try TestNode.upstream(release, server: server, key: "public_key: [\(inline(retired)), RELEASE_PUB]")
        let plan = try await rotating.run("plan")
        #expect(plan.stdout.contains("public_key: any of ed25519 inline ("), "\(plan.stdout)\(plan.stderr)")
        let applied = try await rotating.apply(environment: rotating.amd64)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        let wrong = try TestNode.upstream(release, server: server, key: "public_key: [\(inline(retired)), \(inline(other))]")
        let refused = try await wrong.apply(environment: wrong.amd64)
        expectRefused(refused, "does not verify with any of the 2 configured public keys")
    }

    /// A small-order public key (one fixed signature verifies many messages) fails lint at its
    /// line, as inline text; the identity point is the simplest.
    @Test func aSmallOrderKeyIsALintError() async throws {
        let node = try TestNode()
        let identity = "ed25519:" + Data([1] + [UInt8](repeating: 0, count: 31)).base64EncodedString()
        try node.directory.write("policy.yaml", "updates:\n  server: https://u.example.com\n  public_key: \(identity)\n")
        let lint = try await CLI.runAsync(["lint", node.policyPath])
        #expect(lint.status == 1)
        #expect(lint.stdout.contains("error[UPD313]"), "\(lint.stdout)")
        #expect(lint.stdout.contains("point of small order"), "\(lint.stdout)")
        #expect(lint.stdout.contains("policy.yaml:3:15"), "\(lint.stdout)")
        #expect(!lint.stdout.contains("UPD406"), "the policy has a key, though a refused one: \(lint.stdout)")
    }

    /// `ca_file`: an update server whose certificate a private CA signed is trusted through the
    /// policy, not through the system's bundle.
    @Test func aPrivateCertificateAuthorityIsThePolicysCAFile() async throws {
        let host = try TLSFileServer()
        defer { host.stop() }
        let release = UpstreamRelease()
        try release.publish(host, version: "1.1.0")
        let answering = await Consumers.poll(seconds: 30) { [host] in host.answering }
        try #require(answering, "the TLS server answers")
        let untrusting = try TestNode.upstream(release, base: host.base)
        let refused = try await untrusting.apply(environment: untrusting.amd64)
        #expect(refused.status == 1)
        #expect(refused.stderr.lowercased().contains("certificate"), "\(refused.stderr)")
        let trusting = try TestNode.upstream(release, base: host.base, extra: "  ca_file: \(host.caFile)")
        let applied = try await trusting.apply(environment: trusting.amd64)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        let missing = try TestNode.upstream(release, base: host.base, extra: "  ca_file: \(host.caFile).gone")
        let unreadable = try await missing.apply(environment: missing.amd64)
        #expect(unreadable.status == 1)
        #expect(unreadable.stderr.contains("cannot read the certificate authorities of `ca_file` \(host.caFile).gone"))
    }
}

/// A static HTTPS server (Python's http.server behind TLS) on 127.0.0.1, whose certificate a
/// test CA signed, serving a folder.
final class TLSFileServer: ReleaseHost, @unchecked Sendable {
    let directory: TemporaryDirectory
    let process: BackgroundProcess
    let port: UInt16
    var base: String { "https://127.0.0.1:\(port)" }
    var caFile: String { directory.url.appendingPathComponent("pki/ca.pem").path }
    var root: URL { directory.url.appendingPathComponent("www") }

    static let script = """
        import functools, http.server, ssl, sys
        folder, port, cert, key = sys.argv[1:5]
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=folder)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        server.serve_forever()
        """

    init() throws {
        directory = try TemporaryDirectory()
        let pki = directory.url.appendingPathComponent("pki")
        try TestEtcd.makePKI(in: pki)
        let root = directory.url.appendingPathComponent("www")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        port = try Consumers.freePort()
        guard let python = TestComponents.program("python3") else { throw CocoaError(.executableNotLoadable) }
        process = try BackgroundProcess(
            [
                "-c", Self.script, root.path, String(port), pki.appendingPathComponent("server.pem").path,
                pki.appendingPathComponent("server.key").path,
            ],
            program: python)
    }

    /// Whether the server answers over TLS checked against its CA.
    var answering: Bool {
        var request = TransportRequest(url: base + "/latest.json", maxBytes: 1 << 20, timeout: .seconds(5))
        request.tls.caFile = caFile
        return (try? CurlTransport().fetch(request))?.response.status == 200
    }

    func put(_ path: String, _ body: Data) {
        let url = root.appendingPathComponent(String(path.dropFirst()))
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? body.write(to: url)
    }

    func remove(_ path: String) { try? FileManager.default.removeItem(at: root.appendingPathComponent(String(path.dropFirst()))) }

    func stop() { process.kill() }
}
