import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A server whose metadata never ends: python3's http.server streaming bytes until the client
/// hangs up. updatectl must cut it off at its size cap, not wait or grow.
@Suite struct EndlessServerTests {
    @Test(.enabled(if: TestComponents.python() != nil))
    func metadataThatNeverEndsIsCutOffAtTheCap() async throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            "serve.py",
            """
            import http.server, socketserver, sys
            class Endless(http.server.BaseHTTPRequestHandler):
                def log_message(self, *args): pass
                def do_GET(self):
                    self.send_response(200)
                    self.end_headers()
                    try:
                        while True:
                            self.wfile.write(b"{" * 65536)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
            server = socketserver.TCPServer(("127.0.0.1", 0), Endless)
            open(sys.argv[1], "w").write(str(server.server_address[1]))
            server.handle_request()

            """)
        let portFile = directory.url.appendingPathComponent("port").path
        let python: String = try #require(TestComponents.python())
        let server = try BackgroundProcess([directory.url.appendingPathComponent("serve.py").path, portFile], program: python)
        defer { server.kill() }
        var port = ""
        for _ in 0..<200 where port.isEmpty {
            port = (try? String(contentsOfFile: portFile, encoding: .utf8)) ?? ""
            if port.isEmpty { usleep(20_000) }
        }
        let node = try TestNode()
        try node.writePolicy(server: "http://127.0.0.1:\(port)", publicKey: nil)
        let result = try await node.apply()
        #expect(result.status == 1)
        #expect(result.stderr.contains("is larger than 65536 bytes; cut off"))
        #expect(try node.state()["phase"] as? String == "failed")
        #expect(node.marker("next") == "a")
    }
}
