import Testing
import UpdatePolicy

@testable import UpdateAgent

/// The registry client's authentication, against a scripted registry.
@Suite struct RegistryClientTests {
    /// Answers 401 with `challenge` until a request carries `accepted`.
    final class Registry: Transport, @unchecked Sendable {
        let challenge: String
        let accepted: String
        private let lock = Mutex()
        private(set) var seen: [[String]] = []

        init(challenge: String, accepted: String) {
            self.challenge = challenge
            self.accepted = accepted
        }

        func get(_ request: TransportRequest, onData: (UnsafeRawBufferPointer) throws -> Void) throws -> TransportResponse {
            lock.withLock { seen.append(request.headers) }
            guard request.headers.contains("Authorization: \(accepted)") else {
                return TransportResponse(status: 401, bytes: 0, headers: [("WWW-Authenticate", challenge)])
            }
            let body = Array("{\"schemaVersion\": 2}".utf8)
            try body.withUnsafeBytes { try onData($0) }
            return TransportResponse(status: 200, bytes: body.count)
        }
    }

    let reference = RegistryReference.parse("registry.example.com/kubesolo/os")!

    @Test func basicCredentialsAnswerABasicChallenge() throws {
        let registry = Registry(challenge: #"Basic realm="registry""#, accepted: "Basic " + Base64.encode(Array("ops:pw".utf8)))
        let client = RegistryClient(reference: reference, transport: registry, credentials: "ops:pw")
        let manifest = try client.manifest("stable")
        #expect(manifest.bytes == Array("{\"schemaVersion\": 2}".utf8))
        #expect(registry.seen.count == 2, "one refused request, one with credentials")
        let anonymous = RegistryClient(reference: reference, transport: registry, credentials: nil)
        #expect(throws: RegistryClient.Failure.self) { try anonymous.manifest("stable") }
    }

    /// An https registry whose token service is plain http gets nothing sent there: the
    /// password and the token would cross the network in clear.
    @Test func anHTTPSRegistryNamingAnHTTPRealmIsRefused() throws {
        let registry = Registry(challenge: #"Bearer realm="http://auth.example.com/token",service="registry""#, accepted: "never")
        let client = RegistryClient(reference: reference, transport: registry, credentials: "ops:pw")
        let failure = #expect(throws: RegistryClient.Failure.self) { try client.manifest("stable") }
        #expect(failure?.message.contains("names a token service over plain http (http://auth.example.com/token)") == true)
        #expect(registry.seen.count == 1, "only the registry was asked: \(registry.seen)")
    }

    /// Credentials that the registry answers 401 to again are said to be refused, naming their file.
    @Test func refusedCredentialsNameTheirFile() throws {
        let registry = Registry(challenge: #"Basic realm="registry""#, accepted: "never")
        let client = RegistryClient(reference: reference, transport: registry, credentials: "ops:wrong", credentialsFile: "/etc/auth")
        let failure = #expect(throws: RegistryClient.Failure.self) { try client.manifest("stable") }
        #expect(failure?.message.contains("refused the credentials in /etc/auth") == true, "\(String(describing: failure))")
    }

    @Test func challengesAreParsedWithQuotesAndEscapes() {
        let (scheme, parameters) = RegistryClient.parse(
            challenge:
                #"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push",error="x\"y""#
        )
        #expect(scheme == "Bearer")
        #expect(parameters["realm"] == "https://auth.example.com/token")
        #expect(parameters["service"] == "registry.example.com")
        #expect(parameters["scope"] == "repository:a/b:pull,push")
        #expect(parameters["error"] == "x\"y")
        #expect(RegistryClient.escape("repository:a/b:pull") == "repository%3Aa%2Fb%3Apull")
    }

    @Test(arguments: [
        ("registry.example.com/kubesolo/os", "https://registry.example.com/v2/kubesolo/os"),
        ("http://127.0.0.1:5000/kubesolo/os", "http://127.0.0.1:5000/v2/kubesolo/os"),
    ])
    func referencesName(text: String, base: String) {
        #expect(RegistryReference.parse(text)?.base == base)
    }

    @Test func aDigestAfterAtPinsTheReference() {
        let digest = "sha256:" + String(repeating: "0a", count: 32)
        let pinned = RegistryReference.parse("registry.example.com/kubesolo/os@" + digest)
        #expect(pinned?.digest == digest && pinned?.base == "https://registry.example.com/v2/kubesolo/os")
        #expect(pinned?.named(digest) == "registry.example.com/kubesolo/os@" + digest)
    }

    @Test(arguments: [
        "registry.example.com", "registry.example.com/Upper/case", "ftp://x/y", "host//double", "host/x@sha256:../../y",
        "host/x@sha256:" + String(repeating: "A", count: 64), "host/x@latest",
    ])
    func badReferencesAreRefused(text: String) {
        #expect(RegistryReference.parse(text) == nil)
    }
}
