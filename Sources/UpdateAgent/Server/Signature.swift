import Crypto
public import UpdatePolicy
import YAMLTree
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif

/// Ed25519 verification of `latest.json.sig` over the exact bytes of `latest.json`.
public enum Signature {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The 32-byte key: inline, or read from a file holding `ed25519:<base64>`, bare base64 of 32
    /// bytes, or a PEM `PUBLIC KEY` (SubjectPublicKeyInfo).
    public static func key(_ spec: PublicKeySpec) throws(Failure) -> [UInt8] {
        switch spec {
        case .ed25519(let bytes):
            return bytes
        case .file(let path):
            let bytes: [UInt8]
            do {
                bytes = try SourceReader.read(path: path, maxBytes: 64 << 10)
            } catch {
                throw Failure(message: "cannot read the public key file \(path): \(error.reason)")
            }
            let text = String(decoding: bytes, as: UTF8.self)
            if let key = parseKeyText(text) { return key }
            throw Failure(message: "the public key file \(path) holds no Ed25519 key (ed25519:<base64>, base64 of 32 "
                + "bytes, or a PEM PUBLIC KEY)")
        }
    }

    static let spkiPrefix: [UInt8] = [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00]

    static func parseKeyText(_ text: String) -> [UInt8]? {
        let trimmed = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).map { $0.trimmingSpaces }.filter { !$0.isEmpty }
        if trimmed.first == "-----BEGIN PUBLIC KEY-----", let end = trimmed.firstIndex(of: "-----END PUBLIC KEY-----") {
            guard let der = Base64.decode(trimmed[1..<end].joined()), der.count == 44, Array(der.prefix(12)) == spkiPrefix
            else { return nil }
            return Array(der.suffix(32))
        }
        guard trimmed.count == 1 else { return nil }
        let line = trimmed[0].hasPrefix("ed25519:") ? String(trimmed[0].dropFirst(8)) : trimmed[0]
        guard let key = Base64.decode(line), key.count == 32 else { return nil }
        return key
    }

    /// Verifies `signatureText` (base64 of 64 bytes) over `message` with `key`.
    public static func verify(message: [UInt8], signatureText: [UInt8], key: [UInt8]) throws(Failure) {
        let text = String(decoding: signatureText, as: UTF8.self).trimmingSpaces
        guard let signature = Base64.decode(text), signature.count == 64 else {
            throw Failure(message: "latest.json.sig is malformed: it must be the base64 of a 64-byte Ed25519 signature")
        }
        let publicKey: Curve25519.Signing.PublicKey
        do {
            publicKey = try Curve25519.Signing.PublicKey(rawRepresentation: key)
        } catch {
            throw Failure(message: "the public key is not a valid Ed25519 key")
        }
        guard publicKey.isValidSignature(signature, for: message) else {
            throw Failure(message: "bad signature: latest.json.sig does not verify with the configured public key "
                + "(signed with another key, or over other bytes)")
        }
    }
}

/// SHA-256, streaming.
public struct SHA256Stream {
    private var hasher = Crypto.SHA256()

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }

    public mutating func finalizeHex() -> String {
        hasher.finalize().map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    public static func digest(_ bytes: [UInt8]) -> [UInt8] { Array(Crypto.SHA256.hash(data: bytes)) }

    public static func hex(_ bytes: [UInt8]) -> String {
        var stream = SHA256Stream()
        bytes.withUnsafeBytes { stream.update($0) }
        return stream.finalizeHex()
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var scalars = Substring(self).unicodeScalars[...]
        while let first = scalars.first, first == " " || first == "\t" || first == "\n" || first == "\r" { scalars = scalars.dropFirst() }
        while let last = scalars.last, last == " " || last == "\t" || last == "\n" || last == "\r" { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}
