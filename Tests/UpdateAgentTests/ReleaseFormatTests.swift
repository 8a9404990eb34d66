import Crypto
import Foundation
import Testing
import UpdatePolicy

@testable import UpdateAgent

/// The release formats, keys and signatures of KubeSolo OS and of updatectl.
@Suite struct ReleaseFormatTests {
    static let digest = String(repeating: "ab", count: 32)

    @Test func signatureFilesAreReadRawHexOrBase64() throws {
        let key = Curve25519.Signing.PrivateKey()
        let message: [UInt8] = Array("latest".utf8)
        let raw = Array(try key.signature(for: message))
        let hex = Hex.encode(raw)
        #expect(Signature.decode(raw) == raw)
        #expect(Signature.decode(Array((hex + "\n").utf8)) == raw)
        #expect(Signature.decode(Array(hex.uppercased().utf8)) == raw)
        #expect(Signature.decode(Array(Base64.encode(raw).utf8)) == raw)
        #expect(Signature.decode(Array(hex.dropLast(2).utf8)) == nil)
        #expect(Signature.decode(Array("not a signature".utf8)) == nil)
        let publicKey = Array(key.publicKey.rawRepresentation)
        for form in [raw, Array(hex.utf8)] {
            try Signature.verify(message: message, signatureFile: form, key: publicKey, what: "latest.json")
        }
        #expect(throws: Signature.Failure.self) {
            try Signature.verify(message: message + [0], signatureFile: raw, key: publicKey, what: "latest.json")
        }
    }

    @Test func keyFilesHoldHexAsKubeSoloOSWritesThem() {
        let key = [UInt8](repeating: 7, count: 32)
        #expect(Signature.parseKeyText(Hex.encode(key) + "\n") == key)
        #expect(Signature.parseKeyText("  " + Hex.encode(key).uppercased() + "  ") == key)
        #expect(Signature.parseKeyText(String(Hex.encode(key).dropLast(2))) == nil, "31 bytes is no key")
        #expect(Signature.parseKeyText("ed25519:" + Base64.encode(key)) == key)
    }

    @Test func theKubeSoloFormIsTheFilePairWithRelativeURLsAndItsOptionalFields() throws {
        let json = """
            {"version": "v0.3.0", "vmlinuz_url": "v0.3.0/vmlinuz", "vmlinuz_sha256": "\(Self.digest)",
             "vmlinuz_sig_url": "v0.3.0/vmlinuz.sig", "initramfs_url": "/pool/kubesolo-os.gz",
             "initramfs_sha256": "\(Self.digest.uppercased())", "metadata_sig_url": "latest.json.sig",
             "channel": "stable", "architecture": "arm64", "min_compatible_version": "v0.2.0",
             "release_notes": "notes", "release_date": "2026-02-11T00:00:00Z"}
            """
        let release = try ReleaseMetadata.parse(Array(json.utf8), metadataURL: "https://u.example.com/os/latest.json")
        #expect(release.format == .kubesolo)
        #expect(release.files.map(\.name) == ["vmlinuz", "kubesolo-os.gz"])
        #expect(release.files.map(\.url) == ["https://u.example.com/os/v0.3.0/vmlinuz", "https://u.example.com/pool/kubesolo-os.gz"])
        #expect(release.files.map(\.signatureURL) == ["https://u.example.com/os/v0.3.0/vmlinuz.sig", nil])
        #expect(release.files[1].sha256 == Self.digest, "digests are compared in lower case")
        #expect(release.files.allSatisfy { $0.size == nil }, "KubeSolo OS gives no sizes")
        #expect(release.metadataSignatureURL == "https://u.example.com/os/latest.json.sig")
        #expect((release.channel, release.architecture, release.minCompatibleVersion) == ("stable", "arm64", "v0.2.0"))
        #expect(
            ReleaseMetadata.namedMetadataSignature(Array(json.utf8), metadataURL: "https://u.example.com/os/latest.json")
                == "https://u.example.com/os/latest.json.sig")
    }

    @Test(arguments: [
        (#"{"version": "1", "vmlinuz_url": "v", "vmlinuz_sha256": "DIGEST"}"#, "no `initramfs_url` string"),
        (
            #"{"version": "1", "vmlinuz_url": "v", "vmlinuz_sha256": "abc", "initramfs_url": "i", "initramfs_sha256": "DIGEST"}"#,
            "`vmlinuz_sha256` is not 64 hex digits"
        ),
        (
            #"{"version": "1", "vmlinuz_url": "http://x/v", "vmlinuz_sha256": "DIGEST", "initramfs_url": "i", "initramfs_sha256": "DIGEST"}"#,
            "does not use https"
        ),
        (
            #"{"version": "1", "vmlinuz_url": "v", "vmlinuz_sha256": "DIGEST", "initramfs_url": "i", "initramfs_sha256": "DIGEST", "min_compatible_version": "soon"}"#,
            "`min_compatible_version` \"soon\" is not a version"
        ),
        (
            #"{"version": "1", "vmlinuz_url": "v", "vmlinuz_sha256": "DIGEST", "initramfs_url": "i", "initramfs_sha256": "DIGEST", "channel": 3}"#,
            "`channel` is not a string"
        ),
    ])
    func aBrokenKubeSoloReleaseSaysWhatIsWrong(json: String, message: String) {
        do {
            _ = try ReleaseMetadata.parse(
                Array(json.replacingOccurrences(of: "DIGEST", with: Self.digest).utf8),
                metadataURL: "https://u.example.com/latest.json")
            Issue.record("accepted: \(json)")
        } catch {
            #expect(error.description.contains(message), "\(error)")
        }
    }
}

/// The metadata gates, evaluated against a machine the test sets up.
@Suite struct MetadataGateTests {
    func release(channel: String? = nil, architecture: String? = nil, minimum: String? = nil) -> ReleaseMetadata {
        ReleaseMetadata(
            version: "1.1.0", format: .kubesolo, files: [], channel: channel, minCompatibleVersion: minimum,
            architecture: architecture)
    }

    @Test func theChannelMustBeThePolicysWhenTheReleaseNamesOne() throws {
        let harness = KindHarness()
        #expect(
            try harness.evaluate("- channel: true", offered: release(channel: "stable"))
                == .pass("the release is for channel stable, the one this node follows"))
        #expect(
            try harness.evaluate("- channel: true", offered: release(channel: "beta"))
                == .refuse("the release is for channel beta, but this node follows stable"))
        #expect(
            try harness.evaluate("- channel: true", offered: release())
                == .pass("the release names no channel; this node follows stable"))
    }

    @Test func theArchitectureMustBeThisMachines() throws {
        var harness = KindHarness()
        harness.system.arch = "arm64"
        #expect(
            try harness.evaluate("- architecture: true", offered: release(architecture: "arm64"))
                == .pass("the release is built for arm64, as this machine is"))
        #expect(
            try harness.evaluate("- architecture: true", offered: release(architecture: "amd64"))
                == .refuse("the release is built for amd64, but this machine is arm64"))
        #expect(GoArchitecture.name(machine: "x86_64") == "amd64" && GoArchitecture.name(machine: "aarch64") == "arm64")
        #expect(GoArchitecture.name(machine: "armv7l") == "arm" && GoArchitecture.name(machine: "i686") == "386")
    }

    /// Three numbers, a leading `v` optional, a pre-release suffix ignored (as KubeSolo OS does).
    @Test(arguments: [
        ("1.0.0", "v0.9.0", true), ("v1.0.0", "1.0.0", true), ("1.0.0-rc1", "1.0.0", true), ("0.9.9", "1.0.0", false),
        ("1.2", "1.2.0", true),
    ])
    func theRunningVersionMustBeAtLeastTheMinimum(running: String, minimum: String, passes: Bool) throws {
        var harness = KindHarness()
        harness.runningVersion = running
        let outcome = try harness.evaluate("- min_compatible_version: true", offered: release(minimum: minimum))
        if case .pass = outcome { #expect(passes, "\(outcome)") } else { #expect(!passes, "\(outcome)") }
    }

    @Test func turnedOffTheGatesDoNotRun() throws {
        let policy = try KindHarness().policy("- channel: false\n    - architecture: false")
        #expect(!policy.preflight.contains { $0.name.value == "channel" || $0.name.value == "architecture" })
        #expect(policy.preflight.contains { $0.name.value == "min_compatible_version" })
    }
}
