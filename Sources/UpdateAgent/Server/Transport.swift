internal import CCurl
import UpdatePolicy

#if canImport(Glibc)
import Glibc
#endif

/// One request, as the update server and registry clients need it: a GET unless `method` says
/// otherwise.
public struct TransportRequest: Sendable {
    public var url: String
    /// `HEAD` (headers only), `POST`, `PUT`, `DELETE`; nil for GET.
    public var method: String?
    /// Request header lines (`Accept: …`, `Authorization: …`).
    public var headers: [String] = []
    public var body: [UInt8]?
    /// More body bytes than this abort the transfer.
    public var maxBytes: Int
    public var connectTimeout: Duration
    /// Deadline of the whole transfer; nil for none (downloads use the low-speed limit instead).
    public var timeout: Duration?
    /// Abort when slower than `bytesPerSecond` for `seconds`.
    public var lowSpeed: (bytesPerSecond: Int, seconds: Int)?
    public var maxRedirects: Int
    /// Schemes the URL and any redirect may use. An `https` URL may only redirect to `https`.
    public var schemes: [String]
    /// Certificate authorities (instead of the system's) and a client certificate, for servers
    /// that ask for one (etcd with client-certificate authentication).
    public var tls = TLSFiles()
    /// The body arrives at this many bytes per second at most; 0 for no cap (`download.max_rate`).
    public var maxRate = 0
    /// Called once with the final response's status and headers, before its first body byte (not
    /// at all for an empty body): a resumed download learns there whether the server sent the
    /// rest (206) or the whole file (200). Throwing stops the transfer.
    public var onResponse: (@Sendable (_ status: Int, _ headers: [(name: String, value: String)]) throws -> Void)?

    public init(
        url: String, maxBytes: Int, connectTimeout: Duration = .seconds(10), timeout: Duration? = .seconds(30),
        lowSpeed: (bytesPerSecond: Int, seconds: Int)? = nil, maxRedirects: Int = 5,
        schemes: [String] = ["http", "https", "file"], method: String? = nil, headers: [String] = [],
        body: [UInt8]? = nil, tls: TLSFiles = TLSFiles()
    ) {
        self.url = url
        self.tls = tls
        self.method = method
        self.headers = headers
        self.body = body
        self.maxBytes = maxBytes
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.lowSpeed = lowSpeed
        self.maxRedirects = maxRedirects
        self.schemes = schemes
    }
}

extension TransportRequest {
    /// `scheme://host:port` of `url`, lower-cased, the default port spelt out: the server that
    /// credentials were meant for. nil for a URL without `://`.
    public static func origin(of url: String) -> String? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        var authority = url[schemeEnd.upperBound...].prefix { !"/?#".contains($0) }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var host = authority.lowercased()
        let hasPort = host.hasPrefix("[") ? host.contains("]:") : host.contains(":")
        if !hasPort, let port = ["http": ":80", "https": ":443"][scheme] { host += port }
        return scheme + "://" + host
    }

    /// Whether a header line is a credential (`Authorization`, `Cookie`): sent to the request
    /// URL's origin only, never after a redirect to another.
    static func isCredential(_ line: String) -> Bool {
        let name = line.prefix { $0 != ":" }.lowercased()
        return name == "authorization" || name == "cookie"
    }
}

/// A proxy for every request: `url` (`http://host:port`; empty for none, whatever the
/// environment says) and the hosts reached without it (libcurl's `no_proxy` list).
public struct ProxySettings: Sendable, Equatable {
    public var url: String
    public var noProxy: String?

    public init(url: String, noProxy: String? = nil) {
        self.url = url
        self.noProxy = noProxy
    }
}

/// PEM files a TLS connection uses instead of, or beside, the system's defaults.
public struct TLSFiles: Sendable, Equatable {
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?

    public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
    }
}

public struct TransportResponse: Sendable {
    /// The HTTP status; 200 for a `file` URL that was read.
    public var status: Int
    public var bytes: Int
    /// The final response's headers (a redirect's are dropped), names as sent.
    public var headers: [(name: String, value: String)] = []
    /// The URL that answered, after any redirects; nil when the transport does not say (then
    /// the request's own).
    public var url: String?

    public init(status: Int, bytes: Int, headers: [(name: String, value: String)] = [], url: String? = nil) {
        self.status = status
        self.bytes = bytes
        self.headers = headers
        self.url = url
    }

    /// The first header of that name (case-insensitive).
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    /// `Content-Length`, when the server sent one.
    public var contentLength: Int? { header("Content-Length").flatMap { Int($0.trimmingSpaces) } }
}

public enum TransportError: Error, Sendable, CustomStringConvertible, Equatable {
    case unavailable(String)
    case tooLarge(limit: Int)
    case timedOut(String)
    case tooManyRedirects(Int)
    case insecureRedirect
    case failed(String)
    case rejected(String)

    public var description: String {
        switch self {
        case .unavailable(let reason): "cannot fetch: \(reason)"
        case .tooLarge(let limit): "the answer is larger than \(limit) bytes; cut off"
        case .timedOut(let reason): "timed out: \(reason)"
        case .tooManyRedirects(let count): "more than \(count) redirects"
        case .insecureRedirect: "refused a redirect from https to a scheme other than https"
        case .failed(let reason): reason
        case .rejected(let reason): reason
        }
    }
}

/// Fetches URLs. `CurlTransport` is the real one; tests and `simulate` inject others.
public protocol Transport: Sendable {
    /// GETs `request.url`, handing each chunk of the body to `onData` (which may throw to stop).
    func get(_ request: TransportRequest, onData: (UnsafeRawBufferPointer) throws -> Void) throws -> TransportResponse
}

extension Transport {
    /// The whole body, for small documents (metadata, signatures).
    public func fetch(_ request: TransportRequest) throws -> (response: TransportResponse, body: [UInt8]) {
        var body: [UInt8] = []
        let response = try get(request) { chunk in body.append(contentsOf: chunk) }
        return (response, body)
    }
}

/// libcurl, loaded on first use.
public struct CurlTransport: Transport {
    /// Sets the scheme allow-lists with libcurl's bitmask options, as it must with a libcurl
    /// older than 7.85.0 (tests take this path on a newer one).
    public var legacyProtocolOptions: Bool
    /// The proxy for requests that name none (the policy's `download.proxy`); nil leaves libcurl
    /// to the `https_proxy`, `http_proxy` and `no_proxy` environment variables.
    public var proxy: ProxySettings?

    public init(legacyProtocolOptions: Bool = false, proxy: ProxySettings? = nil) {
        self.legacyProtocolOptions = legacyProtocolOptions
        self.proxy = proxy
    }

    private final class Context {
        let onData: (UnsafeRawBufferPointer) throws -> Void
        let onResponse: (@Sendable (Int, [(name: String, value: String)]) throws -> Void)?
        let maxBytes: Int
        var received = 0
        var error: (any Error)?
        var headers: [(name: String, value: String)] = []
        /// The status of the response whose headers arrive (each redirect's in turn).
        var status = 0
        var announced = false
        var isFile = false
        /// A 3xx answer's body is not the document (redirects followed by `get` itself).
        var dropsRedirectBodies = false

        init(
            onData: @escaping (UnsafeRawBufferPointer) throws -> Void,
            onResponse: (@Sendable (Int, [(name: String, value: String)]) throws -> Void)?, maxBytes: Int
        ) {
            self.onData = onData
            self.onResponse = onResponse
            self.maxBytes = maxBytes
        }
    }

    /// A request that carries credentials (`Authorization`, `Cookie`) follows its redirects here
    /// rather than in libcurl, and sends them to the request URL's origin only: a libcurl older
    /// than 7.83.1 forwards such headers to another port of the same host (older than 7.58.0, to
    /// any host), and a blob redirected to a CDN must not take the registry's token along.
    public func get(_ request: TransportRequest, onData: (UnsafeRawBufferPointer) throws -> Void) throws -> TransportResponse {
        guard request.maxRedirects > 0, request.method == nil || request.method == "HEAD",
            request.headers.contains(where: TransportRequest.isCredential),
            let origin = TransportRequest.origin(of: request.url)
        else { return try perform(request, ownRedirects: false, onData: onData).response }
        let startsHTTPS = request.url.lowercased().hasPrefix("https:")
        var current = request
        current.maxRedirects = 0
        var redirects = 0
        while true {
            let answer = try perform(current, ownRedirects: true, onData: onData)
            guard (300..<400).contains(answer.response.status), let next = answer.redirect else { return answer.response }
            redirects += 1
            guard redirects <= request.maxRedirects else { throw TransportError.tooManyRedirects(request.maxRedirects) }
            let scheme = next.prefix { $0 != ":" }.lowercased()
            guard scheme != "file", request.schemes.contains(scheme), !startsHTTPS || scheme == "https" else {
                throw TransportError.insecureRedirect
            }
            current.url = next
            if TransportRequest.origin(of: next) != origin { current.headers.removeAll(where: TransportRequest.isCredential) }
        }
    }

    /// One libcurl transfer; with `ownRedirects` a 3xx answer's body is dropped and its
    /// `Location` (made absolute) returned for the caller to follow.
    private func perform(
        _ request: TransportRequest, ownRedirects: Bool, onData: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> (response: TransportResponse, redirect: String?) {
        try withoutActuallyEscaping(onData) { onData in
            let context = Context(onData: onData, onResponse: request.onResponse, maxBytes: request.maxBytes)
            context.isFile = request.url.lowercased().hasPrefix("file:")
            context.dropsRedirectBodies = ownRedirects
            let unmanaged = Unmanaged.passRetained(context)
            defer { unmanaged.release() }
            let isHTTPS = request.url.lowercased().hasPrefix("https:")
            let schemes = request.schemes.joined(separator: ",")
            let redirectSchemes = isHTTPS ? "https" : request.schemes.filter { $0 != "file" }.joined(separator: ",")
            var result = ccurl_result()
            let method = request.method
            let headerLines = request.headers
            let body = request.body
            let tls = request.tls
            let code = request.url.withCString { url in
                schemes.withCString { protocols in
                    redirectSchemes.withCString { redirectProtocols in
                        "updatectl".withCString { agent in
                            var raw = ccurl_request()
                            raw.url = url
                            raw.connect_timeout_ms = Self.milliseconds(request.connectTimeout)
                            raw.timeout_ms = request.timeout.map(Self.milliseconds) ?? 0
                            raw.low_speed_bytes = request.lowSpeed.map { $0.bytesPerSecond } ?? 0
                            raw.low_speed_seconds = request.lowSpeed.map { $0.seconds } ?? 0
                            raw.max_redirects = request.maxRedirects
                            raw.protocols = protocols
                            raw.redirect_protocols = redirectProtocols
                            raw.user_agent = agent
                            raw.legacy_protocol_options = legacyProtocolOptions ? 1 : 0
                            raw.max_recv_speed = Int64(request.maxRate)
                            raw.context = unmanaged.toOpaque()
                            raw.on_header = { data, size, context in
                                let box = Unmanaged<Context>.fromOpaque(context!).takeUnretainedValue()
                                let line = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
                                if line.hasPrefix("HTTP/") {
                                    box.headers = []
                                    box.status = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
                                } else if let colon = line.firstIndex(of: ":") {
                                    box.headers.append((String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingSpaces))
                                }
                                return 1
                            }
                            raw.on_data = { data, size, context in
                                let box = Unmanaged<Context>.fromOpaque(context!).takeUnretainedValue()
                                if box.dropsRedirectBodies, (300..<400).contains(box.status) { return 1 }
                                box.received += size
                                if box.received > box.maxBytes {
                                    box.error = TransportError.tooLarge(limit: box.maxBytes)
                                    return 0
                                }
                                do {
                                    if !box.announced {
                                        box.announced = true
                                        // A file URL has no status line: it was read, which is a 200.
                                        try box.onResponse?(box.status == 0 && box.isFile ? 200 : box.status, box.headers)
                                    }
                                    try box.onData(UnsafeRawBufferPointer(start: data, count: size))
                                    return 1
                                } catch {
                                    box.error = error
                                    return 0
                                }
                            }
                            return Self.withCStrings(headerLines) { lines, count in
                                raw.headers = lines
                                raw.header_count = Int32(count)
                                let proxy = self.proxy
                                return Self.withOptionalCStrings([
                                    method, tls.caFile, tls.certFile, tls.keyFile, proxy?.url,
                                    proxy?.noProxy,
                                ]) { strings in
                                    raw.method = strings[0]
                                    raw.ca_file = strings[1]
                                    raw.cert_file = strings[2]
                                    raw.key_file = strings[3]
                                    raw.proxy = strings[4]
                                    raw.no_proxy = strings[5]
                                    guard let body else { return ccurl_get(&raw, &result) }
                                    return body.withUnsafeBufferPointer { bytes in
                                        bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(1, bytes.count)) { pointer in
                                            raw.body = pointer
                                            raw.body_size = bytes.count
                                            return ccurl_get(&raw, &result)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            if let error = context.error { throw error }
            let message = Self.string(result.error)
            if code == -1 || result.option_refused != 0 { throw TransportError.unavailable(message) }
            if code != 0 {
                if result.timed_out != 0 { throw TransportError.timedOut(message) }
                if result.too_many_redirects != 0 { throw TransportError.tooManyRedirects(request.maxRedirects) }
                if result.protocol_refused != 0, result.redirects > 0 || message.contains("redirect") {
                    throw TransportError.insecureRedirect
                }
                throw TransportError.failed(message)
            }
            if result.url_too_long != 0 { throw TransportError.failed("a redirect names a URL longer than 4 KiB") }
            let status = request.url.lowercased().hasPrefix("file:") ? 200 : Int(result.status)
            let effective = Self.string(result.effective_url), redirect = Self.string(result.redirect_url)
            return (
                TransportResponse(
                    status: status, bytes: context.received, headers: context.headers, url: effective.isEmpty ? request.url : effective),
                redirect.isEmpty ? nil : redirect
            )
        }
    }

    /// A NUL-terminated C array of the result as a string.
    private static func string<T>(_ array: T) -> String {
        withUnsafeBytes(of: array) { raw in String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self) }
    }

    /// `texts` as C strings (NULL for nil), valid inside `body`.
    private static func withOptionalCStrings<T>(_ texts: [String?], _ body: ([UnsafePointer<CChar>?]) -> T) -> T {
        let copies = texts.map { $0.map { strdup($0) } ?? nil }
        defer { for copy in copies { free(copy) } }
        return body(copies.map { $0.map { UnsafePointer($0) } })
    }

    /// `lines` as a C array of C strings, valid inside `body`.
    private static func withCStrings<T>(_ lines: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>?, Int) -> T) -> T {
        let copies = lines.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer($0) }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress, lines.count) }
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
