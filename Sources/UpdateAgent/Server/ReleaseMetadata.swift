public import UpdatePolicy

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

    /// Parses the metadata read from `metadataURL`.
    public static func parse(_ bytes: [UInt8], metadataURL: String) throws(Invalid) -> ReleaseMetadata {
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
        let url = try string("url")
        let digest = try string("sha256").lowercased()
        guard digest.count == 64, digest.allSatisfy({ $0.isHexDigit }) else {
            throw Invalid(message: "`sha256` is not 64 hex digits")
        }
        guard let size = json["size"]?.intValue, size > 0 else { throw Invalid(message: "no positive `size`") }
        var expires: Timestamp?
        if let text = json["expires"]?.stringValue {
            guard let time = Timestamp.parse(text) else { throw Invalid(message: "`expires` is not an RFC 3339 time") }
            expires = time
        }
        guard let imageURL = resolve(url, against: metadataURL) else {
            throw Invalid(message: "`url` \(url) is not an http, https or file URL")
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
