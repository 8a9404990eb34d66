import Crypto
import Foundation
import Testing

/// A release laid out and signed exactly as KubeSolo OS publishes one: `latest.json` at the
/// server's root naming `vmlinuz` and the initramfs with their SHA-256 and detached signatures,
/// a public key file of 64 hex characters, signatures raw (64 bytes) or hex (128 characters).
struct UpstreamRelease {
    let key = Curve25519.Signing.PrivateKey()

    /// The key file as KubeSolo OS writes it.
    var publicKeyHex: String { key.publicKey.rawRepresentation.map { String(format: "%02x", $0) }.joined() + "\n" }

    enum SignatureForm { case raw, hex, none }

    struct Options {
        var metadataSignature = SignatureForm.hex
        var fileSignatures = SignatureForm.raw
        var channel: String? = "stable"
        var architecture: String? = "amd64"
        var minCompatibleVersion: String? = "0.9.0"
        var releaseNotes: String? = "Kubernetes 1.31, containerd 2.0"
        var releaseDate: String? = "2026-11-20T10:00:00Z"
        /// More fields, each value as JSON text (an object, a number).
        var json: [(String, String)] = []
    }

    static func content(_ text: String, size: Int) -> Data {
        var data = Data(text.utf8)
        data.append(Data(repeating: 0x2E, count: max(0, size - data.count)))
        return data
    }

    func signature(_ data: Data, _ form: SignatureForm) throws -> Data? {
        let raw = try key.signature(for: data)
        switch form {
        case .raw: return raw
        case .hex: return Data(raw.map { String(format: "%02x", $0) }.joined().utf8)
        case .none: return nil
        }
    }

    /// Publishes `version` under `/<version>/` (URLs relative to latest.json) and points
    /// `/latest.json` at it; returns the metadata bytes.
    @discardableResult
    func publish(
        _ server: any ReleaseHost, version: String, kernel: Data? = nil, initramfs: Data? = nil,
        options: Options = Options()
    ) throws -> Data {
        let kernel = kernel ?? Self.content("vmlinuz \(version)", size: 3000)
        let initramfs = initramfs ?? Self.content("kubesolo-os \(version) healthy", size: 9000)
        func hex(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }
        var fields: [(String, String)] = [
            ("version", version),
            ("vmlinuz_url", "\(version)/vmlinuz"), ("vmlinuz_sha256", hex(kernel)),
            ("initramfs_url", "\(version)/kubesolo-os.gz"), ("initramfs_sha256", hex(initramfs)),
        ]
        server.put("/\(version)/vmlinuz", kernel)
        server.put("/\(version)/kubesolo-os.gz", initramfs)
        if let kernelSignature = try signature(kernel, options.fileSignatures),
            let initramfsSignature = try signature(initramfs, options.fileSignatures)
        {
            fields += [("vmlinuz_sig_url", "\(version)/vmlinuz.sig"), ("initramfs_sig_url", "\(version)/kubesolo-os.gz.sig")]
            server.put("/\(version)/vmlinuz.sig", kernelSignature)
            server.put("/\(version)/kubesolo-os.gz.sig", initramfsSignature)
        }
        if options.metadataSignature != .none { fields.append(("metadata_sig_url", "latest.json.sig")) }
        for (name, value) in [
            ("channel", options.channel), ("architecture", options.architecture),
            ("min_compatible_version", options.minCompatibleVersion),
            ("release_notes", options.releaseNotes), ("release_date", options.releaseDate),
        ] {
            if let value { fields.append((name, value)) }
        }
        let lines = fields.map { "  \"\($0.0)\": \"\($0.1)\"" } + options.json.map { "  \"\($0.0)\": \($0.1)" }
        let metadata = Data(("{\n" + lines.joined(separator: ",\n") + "\n}\n").utf8)
        server.put("/latest.json", metadata)
        if let metadataSignature = try signature(metadata, options.metadataSignature) {
            server.put("/latest.json.sig", metadataSignature)
        } else {
            server.remove("/latest.json.sig")
        }
        return metadata
    }
}

/// Where a test publishes a release: a `TestServer`, or the folder a TLS server serves.
protocol ReleaseHost {
    func put(_ path: String, _ body: Data)
    func remove(_ path: String)
}

extension TestServer: ReleaseHost {
    func put(_ path: String, _ body: Data) { set(path, body: body) }
}

/// A node that reads KubeSolo OS's layout, with the key as a hex file named by `pubkey` (`keyFile`,
/// in the node's directory; or the policy line `key` instead, where RELEASE_PUB names that file).
extension TestNode {
    static func upstream(
        _ release: UpstreamRelease, server: TestServer, extra: String = "", key: String? = nil, initialVersion: String = "1.0.0",
        gate: String = "free_space: {headroom: 10%}", keyFile: String = "release.pub"
    ) throws -> TestNode {
        try upstream(
            release, base: server.base, extra: extra, key: key, initialVersion: initialVersion, gate: gate, keyFile: keyFile)
    }

    static func upstream(
        _ release: UpstreamRelease, base: String, extra: String = "", key: String? = nil, initialVersion: String = "1.0.0",
        gate: String = "free_space: {headroom: 10%}", keyFile: String = "release.pub"
    ) throws -> TestNode {
        let node = try TestNode()
        try node.directory.write(keyFile, release.publicKeyHex)
        let keyFile = node.root.appendingPathComponent(keyFile).path
        try node.directory.write(
            "policy.yaml",
            """
            updates:
              server: \(base)
              \(key?.replacingOccurrences(of: "RELEASE_PUB", with: keyFile) ?? "pubkey: " + keyFile)
              data_dir: \(node.data)
              reboot: auto
              auto_rollback_after: 3
              kube_system_settle: 0
              preflight:
                - \(gate)
              backend: {type: directory, root: \(node.slots), initial_version: \(initialVersion)}
            \(extra)
            """)
        return node
    }

    /// The environment of an amd64 machine, whatever this one is.
    var amd64: [String: String] { ["UPDATECTL_TEST_ARCH": "amd64"] }
}

@Suite struct UpstreamReleaseTests {
    func setUp(
        _ options: UpstreamRelease.Options = .init(), extra: String = ""
    ) async throws
        -> (TestServer, UpstreamRelease, TestNode)
    {
        let server = try await TestServer()
        let release = UpstreamRelease()
        try release.publish(server, version: "1.1.0", options: options)
        return (server, release, try TestNode.upstream(release, server: server, extra: extra))
    }

    /// Every optional field, a hex key file, hex metadata and raw file signatures: checked,
    /// applied, rebooted into and verified, and both files are in the new slot.
    @Test func aReleaseAsKubeSoloOSPublishesItIsAppliedAndVerified() async throws {
        let (server, _, node) = try await setUp()
        defer { Task { await server.stop() } }
        let lint = try await node.run("lint", environment: node.amd64)
        #expect(lint.status == 0 && lint.stdout.contains("no problems"), "\(lint.stdout)")
        let applied = try await node.apply(environment: node.amd64)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(
            applied.stdout.contains(
                "check.signature                  pass  signature verifies (latest.json.sig); offered 1.1.0 "
                    + "(vmlinuz and kubesolo-os.gz, 11.7 KiB) for amd64 on stable"))
        #expect(applied.stdout.contains("kubesolo-os.gz; released 5d 17h ago"), "the age of the signed metadata is said")
        #expect(applied.stdout.contains("preflight.channel                pass  the release is for channel stable"))
        #expect(applied.stdout.contains("preflight.architecture           pass  the release is built for amd64, as this machine is"))
        #expect(applied.stdout.contains("preflight.min_compatible_version pass  the running version 1.0.0 is at least 0.9.0"))
        #expect(
            applied.stdout.contains(
                "verify.signatures                pass  vmlinuz: signature verifies; kubesolo-os.gz: signature verifies"))
        #expect(server.requests.contains("/latest.json.sig") && server.requests.contains("/1.1.0/kubesolo-os.gz.sig"))
        // One pass over each file: its signature is fetched once, before the file, whose bytes
        // feed the signature's hash as they arrive.
        let requests = server.requests
        for name in ["vmlinuz", "kubesolo-os.gz"] {
            let signature = requests.indices.filter { requests[$0] == "/1.1.0/\(name).sig" }
            let file = try #require(requests.firstIndex(of: "/1.1.0/\(name)"))
            #expect(signature.count == 1 && signature[0] < file, "\(requests)")
        }
        let slot = URL(fileURLWithPath: node.slots).appendingPathComponent("b")
        #expect(try Data(contentsOf: slot.appendingPathComponent("vmlinuz")) == UpstreamRelease.content("vmlinuz 1.1.0", size: 3000))
        #expect(
            try Data(contentsOf: slot.appendingPathComponent("kubesolo-os.gz"))
                == UpstreamRelease.content("kubesolo-os 1.1.0 healthy", size: 9000))
        let verified = try await node.healthcheck()
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        #expect(try node.state()["phase"] as? String == "success")
    }

    /// The kernel and the initramfs download at once: the server holds the kernel back until the
    /// initramfs has been asked for, which a one-after-the-other download never does (it would
    /// get a 503 after 20 s and fail).
    @Test func theKernelAndTheInitramfsDownloadAtOnce() async throws {
        let (server, _, node) = try await setUp()
        defer { Task { await server.stop() } }
        let kernel = UpstreamRelease.content("vmlinuz 1.1.0", size: 3000)
        server.handle("/1.1.0/vmlinuz") { request in
            // The size is asked for first (HEAD), one file after the other.
            if request.method == "HEAD" { return TestServer.Answer(body: kernel) }
            for _ in 0..<2_000 {
                if server.requests.contains("/1.1.0/kubesolo-os.gz") { return TestServer.Answer(body: kernel) }
                usleep(10_000)
            }
            return TestServer.Answer(status: 503, body: Data("the initramfs was never asked for".utf8))
        }
        let applied = try await node.apply(environment: node.amd64)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(
            applied.stdout.contains(
                "verify.signatures                pass  vmlinuz: signature verifies; kubesolo-os.gz: signature verifies"))
        let slot = URL(fileURLWithPath: node.slots).appendingPathComponent("b")
        #expect(try Data(contentsOf: slot.appendingPathComponent("vmlinuz")) == kernel)
    }

    /// When one file fails, the other's download is stopped and the failure named is the real one.
    @Test func aFailedFileStopsTheOtherAndIsTheOneReported() async throws {
        let (server, _, node) = try await setUp()
        defer { Task { await server.stop() } }
        let initramfs = UpstreamRelease.content("kubesolo-os 1.1.0 healthy", size: 9000)
        server.handle("/1.1.0/kubesolo-os.gz") { request in
            request.method == "HEAD" ? TestServer.Answer(body: initramfs) : TestServer.Answer(status: 404, body: Data("gone".utf8))
        }
        let applied = try await node.apply(environment: node.amd64)
        #expect(applied.status != 0)
        #expect(applied.stdout.contains("GET \(server.base)/1.1.0/kubesolo-os.gz answered HTTP 404"), "\(applied.stdout)\(applied.stderr)")
        #expect(!applied.stdout.contains("Stopped"), "\(applied.stdout)")
        #expect(try node.state()["phase"] as? String != "staged")
    }

    /// Hex file signatures and a raw metadata signature are the other forms KubeSolo OS accepts.
    @Test func theOtherSignatureFormsVerifyToo() async throws {
        var options = UpstreamRelease.Options()
        options.metadataSignature = .raw
        options.fileSignatures = .hex
        let (server, _, node) = try await setUp(options)
        defer { Task { await server.stop() } }
        let applied = try await node.apply(environment: node.amd64)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
    }

    @Test func aTamperedInitramfsFailsBeforeAnythingIsStaged() async throws {
        let (server, _, node) = try await setUp()
        defer { Task { await server.stop() } }
        server.set("/1.1.0/kubesolo-os.gz", body: UpstreamRelease.content("kubesolo-os 1.1.0 evil", size: 9000))
        let applied = try await node.apply(environment: node.amd64)
        #expect(applied.status == 1)
        #expect(applied.stderr.contains("verify.files: sha256 mismatch: kubesolo-os.gz hashes to"), "\(applied.stderr)")
        #expect(node.marker("next") == "a")
        #expect(!FileManager.default.fileExists(atPath: node.slots + "/b/vmlinuz"), "neither file is staged")
        #expect(try node.state()["phase"] as? String == "failed")
    }

    /// A file signed with another key: the SHA-256 in the (validly signed) metadata would match a
    /// forged file only if the metadata were forged too; the file's own signature is still checked.
    @Test func aFileSignedWithAnotherKeyFails() async throws {
        let (server, _, node) = try await setUp()
        defer { Task { await server.stop() } }
        let other = Curve25519.Signing.PrivateKey()
        server.set("/1.1.0/vmlinuz.sig", body: try other.signature(for: UpstreamRelease.content("vmlinuz 1.1.0", size: 3000)))
        let applied = try await node.apply(environment: node.amd64)
        #expect(applied.status == 1)
        #expect(applied.stderr.contains("verify.signatures: bad signature: the signature of vmlinuz does not verify"), "\(applied.stderr)")
        #expect(node.marker("next") == "a")
    }

    /// With a key, a release that signs nothing is refused before a byte of it is downloaded:
    /// its metadata is not signed, and (when unsigned metadata is accepted) neither are its files.
    @Test func anUnsignedReleaseFailsClosed() async throws {
        var options = UpstreamRelease.Options()
        options.metadataSignature = .none
        options.fileSignatures = .none
        let (server, release, node) = try await setUp(options)
        defer { Task { await server.stop() } }
        let applied = try await node.apply(environment: node.amd64)
        #expect(applied.status == 1)
        #expect(
            applied.stderr.contains("the metadata is not signed: no signature at \(server.base)/latest.json.sig (HTTP 404)"),
            "\(applied.stderr)")
        let lenient = try TestNode.upstream(release, server: server, extra: "  require_signed_metadata: false")
        let accepted = try await lenient.apply(environment: lenient.amd64)
        #expect(accepted.status == 1)
        #expect(
            accepted.stderr.contains("the release signs neither its metadata nor vmlinuz and kubesolo-os.gz"), "\(accepted.stderr)")
        #expect(!server.requests.contains { $0.hasSuffix("/vmlinuz") || $0.hasSuffix(".gz") }, "not even a HEAD")
    }

    /// Upstream's usual case, the files signed and the metadata not, is refused unless the policy
    /// says `require_signed_metadata: false`; then it is accepted, said, and lint warns.
    @Test func signedFilesWithoutAMetadataSignatureNeedThePolicysWord() async throws {
        var options = UpstreamRelease.Options()
        options.metadataSignature = .none
        let (server, release, node) = try await setUp(options)
        defer { Task { await server.stop() } }
        let refused = try await node.apply(environment: node.amd64)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("the metadata is not signed"), "\(refused.stderr)")
        let lenient = try TestNode.upstream(release, server: server, extra: "  require_signed_metadata: false")
        let lint = try await lenient.run("lint")
        #expect(lint.stdout.contains("warning[UPD416]"), "\(lint.stdout)")
        let applied = try await lenient.apply(environment: lenient.amd64)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(
            applied.stdout.contains(
                "note: latest.json is not signed (require_signed_metadata: false): its version, channel and other fields "
                    + "are not authenticated"))
        #expect(applied.stdout.contains("metadata unsigned, every file signed"))
    }

    @Test func aReleaseForAnotherChannelIsRefusedNotDeferred() async throws {
        var options = UpstreamRelease.Options()
        options.channel = "beta"
        let (server, _, node) = try await setUp(options)
        defer { Task { await server.stop() } }
        let applied = try await node.apply(environment: node.amd64)
        #expect(applied.status == 1)
        #expect(applied.stderr.contains("refused by channel: the release is for channel beta, but this node follows stable"))
        let state = try node.state()
        #expect(state["phase"] as? String == "failed")
        #expect((state["last_error"] as? String)?.contains("refused by channel") == true)
        #expect(state["attempt_count"] as? Int ?? 0 == 0, "no attempt spent")
        #expect(!server.requests.contains("/1.1.0/vmlinuz"), "nothing downloaded")
    }

    @Test func aReleaseForAnotherArchitectureIsRefused() async throws {
        let (server, _, node) = try await setUp()
        defer { Task { await server.stop() } }
        let applied = try await node.apply(environment: ["UPDATECTL_TEST_ARCH": "arm64"])
        #expect(applied.status == 1)
        #expect(applied.stderr.contains("refused by architecture: the release is built for amd64, but this machine is arm64"))
    }

    @Test func aReleaseThatNeedsANewerStartingVersionIsRefused() async throws {
        var options = UpstreamRelease.Options()
        options.minCompatibleVersion = "v1.0.5"
        let (server, _, node) = try await setUp(options)
        defer { Task { await server.stop() } }
        let applied = try await node.apply(environment: node.amd64)
        #expect(applied.status == 1)
        #expect(applied.stderr.contains("the release needs at least v1.0.5 to update from, and this node runs 1.0.0"))
    }

    /// `activation: separate`: apply stops at staged (a resting phase, not an interruption), a
    /// second apply keeps it, `activate` goes on, and the healthcheck commits it.
    @Test func separateActivationStopsAtStagedAndActivateGoesOn() async throws {
        let (server, _, node) = try await setUp(extra: "  activation: separate\n")
        defer { Task { await server.stop() } }
        let applied = try await node.apply(environment: node.amd64)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(applied.stdout.contains("staged 1.1.0; `updatectl activate` activates it"))
        #expect(!applied.stdout.contains("activate.slot"))
        #expect(try node.state()["phase"] as? String == "staged")
        #expect(node.marker("next") == "a")

        let again = try await node.apply(environment: node.amd64)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("1.1.0 is staged already in slot b"))
        #expect(again.stdout.contains("download.files                   skip  1.1.0 is staged already"))
        #expect(server.requests.filter { $0 == "/1.1.0/kubesolo-os.gz" }.count == 1, "downloaded once")
        #expect(try node.state()["phase"] as? String == "staged")

        let activated = try await node.run("activate", environment: node.amd64)
        #expect(activated.status == 0, "\(activated.stdout)\(activated.stderr)")
        #expect(activated.stdout.contains("activated 1.1.0; the node is rebooting into it"))
        #expect(node.marker("booted") == "b")
        let verified = try await node.healthcheck()
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")

        let nothing = try await node.run("activate", environment: node.amd64)
        #expect(nothing.status == 1)
        #expect(nothing.stderr.contains("nothing is staged (phase success)"))
    }

    /// A newer release while one is staged replaces it.
    @Test func aNewerReleaseReplacesTheStagedOne() async throws {
        let (server, release, node) = try await setUp(extra: "  activation: separate\n")
        defer { Task { await server.stop() } }
        #expect(try await node.apply(environment: node.amd64).status == 0)
        try release.publish(server, version: "1.2.0")
        let again = try await node.apply(environment: node.amd64)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("note: 1.1.0 is staged, but 1.2.0 is offered now: staging 1.2.0 instead"))
        #expect(try node.state()["to_version"] as? String == "1.2.0")
        #expect(node.marker("b/version") == "1.2.0")
    }

    /// `check` verifies and says, and writes nothing: 0 available, 5 up to date, 1 refused.
    @Test func checkSaysWhetherAnUpdateIsAvailableAndChangesNothing() async throws {
        let (server, release, node) = try await setUp()
        defer { Task { await server.stop() } }
        let available = try await node.run("check", environment: node.amd64)
        #expect(available.status == 0, "\(available.stdout)\(available.stderr)")
        #expect(available.stdout.contains("an update is available: 1.1.0"))
        #expect(!FileManager.default.fileExists(atPath: node.statePath))
        #expect(!server.requests.contains("/1.1.0/kubesolo-os.gz"), "check downloads nothing")

        #expect(try await node.apply(environment: node.amd64).status == 0)
        #expect(try await node.healthcheck().status == 0)
        let upToDate = try await node.run("check", environment: node.amd64)
        #expect(upToDate.status == 5, "\(upToDate.stdout)\(upToDate.stderr)")
        #expect(upToDate.stdout.contains("no update: the node runs 1.1.0"))

        var beta = UpstreamRelease.Options()
        beta.channel = "beta"
        try release.publish(server, version: "1.2.0", options: beta)
        let before = try Data(contentsOf: URL(fileURLWithPath: node.statePath))
        let refused = try await node.run("check", environment: node.amd64)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("refused by channel"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: node.statePath)) == before, "check changes no state")
    }

    /// KubeSolo OS's one-line maintenance window becomes a gate that runs first.
    @Test func theOneLineMaintenanceWindowIsAGate() async throws {
        let (server, _, node) = try await setUp(extra: "  maintenance_window: \"01:00-02:00\"\n")
        defer { Task { await server.stop() } }
        // The tests' clock says 03:00 UTC.
        let applied = try await node.apply(environment: node.amd64)
        #expect(applied.status == 3, "\(applied.stdout)\(applied.stderr)")
        #expect(applied.stdout.contains("deferred by maintenance_window"))
        let plan = try await node.run("plan")
        #expect(plan.stdout.contains("preflight.maintenance_window"))
        #expect(plan.stdout.contains("(maintenance_window)"), "the plan says the gate comes from the one-line form")
    }
}
