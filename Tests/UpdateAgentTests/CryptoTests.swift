import Crypto
import Foundation
import Testing
import UpdatePolicy

@testable import UpdateAgent

/// The Ed25519 verification path every release signature goes through
/// (`Signature.verify(message:signatureFile:key:what:)`: swift-crypto's BoringSSL plus
/// updatectl's stricter key rules), on outside vectors: all of Wycheproof's (C2SP/wycheproof,
/// `testvectors_v1/ed25519_test.json`) and the twelve edge cases of ed25519-speccheck
/// (novifinancial/ed25519-speccheck, `cases.json`). Both files are under Fixtures/ed25519 with
/// their origin and licence (Fixtures/ed25519/README.md).
@Suite struct CryptoTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/ed25519")

    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    /// Whether the release path accepts `signature` over `message` by `key`.
    static func accepts(_ signature: [UInt8], _ message: [UInt8], _ key: [UInt8]) -> Bool {
        (try? Signature.verify(message: message, signatureFile: signature, key: key, what: "vector")) != nil
    }

    struct Wycheproof: Decodable {
        struct Group: Decodable {
            struct Key: Decodable { var pk: String }
            struct Case: Decodable {
                var tcId: Int
                var comment: String
                var msg: String
                var sig: String
                var result: String
            }
            var publicKey: Key
            var tests: [Case]
        }
        var numberOfTests: Int
        var testGroups: [Group]
    }

    /// Every vector: a valid one verifies, an invalid one (malleated S, truncated or padded
    /// signatures, wrong encodings, S ≥ L) is refused. A signature is 64 bytes; the release path
    /// also reads 128 hex characters or base64, so only vectors of another length could be read
    /// as text: none is.
    @Test func wycheproofVectors() throws {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("wycheproof_ed25519_test.json"))
        let file = try JSONDecoder().decode(Wycheproof.self, from: data)
        var checked = 0, valid = 0
        for group in file.testGroups {
            let key = Self.bytes(group.publicKey.pk)
            for test in group.tests {
                let expected = test.result == "valid"
                let got = Self.accepts(Self.bytes(test.sig), Self.bytes(test.msg), key)
                #expect(got == expected, "tcId \(test.tcId) (\(test.comment)): expected \(test.result)")
                checked += 1
                if expected { valid += 1 }
            }
        }
        #expect(checked == file.numberOfTests && checked == 151 && valid == 88)
    }

    struct SpecCheck: Decodable {
        var message: String
        var publicKey: String
        var signature: String

        enum CodingKeys: String, CodingKey {
            case message, signature
            case publicKey = "pub_key"
        }
    }

    /// The twelve cases, each with updatectl's answer and why. Cases 2 and 3 (mixed-order key,
    /// small-order or mixed R) verify, as in BoringSSL, Go and OpenSSL: cofactorless, S < L. Case
    /// 4 and 5 need the cofactored equation; 6 and 7 have S ≥ L; 8 and 9 a non-canonical R. The
    /// stricter rules: cases 0 and 1 have a small-order key (refused as libsodium refuses it,
    /// where BoringSSL accepts both), 10 and 11 a non-canonical key (refused as RFC 8032 5.1.3
    /// decodes; BoringSSL accepts case 11).
    @Test func specCheckCases() throws {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("speccheck_cases.json"))
        let cases = try JSONDecoder().decode([SpecCheck].self, from: data)
        let accepted: Set<Int> = [2, 3]
        #expect(cases.count == 12)
        for (index, test) in cases.enumerated() {
            let got = Self.accepts(Self.bytes(test.signature), Self.bytes(test.message), Self.bytes(test.publicKey))
            #expect(got == accepted.contains(index), "speccheck case \(index)")
        }
        // The library alone accepts what the stricter rules refuse: the rules do the refusing.
        for index in [0, 1, 11] {
            let test = cases[index]
            let key = try Curve25519.Signing.PublicKey(rawRepresentation: Self.bytes(test.publicKey))
            #expect(key.isValidSignature(Self.bytes(test.signature), for: Self.bytes(test.message)), "BoringSSL, case \(index)")
        }
    }

    /// Keys refused before any signature, with the reason said: every point of small order (both
    /// signs), y ≥ p, and x = 0 with the sign bit set.
    @Test func keyRules() throws {
        let smallOrder = [
            "0000000000000000000000000000000000000000000000000000000000000000",
            "0100000000000000000000000000000000000000000000000000000000000000",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        ].map(Self.bytes)
        for key in smallOrder {
            #expect(Ed25519.keyProblem(key) == .smallOrder, "\(key)")
            var signed = key
            signed[31] |= 0x80
            let x0 = key == smallOrder[1] || key == smallOrder[2]
            #expect(Ed25519.keyProblem(signed) == (x0 ? .notCanonical : .smallOrder), "\(signed)")
        }
        for low: UInt8 in 0xED...0xFF {
            let key = [low] + [UInt8](repeating: 0xFF, count: 30) + [0x7F]
            #expect(Ed25519.keyProblem(key) == .notCanonical, "y = \(low)")
        }
        #expect(Ed25519.keyProblem([UInt8](repeating: 1, count: 31)) == .size(31))
        let real = Array(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation)
        #expect(Ed25519.keyProblem(real) == nil)
        #expect(throws: Signature.Failure.self) {
            try Signature.verify(message: [1], signatureFile: [UInt8](repeating: 0, count: 64), key: smallOrder[1], what: "m")
        }
        do {
            try Signature.verify(message: [1], signatureFile: [UInt8](repeating: 0, count: 64), key: smallOrder[1], what: "m")
        } catch {
            #expect(error.message.contains("small order"), "\(error.message)")
        }
        // Refused when read, inline or from a file, with the reason.
        do {
            _ = try Signature.key(.ed25519(smallOrder[0]))
            Issue.record("a small-order key was read")
        } catch {
            #expect(error.message == Ed25519.KeyProblem.smallOrder.description)
        }
        #expect(throws: Signature.Failure.self) { try Signature.key(.ed25519([0xED] + [UInt8](repeating: 0xFF, count: 30) + [0x7F])) }
        #expect(try Signature.key(.ed25519(real)) == real)
    }

    /// S + L (the same point equation, a second encoding of a valid signature) is refused, and
    /// said to be so; the library alone refuses it too.
    @Test func aMalleatedSignatureIsRefusedAsSuch() throws {
        let key = Curve25519.Signing.PrivateKey()
        let message = Array("release 1.2.0".utf8)
        let signature = Array(try key.signature(for: message))
        let order = Self.bytes("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
        var malleated = signature
        var carry = 0
        for index in 0..<32 {
            let sum = Int(signature[32 + index]) + Int(order[index]) + carry
            malleated[32 + index] = UInt8(sum & 0xFF)
            carry = sum >> 8
        }
        #expect(carry == 0 && malleated != signature)
        #expect(Self.accepts(signature, message, Array(key.publicKey.rawRepresentation)))
        #expect(!key.publicKey.isValidSignature(malleated, for: message))
        do {
            try Signature.verify(message: message, signatureFile: malleated, key: Array(key.publicKey.rawRepresentation), what: "vmlinuz")
            Issue.record("S + L verified")
        } catch {
            #expect(error.message.contains("the signature of vmlinuz is not canonical"), "\(error.message)")
        }
    }

    /// A signature made by swift-crypto verifies in every form a signature file takes (raw,
    /// hex, base64) and from a file on disk (the mapped path); a flipped bit of the message, the
    /// signature or the key does not.
    @Test func signatureFileFormsAndFlippedBits() throws {
        let key = Curve25519.Signing.PrivateKey()
        let publicKey = Array(key.publicKey.rawRepresentation)
        let message = Array("release 1.2.0".utf8)
        let signature = Array(try key.signature(for: message))
        let hex = Array(signature.map { String(format: "%02x", $0) }.joined().utf8)
        let base64 = Array(Data(signature).base64EncodedString().utf8)
        for form in [signature, hex, base64, hex + Array("\n".utf8)] {
            #expect(Self.accepts(form, message, publicKey))
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("updatectl-crypto-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("vmlinuz")
        try Data(message).write(to: file)
        #expect(throws: Never.self) { try Signature.verify(file: file.path, signatureFile: signature, key: publicKey, what: "vmlinuz") }
        let empty = directory.appendingPathComponent("empty")
        try Data().write(to: empty)
        let emptySignature = Array(try key.signature(for: [UInt8]()))
        #expect(throws: Never.self) { try Signature.verify(file: empty.path, signatureFile: emptySignature, key: publicKey, what: "empty") }
        #expect(throws: Signature.Failure.self) {
            try Signature.verify(file: empty.path, signatureFile: signature, key: publicKey, what: "empty")
        }
        for bit in 0..<(message.count * 8) {
            var changed = message
            changed[bit / 8] ^= 1 << (bit % 8)
            #expect(!Self.accepts(signature, changed, publicKey), "message bit \(bit)")
        }
        for bit in 0..<512 {
            var changed = signature
            changed[bit / 8] ^= 1 << (bit % 8)
            #expect(!Self.accepts(changed, message, publicKey), "signature bit \(bit)")
        }
        for bit in 0..<256 {
            var changed = publicKey
            changed[bit / 8] ^= 1 << (bit % 8)
            #expect(!Self.accepts(signature, message, changed), "key bit \(bit)")
        }
    }

    /// SHA-256 as releases use it: known answers, and the streaming form fed in pieces.
    @Test func sha256KnownAnswers() {
        #expect(SHA256Stream.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256Stream.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let message = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        var stream = SHA256Stream()
        for piece in stride(from: 0, to: message.count, by: 7) {
            message[piece..<min(piece + 7, message.count)].withUnsafeBytes { stream.update($0) }
        }
        #expect(stream.finalizeHex() == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }
}
