import Foundation
import Testing

/// A private etcd (Debian's etcd-server) on 127.0.0.1 with a temporary data directory, started
/// for one test and stopped by its pid. With `tls`, clients must present a certificate signed by
/// the test's own certificate authority (made with openssl).
final class TestEtcd: @unchecked Sendable {
    static let etcd = TestComponents.program("etcd")
    static let etcdctl = TestComponents.program("etcdctl")
    static let openssl = TestComponents.program("openssl")
    static var available: Bool { etcd != nil && etcdctl != nil }

    let directory: TemporaryDirectory
    let process: BackgroundProcess
    let endpoint: String
    let tls: Bool

    var caFile: String { directory.url.appendingPathComponent("pki/ca.pem").path }
    var clientCert: String { directory.url.appendingPathComponent("pki/client.pem").path }
    var clientKey: String { directory.url.appendingPathComponent("pki/client.key").path }

    init(tls: Bool = false) throws {
        directory = try TemporaryDirectory()
        self.tls = tls
        let client = try Consumers.freePort()
        let peer = try Consumers.freePort()
        let scheme = tls ? "https" : "http"
        endpoint = "\(scheme)://127.0.0.1:\(client)"
        var arguments = [
            "--name", "test", "--data-dir", directory.url.appendingPathComponent("data").path,
            "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint,
            "--listen-peer-urls", "http://127.0.0.1:\(peer)", "--initial-advertise-peer-urls", "http://127.0.0.1:\(peer)",
            "--initial-cluster", "test=http://127.0.0.1:\(peer)", "--log-level", "info",
        ]
        if tls {
            try Self.makePKI(in: directory.url.appendingPathComponent("pki"))
            let pki = directory.url.appendingPathComponent("pki").path
            arguments += [
                "--cert-file", pki + "/server.pem", "--key-file", pki + "/server.key", "--client-cert-auth",
                "--trusted-ca-file", pki + "/ca.pem",
            ]
        }
        guard let etcd = Self.etcd else { throw EtcdFailure(message: "etcd is not installed") }
        process = try BackgroundProcess(arguments, program: etcd)
        guard process.waitFor("ready to serve client requests", seconds: 60) else {
            process.kill()
            throw EtcdFailure(message: "etcd did not start: \(process.stderr.suffix(2000))")
        }
    }

    struct EtcdFailure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    func stop() { process.kill() }

    /// etcdctl against this etcd (with the client certificate when TLS is on).
    func etcdctl(_ arguments: [String]) throws -> CLI.Result {
        var options = ["--endpoints", endpoint]
        if tls { options += ["--cacert", caFile, "--cert", clientCert, "--key", clientKey] }
        return try CLI.runProgram(try #require(Self.etcdctl), options + arguments, environment: ["ETCDCTL_API": "3"])
    }

    /// The value at `key`, as etcd stores it; nil when absent.
    func value(_ key: String) throws -> String? {
        let result = try etcdctl(["get", key, "--print-value-only"])
        #expect(result.status == 0, "\(result.stderr)")
        let text = result.stdout.hasSuffix("\n") ? String(result.stdout.dropLast()) : result.stdout
        return text.isEmpty ? nil : text
    }

    func put(_ key: String, _ value: String) throws {
        let result = try etcdctl(["put", key, value])
        #expect(result.status == 0, "\(result.stderr)")
    }

    /// The key's `version` (1 after it is created, again after it is deleted and created anew).
    func version(_ key: String) throws -> Int? {
        let result = try etcdctl(["get", key, "--write-out", "json"])
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return ((object?["kvs"] as? [[String: Any]])?.first?["version"] as? NSNumber)?.intValue
    }

    static func semaphoreKey(group: String) -> String { "com.coreos.airlock/groups/\(group)/v1/semaphore" }

    /// A certificate authority, a server certificate for 127.0.0.1 and a client certificate.
    static func makePKI(in directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let openssl = try #require(Self.openssl)
        func run(_ arguments: [String]) throws {
            let result = try CLI.runProgram(openssl, arguments, directory: directory)
            #expect(result.status == 0, "openssl \(arguments.joined(separator: " ")): \(result.stderr)")
        }
        try run([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
            "-out", "ca.pem", "-days", "2", "-subj", "/CN=updatectl test CA",
        ])
        try Data("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n".utf8)
            .write(to: directory.appendingPathComponent("server.ext"))
        try Data("extendedKeyUsage=clientAuth\n".utf8).write(to: directory.appendingPathComponent("client.ext"))
        for name in ["server", "client"] {
            try run([
                "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(name).key",
                "-out", "\(name).csr", "-subj", "/CN=\(name)",
            ])
            try run([
                "x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "\(name).pem", "-days", "2", "-extfile", "\(name).ext",
            ])
        }
    }
}
