import Foundation
import Testing

@testable import UpdateAgent

/// updatectl's verification path and SHA-256 against OpenSSL's command line, as KubeSolo OS signs
/// releases: keys made by OpenSSL (read from its PEM), signatures made by OpenSSL over messages of
/// many sizes, digests of the same file, and a file of several mebibytes verified from disk.
@Suite struct OpenSSLCryptoTests {
    static let openssl = TestComponents.program("openssl")

    /// OpenSSL, a folder, an Ed25519 key OpenSSL made (its PEM path) and the public key as
    /// updatectl reads it from OpenSSL's PEM.
    static func keyPair() throws -> (openssl: String, directory: TemporaryDirectory, key: String, publicKey: [UInt8]) {
        let openssl = try #require(Self.openssl)
        let directory = try TemporaryDirectory()
        let key = directory.url.appendingPathComponent("key.pem").path, pub = directory.url.appendingPathComponent("pub.pem").path
        #expect(try CLI.runProgram(openssl, ["genpkey", "-algorithm", "ed25519", "-out", key]).status == 0)
        #expect(try CLI.runProgram(openssl, ["pkey", "-in", key, "-pubout", "-out", pub]).status == 0)
        let publicKey = try #require(Signature.parseKeyText(try String(contentsOfFile: pub, encoding: .utf8)))
        return (openssl, directory, key, publicKey)
    }

    @Test(.enabled(if: openssl != nil))
    func openSSLSignaturesVerifyAndTamperedOnesDoNot() throws {
        let (openssl, directory, key, publicKey) = try Self.keyPair()
        for size in [1, 63, 64, 65, 127, 128, 129, 1000, 100_000] {  // pkeyutl refuses an empty input
            let message = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ size) }
            let file = directory.url.appendingPathComponent("message-\(size)")
            try Data(message).write(to: file)
            let signed = try CLI.runProgram(
                openssl,
                [
                    "pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", file.path,
                    "-out", file.path + ".sig",
                ])
            #expect(signed.status == 0, "\(signed.stderr)")
            let signature = Array(try Data(contentsOf: URL(fileURLWithPath: file.path + ".sig")))
            #expect(throws: Never.self) { try Signature.verify(message: message, signatureFile: signature, key: publicKey, what: "m") }
            var tampered = message + [0]
            tampered[0] ^= 1
            #expect(throws: Signature.Failure.self) {
                try Signature.verify(message: tampered, signatureFile: signature, key: publicKey, what: "m")
            }
            let digest = try CLI.runProgram(openssl, ["dgst", "-sha256", "-r", file.path]).stdout.prefix(64)
            #expect(SHA256Stream.hex(message) == String(digest), "SHA-256 of \(size) bytes")
        }
    }

    /// A file of 3 MiB and 7 bytes verifies from disk (through its mapping); one byte changed in
    /// its third mebibyte does not.
    @Test(.enabled(if: openssl != nil))
    func aLargeFileIsVerifiedPieceByPiece() throws {
        let (openssl, directory, key, publicKey) = try Self.keyPair()
        var bytes = (0..<(3 << 20) + 7).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ ($0 >> 13)) }
        let file = directory.url.appendingPathComponent("initramfs")
        try Data(bytes).write(to: file)
        #expect(
            try CLI.runProgram(openssl, ["pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", file.path, "-out", file.path + ".sig"]).status
                == 0)
        let signature = Array(try Data(contentsOf: URL(fileURLWithPath: file.path + ".sig")))
        #expect(throws: Never.self) { try Signature.verify(file: file.path, signatureFile: signature, key: publicKey, what: "initramfs") }
        bytes[(2 << 20) + 12345] ^= 0x40
        try Data(bytes).write(to: file)
        #expect(throws: Signature.Failure.self) {
            try Signature.verify(file: file.path, signatureFile: signature, key: publicKey, what: "initramfs")
        }
    }
}
