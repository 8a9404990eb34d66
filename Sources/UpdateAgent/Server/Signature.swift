import Crypto
public import UpdatePolicy
import YAMLTree

#if canImport(Glibc)
import Glibc
#endif

/// Ed25519 verification of release metadata and files, with the key and signature forms of
/// both KubeSolo OS (hex key files; raw or hex signature files) and updatectl (`ed25519:<base64>`,
/// base64 signatures, PEM keys).
public enum Signature {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The 32-byte keys, in the order written (a list while a key is rotated; any one verifies):
    /// each inline, or read from a file holding 64 hex characters (KubeSolo OS's key file),
    /// `ed25519:<base64>`, bare base64 of 32 bytes, or a PEM `PUBLIC KEY` (SubjectPublicKeyInfo).
    /// A key the stricter rules refuse (not canonical, of small order: `Ed25519Key.problem`) is
    /// refused here, when it is read.
    public static func keys(_ spec: PublicKeySpec) throws(Failure) -> [[UInt8]] {
        var keys: [[UInt8]] = []
        for single in spec.keys {
            let key = try read(single)
            if let problem = Ed25519.keyProblem(key) {
                if case .file(let path) = single { throw Failure(message: "the public key file \(path): \(problem.description)") }
                throw Failure(message: problem.description)
            }
            keys.append(key)
        }
        guard !keys.isEmpty else { throw Failure(message: "no public key is configured") }
        return keys
    }

    /// The first key of `spec` (one key, as the tests and the benchmark use it).
    public static func key(_ spec: PublicKeySpec) throws(Failure) -> [UInt8] {
        let keys = try keys(spec)
        return keys[0]
    }

    private static func read(_ spec: PublicKeySpec) throws(Failure) -> [UInt8] {
        switch spec {
        case .ed25519(let bytes):
            return bytes
        case .any:
            throw Failure(message: "a list of public keys inside a list")
        case .file(let path):
            let bytes: [UInt8]
            do {
                bytes = try SourceReader.read(path: path, maxBytes: 64 << 10)
            } catch {
                throw Failure(message: "cannot read the public key file \(path): \(error.reason)")
            }
            let text = String(decoding: bytes, as: UTF8.self)
            if let key = parseKeyText(text) { return key }
            throw Failure(
                message: "the public key file \(path) holds no Ed25519 key (64 hex characters, ed25519:<base64>, "
                    + "base64 of 32 bytes, or a PEM PUBLIC KEY)")
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
        if let key = Hex.decode(trimmed[0]), key.count == 32 { return key }
        let line = trimmed[0].hasPrefix("ed25519:") ? String(trimmed[0].dropFirst(8)) : trimmed[0]
        guard let key = Base64.decode(line), key.count == 32 else { return nil }
        return key
    }

    /// The 64 signature bytes of a signature file: the raw bytes (KubeSolo OS), 128 hex
    /// characters (KubeSolo OS) or base64 (updatectl's `latest.json.sig`); surrounding white
    /// space is ignored in the text forms.
    public static func decode(_ file: [UInt8]) -> [UInt8]? {
        if file.count == 64 { return file }
        let text = String(decoding: file, as: UTF8.self).trimmingSpaces
        if text.count == 128, let bytes = Hex.decode(text) { return bytes }
        if let bytes = Base64.decode(text), bytes.count == 64 { return bytes }
        return nil
    }

    /// Verifies the signature file `signatureFile` over `message` with any of `keys`; `what`
    /// names the signed thing in messages ("latest.json", "vmlinuz").
    public static func verify(
        message: UnsafeRawBufferPointer, signatureFile: [UInt8], keys: [[UInt8]], what: String
    )
        throws(Failure)
    {
        let signature = try checked(signatureFile: signatureFile, keys: keys, what: what)
        guard keys.contains(where: { Ed25519.verify(signature: signature, message: message, publicKey: $0) }) else {
            throw badSignature(what, keys: keys.count)
        }
    }

    public static func verify(message: [UInt8], signatureFile: [UInt8], keys: [[UInt8]], what: String) throws(Failure) {
        let outcome: Result<Void, Failure> = message.withUnsafeBytes { bytes in
            Result { () throws(Failure) in try verify(message: bytes, signatureFile: signatureFile, keys: keys, what: what) }
        }
        try outcome.get()
    }

    public static func verify(message: [UInt8], signatureFile: [UInt8], key: [UInt8], what: String) throws(Failure) {
        try verify(message: message, signatureFile: signatureFile, keys: [key], what: what)
    }

    public static func verify(file path: String, signatureFile: [UInt8], key: [UInt8], what: String) throws {
        try verify(file: path, signatureFile: signatureFile, keys: [key], what: what)
    }

    /// Verifies a signature over the bytes of the file at `path` (written and fsynced before):
    /// pure Ed25519 hashes the whole message inside the library, so the file is read through a
    /// read-only mapping, never copied into the heap. Its pages are the page cache's, given back
    /// when the mapping goes (they count in the resident size meanwhile, as file pages).
    public static func verify(file path: String, signatureFile: [UInt8], keys: [[UInt8]], what: String) throws {
        let signature = try checked(signatureFile: signatureFile, keys: keys, what: what)
        let verified = try MappedFile.withBytes(path) { bytes in
            keys.contains { Ed25519.verify(signature: signature, message: bytes, publicKey: $0) }
        }
        guard verified else { throw badSignature(what, keys: keys.count) }
    }

    /// The signature's 64 bytes, once it and the keys are known to be well formed.
    private static func checked(signatureFile: [UInt8], keys: [[UInt8]], what: String) throws(Failure) -> [UInt8] {
        guard let signature = decode(signatureFile) else {
            throw Failure(
                message: "the signature of \(what) is malformed: it must be the 64 bytes of an Ed25519 signature, "
                    + "raw, as 128 hex characters or in base64")
        }
        for key in keys {
            if let problem = Ed25519.keyProblem(key) { throw Failure(message: problem.description) }
        }
        guard Ed25519.hasCanonicalS(signature) else {
            throw Failure(
                message: "the signature of \(what) is not canonical: its S is not below the group order L "
                    + "(a signature altered to a second encoding), so it is refused")
        }
        return signature
    }

    private static func badSignature(_ what: String, keys: Int) -> Failure {
        Failure(
            message: "bad signature: the signature of \(what) does not verify with "
                + (keys > 1 ? "any of the \(keys) configured public keys" : "the configured public key")
                + " (signed with another key, or over other bytes)")
    }
}

/// Lower- or upper-case hex text and bytes.
enum Hex {
    static func decode(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case 48...57: digit - 48
            case 65...70: digit - 55
            case 97...102: digit - 87
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// SHA-256, streaming (swift-crypto's, which uses the CPU's SHA instructions where it has them).
public struct SHA256Stream {
    private var hasher = Crypto.SHA256()

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }

    public mutating func finalizeHex() -> String { Hex.encode(Array(hasher.finalize())) }

    public static func digest(_ bytes: [UInt8]) -> [UInt8] { Array(Crypto.SHA256.hash(data: bytes)) }

    public static func hex(_ bytes: [UInt8]) -> String { Hex.encode(digest(bytes)) }
}
