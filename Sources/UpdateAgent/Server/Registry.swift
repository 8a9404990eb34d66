import JSONValue
public import UpdatePolicy

#if canImport(Glibc)
import Glibc
#endif

/// A client of an OCI distribution registry (the `/v2/` API), as releases are pulled: manifests
/// and small blobs fetched whole, large blobs streamed by the executor with the headers this
/// client hands out. Anonymous pulls, basic credentials and the token flow (a `401` with
/// `WWW-Authenticate: Bearer realm=…,service=…,scope=…`) all work; a token is fetched once per run.
/// Credentials go to the registry itself and to the token service its own `401` names (over
/// https when the registry is https), never to a server a request was redirected to.
/// `@unchecked Sendable`: the stored properties are constants but `authorization`, which is read
/// and written under `lock` only (the token may be fetched on a download's thread).
public final class RegistryClient: @unchecked Sendable {
    public let reference: RegistryReference
    let transport: any Transport
    /// `user:password`, for basic authentication or the token service.
    let credentials: String?
    /// The file the credentials came from, for the message when they are refused.
    let credentialsFile: String?
    private let lock = Mutex()
    private var authorization: String?

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var message: String
        /// The registry answered 404: what was asked for is not there.
        public var notFound = false
        public var description: String { message }
    }

    /// The media types a manifest may come in, most wanted first.
    static let manifestTypes = [
        "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.docker.distribution.manifest.v2+json",
    ]

    public init(reference: RegistryReference, transport: any Transport, credentials: String?, credentialsFile: String? = nil) {
        self.reference = reference
        self.transport = transport
        self.credentials = credentials
        self.credentialsFile = credentialsFile
    }

    /// "the registry … refused the credentials in FILE", with what refused them.
    func refused(_ detail: String) -> Failure {
        Failure(
            message: "the registry \(reference.host) refused the credentials in \(credentialsFile ?? "`registry_auth`") (\(detail)); "
                + "check the user and password")
    }

    /// Reads a credentials file: one line `user:password`.
    public static func credentials(file path: String) throws(Failure) -> String {
        guard let bytes = try? AtomicFile.read(path, limit: 4096, followingLinks: true) else {
            throw Failure(message: "cannot read the registry credentials \(path)")
        }
        let line = String(decoding: bytes, as: UTF8.self).trimmingSpaces
        guard line.contains(":"), !line.contains("\n") else {
            throw Failure(message: "the registry credentials \(path) must hold one line `user:password`")
        }
        return line
    }

    /// A warning when the credentials file can be read by its group or by anyone (a mode other
    /// than 0600 or 0400): nil when only its owner can.
    public static func exposure(file path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & 0o044 != 0 else { return nil }
        let mode = String(info.st_mode & 0o777, radix: 8)
        return "the registry credentials \(path) can be read by \(info.st_mode & 0o004 != 0 ? "every user" : "its group") "
            + "(mode 0\(mode)): `chmod 600 \(path)`"
    }

    /// The headers every request of this run carries (the token or basic credentials, once known).
    public var headers: [String] { lock.withLock { authorization.map { ["Authorization: \($0)"] } ?? [] } }

    /// `<base>/manifests/<tag or digest>`, `<base>/blobs/<digest>`. A name that is neither a tag
    /// nor exactly `sha256:` and 64 lower-case hex digits (a manifest's `sha256:../../x` would
    /// name another path on the registry, asked with the credentials) is refused before any request.
    public func url(_ kind: String, _ name: String) throws(Failure) -> String {
        guard RegistryReference.isDigest(name) || (kind == "manifests" && !name.hasPrefix("sha256:") && RegistryReference.isTag(name))
        else {
            throw Failure(
                message: "\(JSON.quote(name)) is not a \(kind == "blobs" ? "digest" : "tag or digest") "
                    + "(a digest is `sha256:` and 64 lower-case hex digits): nothing was asked of the registry")
        }
        return "\(reference.base)/\(kind)/\(name)"
    }

    /// GETs `url` whole (at most `limit` bytes), authenticating when the registry asks to.
    public func fetch(_ url: String, accept: [String] = [], limit: Int) throws(Failure) -> (response: TransportResponse, body: [UInt8]) {
        var retried = false
        while true {
            let request = TransportRequest(
                url: url, maxBytes: limit, timeout: .seconds(60), maxRedirects: 5,
                schemes: ["http", "https"],
                headers: (accept.isEmpty ? [] : ["Accept: " + accept.joined(separator: ", ")]) + headers)
            let answer: (response: TransportResponse, body: [UInt8])
            do {
                answer = try transport.fetch(request)
            } catch {
                throw Failure(message: "cannot reach the registry at \(url): \(error)")
            }
            guard answer.response.status == 401 else { return answer }
            let answered = TransportRequest.origin(of: answer.response.url ?? url)
            guard answered == TransportRequest.origin(of: url) else {
                throw Failure(
                    message: "GET \(url) was redirected to \(answered ?? "another server"), which answered HTTP 401: "
                        + "updatectl sends the registry's credentials to the registry and its own token service only")
            }
            if retried {
                guard credentials == nil else { throw refused("GET \(url) answered HTTP 401 again with them") }
                return answer
            }
            retried = true
            try authenticate(answer.response.header("WWW-Authenticate"))
        }
    }

    /// Answers a `401`: basic credentials, or a token from the registry's token service.
    func authenticate(_ challenge: String?) throws(Failure) {
        guard let challenge else {
            throw Failure(message: "the registry \(reference.host) asks for credentials but says nothing about how")
        }
        let (scheme, parameters) = Self.parse(challenge: challenge)
        switch scheme.lowercased() {
        case "basic":
            guard let credentials else {
                throw Failure(
                    message: "the registry \(reference.host) needs credentials: set `registry_auth` to a file "
                        + "holding `user:password`")
            }
            lock.withLock { authorization = "Basic " + Base64.encode(Array(credentials.utf8)) }
        case "bearer":
            guard let realm = parameters["realm"], realm.lowercased().hasPrefix("https://") || realm.lowercased().hasPrefix("http://")
            else {
                throw Failure(message: "the registry's token challenge names no realm: \(challenge)")
            }
            guard reference.plainHTTP || realm.lowercased().hasPrefix("https://") else {
                throw Failure(
                    message: "the registry \(reference.host) names a token service over plain http (\(realm)); "
                        + "updatectl sends nothing to it: the credentials and the token would cross the network in clear. "
                        + "The registry's token realm must be https")
            }
            var query: [String] = []
            if let service = parameters["service"] { query.append("service=" + Self.escape(service)) }
            query.append("scope=" + Self.escape(parameters["scope"] ?? "repository:\(reference.repository):pull"))
            let tokenURL = realm + (realm.contains("?") ? "&" : "?") + query.joined(separator: "&")
            let basic = credentials.map { ["Authorization: Basic " + Base64.encode(Array($0.utf8))] } ?? []
            let answer: (response: TransportResponse, body: [UInt8])
            do {
                answer = try transport.fetch(
                    TransportRequest(
                        url: tokenURL, maxBytes: 64 << 10, timeout: .seconds(30),
                        schemes: reference.plainHTTP ? ["http", "https"] : ["https"], headers: basic))
            } catch {
                throw Failure(message: "cannot reach the registry's token service \(realm): \(error)")
            }
            if credentials != nil, [401, 403].contains(answer.response.status) {
                throw refused("its token service \(realm) answered HTTP \(answer.response.status)")
            }
            guard answer.response.status == 200 else {
                throw Failure(
                    message: "the registry's token service \(realm) answered HTTP \(answer.response.status)"
                        + (credentials == nil ? " (no credentials given: `registry_auth`)" : ""))
            }
            guard let json = try? JSON.parse(answer.body),
                let token = json["token"]?.stringValue ?? json["access_token"]?.stringValue, !token.isEmpty
            else {
                throw Failure(message: "the registry's token service \(realm) answered without a token")
            }
            lock.withLock { authorization = "Bearer " + token }
        default:
            throw Failure(
                message: "the registry \(reference.host) asks for `\(scheme)` authentication, which updatectl "
                    + "does not speak (it speaks Basic and Bearer)")
        }
    }

    /// `Bearer realm="https://…",service="registry",scope="repository:x:pull"` → scheme and parameters.
    static func parse(challenge: String) -> (scheme: String, parameters: [String: String]) {
        let trimmed = challenge.trimmingSpaces
        let scheme = String(trimmed.prefix { $0 != " " })
        var parameters: [String: String] = [:]
        var rest = Substring(trimmed.dropFirst(scheme.count))
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " || $0 == "," }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let name = String(rest[..<equals]).trimmingSpaces.lowercased()
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                while let character = rest.first, character != "\"" {
                    if character == "\\", let next = rest.dropFirst().first {
                        value.append(next)
                        rest = rest.dropFirst(2)
                    } else {
                        value.append(character)
                        rest = rest.dropFirst()
                    }
                }
                rest = rest.dropFirst()
            } else {
                value = String(rest.prefix { $0 != "," })
                rest = rest.dropFirst(value.count)
            }
            parameters[name] = value
        }
        return (scheme, parameters)
    }

    /// Percent-encoding for a query value.
    static func escape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(byte)))
            default:
                let hex = Array("0123456789ABCDEF")
                out += "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 15)])
            }
        }
        return out
    }

    /// A manifest by tag or digest: its bytes, media type and digest. Fetched by digest, the bytes
    /// must hash to it.
    public func manifest(_ name: String) throws(Failure) -> (bytes: [UInt8], mediaType: String, digest: String) {
        let url = try url("manifests", name)
        let (response, body) = try fetch(url, accept: Self.manifestTypes, limit: 4 << 20)
        guard response.status == 200 else {
            throw response.status == 404
                ? Failure(message: "the registry has no \(reference.named(name))", notFound: true)
                : Failure(message: "GET \(url) answered HTTP \(response.status)")
        }
        let digest = "sha256:" + SHA256Stream.hex(body)
        if name.hasPrefix("sha256:"), name != digest {
            throw Failure(message: "the manifest \(name) hashes to \(digest): the registry served other bytes")
        }
        let mediaType =
            (try? JSON.parse(body))?["mediaType"]?.stringValue
            ?? response.header("Content-Type").map { String($0.prefix { $0 != ";" }).trimmingSpaces } ?? ""
        return (body, mediaType, digest)
    }

    /// A small blob (a signature payload) whole, checked against its digest.
    public func blob(_ digest: String, limit: Int) throws(Failure) -> [UInt8] {
        let url = try url("blobs", digest)
        let (response, body) = try fetch(url, limit: limit)
        guard response.status == 200 else { throw Failure(message: "GET \(url) answered HTTP \(response.status)") }
        guard "sha256:" + SHA256Stream.hex(body) == digest else {
            throw Failure(message: "the blob \(digest) hashes to something else: the registry served other bytes")
        }
        return body
    }
}
