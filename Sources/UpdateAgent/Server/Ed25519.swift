import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Ed25519 (RFC 8032) verification through swift-crypto (BoringSSL's `ED25519_verify`:
/// cofactorless, S < L, R compared as bytes), with updatectl's stricter rules on the public key
/// applied before it, as data and without curve arithmetic of updatectl's own:
/// - the key is canonical: its y coordinate below p = 2^255 − 19, and no x = 0 point (y = ±1)
///   with the sign bit set (RFC 8032 5.1.3 refuses both; BoringSSL reduces them and verifies);
/// - the key is not of small order (the eight points of order 1, 2, 4 and 8, as libsodium's
///   blocklist refuses them): with such a key one fixed signature verifies many messages;
/// - S < L is checked here too, so the rule does not rest on the library's version.
///
/// A key that is canonical but no point of the curve is not told apart here: BoringSSL refuses
/// every signature under it ("bad signature").
enum Ed25519 {
    static let keySize = 32
    static let signatureSize = 64

    /// Why `key` is refused before any signature is checked.
    enum KeyProblem: Sendable, Equatable {
        case size(Int)
        case notCanonical
        case smallOrder

        var description: String {
            switch self {
            case .size(let count): "an Ed25519 public key is 32 bytes, not \(count)"
            case .notCanonical: "the public key is not a canonical Ed25519 encoding (RFC 8032 5.1.3)"
            case .smallOrder:
                "the public key is a point of small order, which one fixed signature verifies for many messages; "
                    + "it is no real signing key"
            }
        }
    }

    /// p = 2^255 − 19, little-endian.
    private static let p: [UInt8] = [0xED] + [UInt8](repeating: 0xFF, count: 30) + [0x7F]
    /// The y coordinates (sign bit clear) of the eight points of small order: 0 (order 4, two
    /// points), 1 (the identity), p − 1 (order 2), and the two of order 8 (four points).
    private static let smallOrderY: [[UInt8]] = [
        [UInt8](repeating: 0, count: 32),
        [1] + [UInt8](repeating: 0, count: 31),
        [0xEC] + [UInt8](repeating: 0xFF, count: 30) + [0x7F],
        hex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
        hex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    ]
    /// L, the order of the base point, little-endian.
    private static let order: [UInt8] = hex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")

    static func keyProblem(_ key: [UInt8]) -> KeyProblem? {
        guard key.count == keySize else { return .size(key.count) }
        var y = key
        y[31] &= 0x7F
        let signBit = key[31] & 0x80 != 0
        guard isLess(y, than: p) else { return .notCanonical }
        if signBit, y == smallOrderY[1] || y == smallOrderY[2] { return .notCanonical }
        if smallOrderY.contains(y) { return .smallOrder }
        return nil
    }

    static func isValidPublicKey(_ key: [UInt8]) -> Bool { keyProblem(key) == nil }

    /// Whether the S half of a 64-byte signature is below L.
    static func hasCanonicalS(_ signature: [UInt8]) -> Bool {
        signature.count == signatureSize && isLess(Array(signature[32...]), than: order)
    }

    /// `signature` (64 bytes) over `message` by `publicKey`, under the rules above.
    static func verify(signature: [UInt8], message: UnsafeRawBufferPointer, publicKey: [UInt8]) -> Bool {
        guard hasCanonicalS(signature), keyProblem(publicKey) == nil,
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey)
        else { return false }
        return key.isValidSignature(signature, for: message)
    }

    /// Little-endian `a < b`, both 32 bytes.
    private static func isLess(_ a: [UInt8], than b: [UInt8]) -> Bool {
        for index in stride(from: 31, through: 0, by: -1) where a[index] != b[index] {
            return a[index] < b[index]
        }
        return false
    }

    private static func hex(_ text: String) -> [UInt8] {
        guard let bytes = Hex.decode(text) else { preconditionFailure("a constant is hex") }
        return bytes
    }
}
