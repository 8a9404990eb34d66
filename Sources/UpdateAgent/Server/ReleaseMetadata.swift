import UpdatePolicy

/// `latest.json`: the offered release.
public struct ReleaseMetadata: Sendable {
    public var version: String
    /// The image URL, resolved against the metadata URL.
    public var imageURL: String
    /// Lower-case hex.
    public var sha256: String
    public var size: Int
    public var expires: Timestamp?
    /// The exact bytes that were read (and signed).
    public var bytes: [UInt8]

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { "the metadata is not valid: \(message)" }
    }

    /// The largest image accepted: far above any OS image, far below what arithmetic on sizes
    /// (free space with headroom) could overflow.
    public static let maximumSize = 256 << 30

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

    /// Parses the metadata read from `metadataURL`. A `file:` image URL is accepted only from a
    /// `file:` server (an HTTP server must not point the node at its own files).
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
        let version = try string("version")
        guard isPlainVersion(version) else {
            throw Invalid(message: "`version` \(JSON.quote(version)) is not a plain version (letters, digits, `.`, `+`, `_`, "
                + "`~` and `-`, starting with a letter or digit, at most 128 characters)")
        }
        let url = try string("url")
        let digest = try string("sha256").lowercased()
        guard digest.count == 64, digest.allSatisfy({ $0.isHexDigit }) else {
            throw Invalid(message: "`sha256` is not 64 hex digits")
        }
        guard let size = json["size"]?.intValue, size > 0 else { throw Invalid(message: "no positive `size`") }
        guard size <= maximumSize else {
            throw Invalid(message: "`size` \(size) is larger than the \(maximumSize >> 30) GiB updatectl accepts for one image")
        }
        var expires: Timestamp?
        if let text = json["expires"]?.stringValue {
            guard let time = Timestamp.parse(text) else { throw Invalid(message: "`expires` is not an RFC 3339 time") }
            expires = time
        }
        guard let imageURL = resolve(url, against: metadataURL) else {
            throw Invalid(message: "`url` \(url) is not an http, https or file URL")
        }
        let fromFile = serverIsFile ?? metadataURL.lowercased().hasPrefix("file:")
        if imageURL.lowercased().hasPrefix("file:"), !fromFile {
            throw Invalid(message: "`url` \(imageURL) is a file URL, which only a `file://` server may name")
        }
        if metadataURL.lowercased().hasPrefix("https:"), !imageURL.lowercased().hasPrefix("https:") {
            throw Invalid(message: "the metadata came over https but `url` \(imageURL) does not use https")
        }
        return ReleaseMetadata(version: version, imageURL: imageURL, sha256: digest, size: size, expires: expires,
                               bytes: bytes)
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
