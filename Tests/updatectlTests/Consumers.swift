import Foundation
import Testing
import UpdateAgent

#if canImport(Glibc)
import Glibc
#endif

/// Helpers for tests that hand updatectl's output to the program that reads it in production.
enum Consumers {
    /// A TCP port on 127.0.0.1 that nothing listens on right now (the kernel picks it).
    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return UInt16(bigEndian: address.sin_port)
    }

    /// GETs `url` with updatectl's own HTTP client; nil when nothing answers.
    static func get(_ url: String) -> (status: Int, body: String)? {
        guard let (response, body) = try? CurlTransport().fetch(TransportRequest(url: url, maxBytes: 16 << 20, timeout: .seconds(5)))
        else { return nil }
        return (response.status, String(decoding: body, as: UTF8.self))
    }

    /// Polls `url` until it answers 200 (a server started in the background), up to `seconds`.
    static func waitUntilServing(_ url: String, seconds: Double = 15) async -> Bool {
        await poll(seconds: seconds) { get(url)?.status == 200 }
    }

    /// Tries `ready` every 50 ms for up to `seconds`. The whole wait runs on a thread of its own:
    /// a test suite that keeps the few cooperative threads busy would otherwise let the deadline
    /// pass between two tries.
    static func poll(seconds: Double, _ ready: @escaping @Sendable () -> Bool) async -> Bool {
        (try? await onOwnThread {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if ready() { return true }
                usleep(50_000)
            }
            return false
        }) ?? false
    }
}
