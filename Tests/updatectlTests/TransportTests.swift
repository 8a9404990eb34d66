import Foundation
import Testing
import UpdateAgent

/// libcurl as updatectl drives it, against a real server on 127.0.0.1.
@Suite struct TransportTests {
    /// The scheme allow-list holds with the string options and with the bitmask options a
    /// libcurl older than 7.85.0 needs: a redirect to file:// is refused either way.
    @Test(arguments: [false, true])
    func aRedirectToAFileURLIsRefused(legacy: Bool) async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        server.set("/hop", TestServer.Answer(status: 302, headers: ["Location": "file:///etc/hostname"]))
        server.set("/ok", body: Data("fine".utf8))
        let transport = CurlTransport(legacyProtocolOptions: legacy)
        let (response, body) = try await onOwnThread { try transport.fetch(TransportRequest(url: server.base + "/ok", maxBytes: 100)) }
        #expect(response.status == 200 && body == Array("fine".utf8))
        await #expect(throws: TransportError.self) {
            _ = try await onOwnThread { try transport.fetch(TransportRequest(url: server.base + "/hop", maxBytes: 100)) }
        }
        #expect(throws: TransportError.self) {
            _ = try transport.fetch(TransportRequest(url: "file:///etc/hostname", maxBytes: 100, schemes: ["http", "https"]))
        }
    }
}
