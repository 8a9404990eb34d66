import Crypto
import Foundation
import Testing
@testable import UpdateAgent

/// updatectl's own SHA-256, SHA-512, HMAC-SHA256 and Ed25519, against swift-crypto (BoringSSL)
/// on many random inputs, against published answers, and on the inputs a forger would try.
@Suite struct CryptoTests {
    struct Random: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state ^ (state >> 29)
        }
    }

    static func bytes(_ count: Int, _ random: inout Random) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) } }

    static func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test func knownAnswers() {
        #expect(Self.hex(SHA256Hasher.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Self.hex(SHA256Hasher.hash([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Self.hex(SHA512Hasher.hash(Array("abc".utf8))) == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            + "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
    }

    /// Every length from 0 to 300 bytes (all padding cases of both block sizes), hashed whole and
    /// fed in random pieces, and one megabyte.
    @Test func sha2MatchesSwiftCrypto() {
        var random = Random(state: 1)
        for length in Array(0...300) + [1 << 20] {
            let data = Self.bytes(length, &random)
            #expect(SHA256Hasher.hash(data) == Array(Crypto.SHA256.hash(data: data)), "SHA-256 of \(length) bytes")
            #expect(SHA512Hasher.hash(data) == Array(Crypto.SHA512.hash(data: data)), "SHA-512 of \(length) bytes")
            var pieces256 = SHA256Hasher(), pieces512 = SHA512Hasher()
            var offset = 0
            while offset < length {
                let take = min(length - offset, Int.random(in: 1...200, using: &random))
                pieces256.update(Array(data[offset..<offset + take]))
                pieces512.update(Array(data[offset..<offset + take]))
                offset += take
            }
            #expect(pieces256.finalize() == Array(Crypto.SHA256.hash(data: data)), "SHA-256 in pieces, \(length) bytes")
            #expect(pieces512.finalize() == Array(Crypto.SHA512.hash(data: data)), "SHA-512 in pieces, \(length) bytes")
        }
    }

    /// The portable SHA-256 rounds and the CPU's SHA instructions (where this machine has them;
    /// else both sides are the portable rounds) give the same state on 1,000 random blocks, fed
    /// one to 17 blocks at a time.
    @Test func bothSHA256PathsAgree() {
        var random = Random(state: 5)
        var fast = SHA256Variant.initial, portable = SHA256Variant.initial
        var fed = 0
        while fed < 1000 {
            let blocks = Int.random(in: 1...17, using: &random)
            let data = Self.bytes(64 * blocks, &random)
            data.withUnsafeBytes { raw in
                SHA256Variant.compress(&fast, raw.baseAddress!, blocks: blocks)
                SHA256Variant.portableCompress(&portable, raw.baseAddress!, blocks: blocks)
            }
            #expect(fast == portable, "after \(fed + blocks) blocks")
            fed += blocks
        }
    }

    /// Keys shorter than, as long as and longer than the block.
    @Test func hmacMatchesSwiftCrypto() {
        var random = Random(state: 2)
        for keyLength in [0, 1, 16, 32, 63, 64, 65, 100, 200] {
            let key = Self.bytes(keyLength, &random), message = Self.bytes(Int.random(in: 0...500, using: &random), &random)
            let expected = Array(HMAC<Crypto.SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
            #expect(HMACSHA256.authenticate(message, key: key) == expected, "key of \(keyLength) bytes")
        }
    }

    /// [L]B is the identity: L and the curve arithmetic agree.
    @Test func theBasePointHasOrderL() {
        let order = Scalar.order.flatMap { word in (0..<8).map { UInt8(truncatingIfNeeded: word >> (8 * UInt64($0))) } }
        #expect(Point.base.multiplied(by: order).encoded == [1] + [UInt8](repeating: 0, count: 31))
        #expect(Self.hex(Point.base.encoded) == "5866666666666666666666666666666666666666666666666666666666666666")
    }

    /// 200 random keys and messages: the same public keys and signatures as BoringSSL's
    /// (RFC 8032 signing is deterministic), and each side verifies the other's.
    @Test func ed25519MatchesSwiftCrypto() throws {
        var random = Random(state: 3)
        for round in 0..<200 {
            let seed = Self.bytes(32, &random), message = Self.bytes(Int.random(in: 0...300, using: &random), &random)
            let theirs = try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
            let publicKey = Ed25519.publicKey(seed: seed)
            #expect(publicKey == Array(theirs.publicKey.rawRepresentation), "public key, round \(round)")
            let ours = Ed25519.sign(message, seed: seed)
            let theirSignature = Array(try theirs.signature(for: message))
            #expect(ours == theirSignature, "signature, round \(round)")
            #expect(theirs.publicKey.isValidSignature(ours, for: message))
            #expect(message.withUnsafeBytes { Ed25519.verify(signature: theirSignature, message: $0, publicKey: publicKey) })
        }
    }

    /// What a forger would try: any flipped bit of the message, R, S or the key; S + L (the same
    /// signature made malleable); keys that are no point, not canonical, or of small order; a
    /// signature of zeros. Each is refused, as BoringSSL refuses it.
    @Test func forgeriesAreRefused() throws {
        var random = Random(state: 4)
        let seed = Self.bytes(32, &random), message = Array("release 1.2.0".utf8)
        let publicKey = Ed25519.publicKey(seed: seed)
        let signature = Ed25519.sign(message, seed: seed)
        func verify(_ signature: [UInt8], _ message: [UInt8], _ key: [UInt8]) -> Bool {
            message.withUnsafeBytes { Ed25519.verify(signature: signature, message: $0, publicKey: key) }
        }
        func boring(_ signature: [UInt8], _ message: [UInt8], _ key: [UInt8]) -> Bool {
            (try? Curve25519.Signing.PublicKey(rawRepresentation: key))?.isValidSignature(signature, for: message) ?? false
        }
        #expect(verify(signature, message, publicKey))
        for bit in 0..<(message.count * 8) {
            var changed = message
            changed[bit / 8] ^= 1 << (bit % 8)
            #expect(!verify(signature, changed, publicKey), "message bit \(bit)")
        }
        for bit in 0..<512 {
            var changed = signature
            changed[bit / 8] ^= 1 << (bit % 8)
            #expect(!verify(changed, message, publicKey), "signature bit \(bit)")
            #expect(!boring(changed, message, publicKey), "BoringSSL, signature bit \(bit)")
        }
        for bit in 0..<256 {
            var changed = publicKey
            changed[bit / 8] ^= 1 << (bit % 8)
            #expect(!verify(signature, message, changed), "key bit \(bit)")
        }
        // S + L: the same point equation, a different encoding.
        let s = Scalar.limbs(Array(signature[32...]))
        let malleable = Scalar.add(s, Scalar.order).flatMap { word in (0..<8).map { UInt8(truncatingIfNeeded: word >> (8 * UInt64($0))) } }
        #expect(!verify(Array(signature[..<32]) + malleable, message, publicKey))
        #expect(!boring(Array(signature[..<32]) + malleable, message, publicKey))
        // The identity (small order), y = p (not canonical: p encodes as 0), y = 2 (no point).
        let identity = [1] + [UInt8](repeating: 0, count: 31)
        let p = [0xED] + [UInt8](repeating: 0xFF, count: 30) + [0x7F]
        let two = [2] + [UInt8](repeating: 0, count: 31)
        #expect(!Ed25519.isValidPublicKey(p))
        #expect(!Ed25519.isValidPublicKey(two))
        #expect(Ed25519.isValidPublicKey(identity))
        for key in [identity, p, two] {
            #expect(!verify(signature, message, key))
        }
        #expect(!verify([UInt8](repeating: 0, count: 64), message, publicKey))
        #expect(!verify(signature, message, identity))
    }
}
