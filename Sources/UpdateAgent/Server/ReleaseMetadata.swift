import JSONValue
import UpdatePolicy

/// The offered release, as `latest.json` (or a registry manifest) describes it: a version, the
/// files that make it (KubeSolo OS's kernel and initramfs pair, or updatectl's one image), and
/// what the metadata gates compare.
public struct ReleaseMetadata: Sendable {
    /// How the release is laid out.
    public enum Format: String, Sendable {
        /// KubeSolo OS: `vmlinuz_url` + `initramfs_url`, each with its SHA-256 and optional
        /// detached signature; sizes only as updatectl's `vmlinuz_size` and `initramfs_size`.
        case kubesolo
        /// updatectl's generic form: one `url`, `sha256` and `size`.
        case image
    }

    /// One file of the release.
    public struct File: Sendable, Equatable {
        /// The file's name in the slot: `vmlinuz`, `kubesolo-os.gz` or `image`.
        public var name: String
        /// Absolute: resolved against the metadata's URL.
        public var url: String
        /// Lower-case hex (or `sha256:<hex>` digests from a registry, stored as hex).
        public var sha256: String
        /// Announced by the metadata (the image form, a registry descriptor) or learned from the
        /// server (`Content-Length` of a HEAD); nil while unknown.
        public var size: Int?
        /// Whether `size` was announced (then a different download size fails) or only learned.
        public var sizeAnnounced: Bool
        /// The detached Ed25519 signature over the file's bytes, when the release names one.
        public var signatureURL: String?
        /// Request headers the download needs (a registry's token); never written anywhere.
        public var headers: [String] = []

        public init(name: String, url: String, sha256: String, size: Int?, sizeAnnounced: Bool, signatureURL: String?) {
            self.name = name
            self.url = url
            self.sha256 = sha256
            self.size = size
            self.sizeAnnounced = sizeAnnounced
            self.signatureURL = signatureURL
        }
    }

    public var version: String
    public var format: Format
    public var files: [File]
    /// The metadata's own detached signature (`metadata_sig_url`), when it names one.
    public var metadataSignatureURL: String?
    public var channel: String?
    public var minCompatibleVersion: String?
    /// Go's name (`amd64`, `arm64`…).
    public var architecture: String?
    public var releaseNotes: String?
    public var releaseDate: String?
    public var expires: Timestamp?
    /// The rollout wave the publisher announces (updatectl's `"rollout"` object; on a registry,
    /// the `dev.updatectl.rollout.*` annotations).
    public var rollout: ReleaseWave?
    /// Whether the metadata itself was verified (its own signature, or the registry's cosign
    /// signature over the manifest): only then is `rollout` honoured.
    public var authenticated = false
    /// The exact bytes that were read (and signed).
    public var bytes: [UInt8]

    public init(
        version: String, format: Format, files: [File], metadataSignatureURL: String? = nil, channel: String? = nil,
        minCompatibleVersion: String? = nil, architecture: String? = nil, releaseNotes: String? = nil,
        releaseDate: String? = nil, expires: Timestamp? = nil, rollout: ReleaseWave? = nil, bytes: [UInt8] = []
    ) {
        self.version = version
        self.format = format
        self.files = files
        self.metadataSignatureURL = metadataSignatureURL
        self.channel = channel
        self.minCompatibleVersion = minCompatibleVersion
        self.architecture = architecture
        self.releaseNotes = releaseNotes
        self.releaseDate = releaseDate
        self.expires = expires
        self.rollout = rollout
        self.bytes = bytes
    }

    /// The bytes of every file, when every size is known.
    public var size: Int? {
        files.reduce(Optional(0)) { total, file in total.flatMap { sum in file.size.map { sum + $0 } } }
    }

    /// "vmlinuz and kubesolo-os.gz", "image".
    public var fileNames: String {
        files.map(\.name).joined(separator: " and ")
    }

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { "the metadata is not valid: \(message)" }
    }

    /// The largest file accepted: far above any OS image, far below what arithmetic on sizes
    /// (free space with headroom) could overflow.
    public static let maximumSize = 256 << 30

    /// The slot file names of KubeSolo OS's pair.
    public static let kernelName = "vmlinuz"
    public static let initramfsName = "kubesolo-os.gz"

    /// A release version: letters, digits, `.`, `+`, `_`, `~` and `-`, starting with a letter or
    /// digit, at most 128 characters. Anything else (a path, white space, a control character,
    /// an option-like leading `-`) never reaches a file name, a command or a terminal.
    public static func isPlainVersion(_ text: String) -> Bool {
        guard let first = text.utf8.first, text.utf8.count <= 128 else { return false }
        func alnum(_ byte: UInt8) -> Bool {
            (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
        }
        return alnum(first) && text.utf8.allSatisfy { alnum($0) || $0 == 46 || $0 == 43 || $0 == 95 || $0 == 126 || $0 == 45 }
    }

    /// The metadata's own signature URL, read before anything else in the document is trusted:
    /// `metadata_sig_url` when it names one. Nil when the document names none (or is not JSON;
    /// `parse` says why later).
    public static func namedMetadataSignature(_ bytes: [UInt8], metadataURL: String) -> String? {
        guard let json = try? JSON.parse(bytes), let url = json["metadata_sig_url"]?.stringValue, !url.isEmpty else {
            return nil
        }
        return resolve(url, against: metadataURL)
    }

    /// Whether the document is KubeSolo OS's form (it names `vmlinuz_url` or `initramfs_url`):
    /// read before the signature verifies, only to know which signature to look for.
    public static func isKubeSoloForm(_ bytes: [UInt8]) -> Bool {
        guard let json = try? JSON.parse(bytes) else { return false }
        return json["vmlinuz_url"] != nil || json["initramfs_url"] != nil
    }

    /// Parses the metadata read from `metadataURL`: KubeSolo OS's form when it has
    /// `vmlinuz_url`, updatectl's image form otherwise. A `file:` URL is accepted only from a
    /// `file:` server (an HTTP server must not point the node at its own files), and metadata read
    /// over https may only name https URLs.
    public static func parse(_ bytes: [UInt8], metadataURL: String, serverIsFile: Bool? = nil) throws(Invalid) -> ReleaseMetadata {
        let json: JSON
        do {
            json = try JSON.parse(bytes)
        } catch {
            throw Invalid(message: "not JSON (\(error))")
        }
        guard case .object = json else { throw Invalid(message: "the top level is not a JSON object") }
        func string(_ key: String) throws(Invalid) -> String {
            guard let value = json[key]?.stringValue, !value.isEmpty else { throw Invalid(message: "no `\(key)` string") }
            return value
        }
        func optional(_ key: String) throws(Invalid) -> String? {
            guard let value = json[key] else { return nil }
            if case .null = value { return nil }
            guard let text = value.stringValue else { throw Invalid(message: "`\(key)` is not a string") }
            return text.isEmpty ? nil : text
        }
        let fromFile = serverIsFile ?? metadataURL.lowercased().hasPrefix("file:")
        func url(_ key: String, _ text: String) throws(Invalid) -> String {
            guard let resolved = resolve(text, against: metadataURL) else {
                throw Invalid(message: "`\(key)` \(text) is not an http, https or file URL")
            }
            if resolved.lowercased().hasPrefix("file:"), !fromFile {
                throw Invalid(message: "`\(key)` \(resolved) is a file URL, which only a `file://` server may name")
            }
            if metadataURL.lowercased().hasPrefix("https:"), !resolved.lowercased().hasPrefix("https:") {
                throw Invalid(message: "the metadata came over https but `\(key)` \(resolved) does not use https")
            }
            return resolved
        }
        func digest(_ key: String) throws(Invalid) -> String {
            let value = try string(key).lowercased()
            guard value.count == 64, value.allSatisfy({ $0.isHexDigit }) else { throw Invalid(message: "`\(key)` is not 64 hex digits") }
            return value
        }

        func announcedSize(_ key: String, required: Bool) throws(Invalid) -> Int? {
            guard let value = json[key] else {
                if required { throw Invalid(message: "no positive `\(key)`") }
                return nil
            }
            guard let size = value.intValue, size > 0 else { throw Invalid(message: "`\(key)` is not a positive whole number") }
            guard size <= maximumSize else {
                throw Invalid(message: "`\(key)` \(size) is larger than the \(maximumSize >> 30) GiB updatectl accepts for one file")
            }
            return size
        }

        let version = try string("version")
        guard isPlainVersion(version) else {
            throw Invalid(
                message: "`version` \(JSON.quote(version)) is not a plain version (letters, digits, `.`, `+`, `_`, "
                    + "`~` and `-`, starting with a letter or digit, at most 128 characters)")
        }
        var files: [File] = []
        let format: Format
        if json["vmlinuz_url"] != nil || json["initramfs_url"] != nil {
            format = .kubesolo
            for (name, prefix) in [(kernelName, "vmlinuz"), (initramfsName, "initramfs")] {
                // `vmlinuz_size` and `initramfs_size`: updatectl's addition; KubeSolo OS's agent ignores them.
                let size = try announcedSize("\(prefix)_size", required: false)
                files.append(
                    File(
                        name: name, url: try url("\(prefix)_url", try string("\(prefix)_url")), sha256: try digest("\(prefix)_sha256"),
                        size: size, sizeAnnounced: size != nil,
                        signatureURL: try optional("\(prefix)_sig_url").map { text throws(Invalid) in try url("\(prefix)_sig_url", text) }))
            }
        } else {
            format = .image
            let location = try url("url", try string("url"))
            let hash = try digest("sha256")
            guard let size = try announcedSize("size", required: true) else { throw Invalid(message: "no positive `size`") }
            files.append(
                File(
                    name: "image", url: location, sha256: hash, size: size, sizeAnnounced: true,
                    signatureURL: try optional("sig_url").map { text throws(Invalid) in try url("sig_url", text) }))
        }
        var expires: Timestamp?
        if let text = try optional("expires") {
            guard let time = Timestamp.parse(text) else { throw Invalid(message: "`expires` is not an RFC 3339 time") }
            expires = time
        }
        var rollout: ReleaseWave?
        switch json["rollout"] {
        case nil, .null?: break
        case let wave?: rollout = try ReleaseWave.parse(wave)
        }
        let minimum = try optional("min_compatible_version")
        if let minimum, SemanticVersion(minimum) == nil {
            throw Invalid(message: "`min_compatible_version` \(JSON.quote(minimum)) is not a version like 1.2.3")
        }
        return ReleaseMetadata(
            version: version, format: format, files: files,
            metadataSignatureURL: try optional("metadata_sig_url").map { text throws(Invalid) in try url("metadata_sig_url", text) },
            channel: try optional("channel"), minCompatibleVersion: minimum, architecture: try optional("architecture"),
            releaseNotes: try optional("release_notes"), releaseDate: try optional("release_date"), expires: expires, rollout: rollout,
            bytes: bytes)
    }

    /// The signed `release_date` as an instant: RFC 3339, or a date alone (`2026-05-14`, taken as
    /// its midnight UTC); nil when there is none or it is neither.
    public var releaseTime: Timestamp? { releaseDate.flatMap(Self.time(ofReleaseDate:)) }

    /// A `release_date` as an instant: RFC 3339, or a date alone at its midnight UTC.
    public static func time(ofReleaseDate text: String) -> Timestamp? {
        Timestamp.parse(text) ?? Timestamp.parse(text + "T00:00:00Z")
    }

    /// `url` as an absolute URL: kept when it has a scheme, else resolved against `base`.
    static func resolve(_ url: String, against base: String) -> String? {
        if let colon = url.firstIndex(of: ":"), url[colon...].hasPrefix("://") {
            let scheme = url[..<colon].lowercased()
            return ["http", "https", "file"].contains(scheme) ? url : nil
        }
        guard let schemeEnd = base.range(of: "://") else { return nil }
        let afterScheme = base[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
        let origin = String(base[..<authorityEnd])
        if url.hasPrefix("/") { return origin + url }
        let path = base[authorityEnd...]
        let directory = path.lastIndex(of: "/").map { String(path[...$0]) } ?? "/"
        return origin + directory + url
    }
}
