import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A loopback HTTP/1.1 server written on sockets, for what a well-behaved server library never
/// does: cut an answer after N bytes, answer 503 for a while, ignore `Range`, change a file
/// between tries. It honours `Range` with `If-Range` (strong ETag or Last-Modified) as RFC 9110
/// says unless told otherwise. One thread per connection; every answer closes its connection.
final class FlakyServer: @unchecked Sendable {
    enum Action: Sendable, Equatable {
        /// Answer as a good server does.
        case serve
        /// Answer with the full Content-Length, send this many body bytes, close.
        case cut(after: Int)
        /// Answer with this status and a short body.
        case status(Int)
        /// Answer 200 with the whole file whatever `Range` asks.
        case ignoreRange
    }

    struct File: Sendable {
        var body: [UInt8]
        var etag: String?
        var lastModified: String?
    }

    /// One request as it came, and what it got.
    struct Hit: Sendable {
        var method: String
        var path: String
        var range: String?
        var ifRange: String?
        var status: Int
        /// Body bytes sent.
        var sent: Int
    }

    private let lock = NSLock()
    private var files: [String: File] = [:]
    private var scripts: [String: [Action]] = [:]
    private var hits: [Hit] = []
    /// Every answer sends at most this many body bytes and closes: a link that drops every N bytes.
    private var dropEvery: Int?
    /// By path: the GETs send at most these many body bytes in turn, cycling, forever.
    private var cuts: [String: (sizes: [Int], next: Int)] = [:]
    /// Called with each request before it is answered (a test changes a file there).
    private var onRequest: (@Sendable (Hit) -> Void)?
    private let listener: LoopbackListener
    var port: UInt16 { listener.port }

    var base: String { "http://127.0.0.1:\(port)" }

    init() throws {
        listener = try LoopbackListener()
        listener.start { [weak self] connection in
            guard let self else {
                close(connection)
                return
            }
            self.handle(connection)
        }
    }

    func stop() { listener.stop() }

    func set(_ path: String, _ body: [UInt8], etag: String? = nil, lastModified: String? = nil) {
        lock.withLock { files[path] = File(body: body, etag: etag, lastModified: lastModified) }
    }

    func set(_ path: String, _ data: Data) { set(path, Array(data)) }

    /// Actions for the next GETs of `path`, in order; then it is served well.
    func script(_ path: String, _ actions: [Action]) { lock.withLock { scripts[path] = actions } }

    func dropEvery(_ bytes: Int?) { lock.withLock { dropEvery = bytes } }

    /// Every GET of `path` sends the next of `sizes` body bytes (cycling through them) and closes: a
    /// server that never delivers the whole file.
    func cutForever(_ path: String, after sizes: [Int]) { lock.withLock { cuts[path] = (sizes, 0) } }

    func onRequest(_ body: @escaping @Sendable (Hit) -> Void) { lock.withLock { onRequest = body } }

    var requests: [Hit] { lock.withLock { hits } }

    /// Body bytes sent for `path` by GETs, in all.
    func sent(_ path: String) -> Int { requests.filter { $0.path == path && $0.method == "GET" }.reduce(0) { $0 + $1.sent } }

    private func handle(_ connection: Int32) {
        defer { close(connection) }
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !request.containsHeaderEnd {
            let got = recv(connection, &buffer, buffer.count, 0)
            guard got > 0 else { return }
            request += buffer[0..<got]
            if request.count > 65_536 { return }
        }
        let lines = String(decoding: request, as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2 else { return }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var hit = Hit(
            method: String(parts[0]), path: String(parts[1]), range: headers["range"], ifRange: headers["if-range"],
            status: 0, sent: 0)
        let hook = lock.withLock { onRequest }
        hook?(hit)
        let (file, action, drop) = lock.withLock { () -> (File?, Action, Int?) in
            var action = Action.serve
            if hit.method == "GET", var script = scripts[hit.path], !script.isEmpty {
                action = script.removeFirst()
                scripts[hit.path] = script
            }
            var drop = dropEvery
            if hit.method == "GET", let cut = cuts[hit.path] {
                drop = cut.sizes[cut.next % cut.sizes.count]
                cuts[hit.path]?.next += 1
            }
            return (files[hit.path], action, drop)
        }
        var status = 200
        var head: [String] = []
        var body: [UInt8] = []
        var limit = Int.max
        if let file {
            if let etag = file.etag { head.append("ETag: \(etag)") }
            if let lastModified = file.lastModified { head.append("Last-Modified: \(lastModified)") }
            head.append("Accept-Ranges: bytes")
            body = file.body
            switch action {
            case .status(let code):
                status = code
                body = Array("scripted \(code)\n".utf8)
            case .serve, .cut, .ignoreRange:
                let validates = hit.ifRange.map { $0 == file.etag || $0 == file.lastModified } ?? true
                if action != .ignoreRange, validates, let range = hit.range, range.hasPrefix("bytes="), range.hasSuffix("-"),
                    let start = Int(range.dropFirst(6).dropLast())
                {
                    if start >= file.body.count {
                        status = 416
                        head.append("Content-Range: bytes */\(file.body.count)")
                        body = []
                    } else {
                        status = 206
                        head.append("Content-Range: bytes \(start)-\(file.body.count - 1)/\(file.body.count)")
                        body = Array(file.body[start...])
                    }
                }
                if case .cut(let after) = action { limit = after }
            }
        } else {
            status = 404
            body = Array("no such file\n".utf8)
        }
        if let drop, hit.method == "GET" { limit = min(limit, drop) }
        head.append("Content-Length: \(body.count)")
        head.append("Connection: close")
        let reason = [200: "OK", 206: "Partial Content", 404: "Not Found", 416: "Range Not Satisfiable"][status] ?? "Scripted"
        let headText = "HTTP/1.1 \(status) \(reason)\r\n" + head.joined(separator: "\r\n") + "\r\n\r\n"
        guard send(connection, Array(headText.utf8)) else { return }
        if hit.method != "HEAD" {
            let part = Array(body.prefix(limit))
            hit.sent = send(connection, part) ? part.count : 0
        }
        hit.status = status
        lock.withLock { hits.append(hit) }
        // A cut answer ends here: the connection closes with the body short of its length.
    }

    private func send(_ connection: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }
}

extension Array where Element == UInt8 {
    fileprivate var containsHeaderEnd: Bool {
        guard count >= 4 else { return false }
        for index in 0...(count - 4) where self[index] == 13 && self[index + 1] == 10 && self[index + 2] == 13 && self[index + 3] == 10 {
            return true
        }
        return false
    }
}
