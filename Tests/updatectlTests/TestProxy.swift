import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP proxy on 127.0.0.1, on sockets: `CONNECT host:port` opens a tunnel (what an
/// `https` request through a proxy uses, TLS end to end), and a request in absolute form
/// (`GET http://host:port/path`, what an `http` request uses) is forwarded in origin form. It
/// records each request line it was given.
final class TestProxy: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    private let listener: LoopbackListener
    var port: UInt16 { listener.port }

    var url: String { "http://127.0.0.1:\(port)" }
    var requests: [String] { lock.withLock { lines } }

    init() throws {
        listener = try LoopbackListener()
        listener.start { [weak self] client in
            guard let self else {
                close(client)
                return
            }
            self.serve(client)
        }
    }

    func stop() { listener.stop() }

    private func serve(_ client: Int32) {
        var head: [UInt8] = []
        var byte: UInt8 = 0
        // The request head byte by byte, so nothing after it is read before the tunnel starts.
        while !(head.count >= 4 && head.suffix(4) == [13, 10, 13, 10]) {
            guard recv(client, &byte, 1, 0) == 1, head.count < 65_536 else {
                close(client)
                return
            }
            head.append(byte)
        }
        var text = String(decoding: head, as: UTF8.self)
        // "\r\n" is one Character to Swift: split on the string.
        let requestLine = text.components(separatedBy: "\r\n")[0]
        lock.withLock { lines.append(requestLine) }
        let parts = requestLine.split(separator: " ")
        guard parts.count == 3 else {
            close(client)
            return
        }
        let target: String
        if parts[0] == "CONNECT" {
            target = String(parts[1])
        } else if parts[1].hasPrefix("http://") {
            let rest = parts[1].dropFirst(7)
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            target = String(rest[..<slash])
            let headerLines = text.components(separatedBy: "\r\n").dropFirst().joined(separator: "\r\n")
            text = "\(parts[0]) \(rest[slash...].isEmpty ? "/" : String(rest[slash...])) \(parts[2])\r\n" + headerLines
        } else {
            _ = send(client, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 67, Int32(MSG_NOSIGNAL))
            close(client)
            return
        }
        guard let upstream = Self.connect(target) else {
            let answer = Array("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
            _ = send(client, answer, answer.count, Int32(MSG_NOSIGNAL))
            close(client)
            return
        }
        let first = parts[0] == "CONNECT" ? Array("HTTP/1.1 200 Connection Established\r\n\r\n".utf8) : nil
        if let first {
            _ = send(client, first, first.count, Int32(MSG_NOSIGNAL))
        } else {
            let forwarded = Array(text.utf8)
            _ = send(upstream, forwarded, forwarded.count, Int32(MSG_NOSIGNAL))
        }
        let done = DispatchGroup()
        for (from, to) in [(client, upstream), (upstream, client)] {
            done.enter()
            Thread {
                var buffer = [UInt8](repeating: 0, count: 65_536)
                while true {
                    let got = recv(from, &buffer, buffer.count, 0)
                    if got <= 0 { break }
                    if send(to, buffer, got, Int32(MSG_NOSIGNAL)) != got { break }
                }
                shutdown(to, Int32(SHUT_WR))
                done.leave()
            }.start()
        }
        done.wait()
        close(client)
        close(upstream)
    }

    /// A connection to `host:port` (an IPv4 address; tests use 127.0.0.1).
    private static func connect(_ target: String) -> Int32? {
        guard let colon = target.lastIndex(of: ":"), let port = UInt16(target[target.index(after: colon)...]) else { return nil }
        let host = String(target[..<colon])
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(host == "localhost" ? "127.0.0.1" : host)
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            return nil
        }
        return fd
    }
}
