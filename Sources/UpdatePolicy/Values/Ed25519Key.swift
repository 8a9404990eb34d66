/// The rules updatectl applies to an Ed25519 public key before any signature is checked, as data
/// and without curve arithmetic (lint applies them to an inline key, the executor to every key):
/// - the key is canonical: its y coordinate below p = 2^255 − 19, and no x = 0 point (y = ±1)
///   with the sign bit set (RFC 8032 5.1.3 refuses both);
/// - the key is not of small order (the eight points of order 1, 2, 4 and 8, as libsodium's
///   blocklist refuses them): with such a key one fixed signature verifies many messages.
public enum Ed25519Key {
    public static let size = 32

    /// Why a key is refused.
    public enum Problem: Sendable, Equatable, CustomStringConvertible {
        case size(Int)
        case notCanonical
        case smallOrder

        public var description: String {
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
        [
            0x26, 0xE8, 0x95, 0x8F, 0xC2, 0xB2, 0x27, 0xB0, 0x45, 0xC3, 0xF4, 0x89, 0xF2, 0xEF, 0x98, 0xF0,
            0xD5, 0xDF, 0xAC, 0x05, 0xD3, 0xC6, 0x33, 0x39, 0xB1, 0x38, 0x02, 0x88, 0x6D, 0x53, 0xFC, 0x05,
        ],
        [
            0xC7, 0x17, 0x6A, 0x70, 0x3D, 0x4D, 0xD8, 0x4F, 0xBA, 0x3C, 0x0B, 0x76, 0x0D, 0x10, 0x67, 0x0F,
            0x2A, 0x20, 0x53, 0xFA, 0x2C, 0x39, 0xCC, 0xC6, 0x4E, 0xC7, 0xFD, 0x77, 0x92, 0xAC, 0x03, 0x7A,
        ],
    ]

    /// Why `key` is refused; nil for a key the rules accept.
    public static func problem(_ key: [UInt8]) -> Problem? {
        guard key.count == size else { return .size(key.count) }
        var y = key
        y[31] &= 0x7F
        let signBit = key[31] & 0x80 != 0
        guard isLess(y, than: p) else { return .notCanonical }
        if signBit, y == smallOrderY[1] || y == smallOrderY[2] { return .notCanonical }
        if smallOrderY.contains(y) { return .smallOrder }
        return nil
    }

    /// Little-endian `a < b`, both 32 bytes.
    public static func isLess(_ a: [UInt8], than b: [UInt8]) -> Bool {
        for index in stride(from: 31, through: 0, by: -1) where a[index] != b[index] {
            return a[index] < b[index]
        }
        return false
    }
}
