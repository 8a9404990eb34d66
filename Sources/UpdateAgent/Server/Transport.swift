internal import CCurl

/// One GET, as the update server client needs it.
public struct TransportRequest: Sendable {
    public var url: String
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

    public init(url: String, maxBytes: Int, connectTimeout: Duration = .seconds(10), timeout: Duration? = .seconds(30),
                lowSpeed: (bytesPerSecond: Int, seconds: Int)? = nil, maxRedirects: Int = 5,
                schemes: [String] = ["http", "https", "file"]) {
        self.url = url
        self.maxBytes = maxBytes
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.lowSpeed = lowSpeed
        self.maxRedirects = maxRedirects
        self.schemes = schemes
    }
}

public struct TransportResponse: Sendable {
    /// The HTTP status; 200 for a `file` URL that was read.
    public var status: Int
    public var bytes: Int
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

    public init(legacyProtocolOptions: Bool = false) { self.legacyProtocolOptions = legacyProtocolOptions }

    private final class Context {
        let onData: (UnsafeRawBufferPointer) throws -> Void
        let maxBytes: Int
        var received = 0
        var error: (any Error)?

        init(onData: @escaping (UnsafeRawBufferPointer) throws -> Void, maxBytes: Int) {
            self.onData = onData
            self.maxBytes = maxBytes
        }
    }

    public func get(_ request: TransportRequest, onData: (UnsafeRawBufferPointer) throws -> Void) throws -> TransportResponse {
        try withoutActuallyEscaping(onData) { onData in
            let context = Context(onData: onData, maxBytes: request.maxBytes)
            let unmanaged = Unmanaged.passRetained(context)
            defer { unmanaged.release() }
            let isHTTPS = request.url.lowercased().hasPrefix("https:")
            let schemes = request.schemes.joined(separator: ",")
            let redirectSchemes = isHTTPS ? "https" : request.schemes.filter { $0 != "file" }.joined(separator: ",")
            var result = ccurl_result()
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
                            raw.context = unmanaged.toOpaque()
                            raw.on_data = { data, size, context in
                                let box = Unmanaged<Context>.fromOpaque(context!).takeUnretainedValue()
                                box.received += size
                                if box.received > box.maxBytes {
                                    box.error = TransportError.tooLarge(limit: box.maxBytes)
                                    return 0
                                }
                                do {
                                    try box.onData(UnsafeRawBufferPointer(start: data, count: size))
                                    return 1
                                } catch {
                                    box.error = error
                                    return 0
                                }
                            }
                            return ccurl_get(&raw, &result)
                        }
                    }
                }
            }
            if let error = context.error { throw error }
            let message = withUnsafeBytes(of: result.error) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if code == -1 || result.option_refused != 0 { throw TransportError.unavailable(message) }
            if code != 0 {
                if result.timed_out != 0 { throw TransportError.timedOut(message) }
                if result.too_many_redirects != 0 { throw TransportError.tooManyRedirects(request.maxRedirects) }
                if result.protocol_refused != 0, result.redirects > 0 || message.contains("redirect") {
                    throw TransportError.insecureRedirect
                }
                throw TransportError.failed(message)
            }
            let status = request.url.lowercased().hasPrefix("file:") ? 200 : Int(result.status)
            return TransportResponse(status: status, bytes: context.received)
        }
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
