import Crypto
import UpdatePolicy

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Ed25519 (RFC 8032) verification through swift-crypto (BoringSSL's `ED25519_verify`:
/// cofactorless, S < L, R compared as bytes), with updatectl's stricter rules on the public key
/// applied before it (`Ed25519Key`: canonical, not of small order; BoringSSL reduces a
/// non-canonical key and verifies);
/// - S < L is checked here too, so the rule does not rest on the library's version.
///
/// A key that is canonical but no point of the curve is not told apart here: BoringSSL refuses
/// every signature under it ("bad signature").
enum Ed25519 {
    static let keySize = Ed25519Key.size
    static let signatureSize = 64

    typealias KeyProblem = Ed25519Key.Problem

    /// L, the order of the base point, little-endian.
    private static let order: [UInt8] = hex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")

    static func keyProblem(_ key: [UInt8]) -> KeyProblem? { Ed25519Key.problem(key) }

    static func isValidPublicKey(_ key: [UInt8]) -> Bool { keyProblem(key) == nil }

    /// Whether the S half of a 64-byte signature is below L.
    static func hasCanonicalS(_ signature: [UInt8]) -> Bool {
        signature.count == signatureSize && Ed25519Key.isLess(Array(signature[32...]), than: order)
    }

    /// `signature` (64 bytes) over `message` by `publicKey`, under the rules above.
    static func verify(signature: [UInt8], message: UnsafeRawBufferPointer, publicKey: [UInt8]) -> Bool {
        guard hasCanonicalS(signature), keyProblem(publicKey) == nil,
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey)
        else { return false }
        return key.isValidSignature(signature, for: message)
    }

    private static func hex(_ text: String) -> [UInt8] {
        guard let bytes = Hex.decode(text) else { preconditionFailure("a constant is hex") }
        return bytes
    }
}
