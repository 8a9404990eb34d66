import Crypto
import Foundation

@testable import UpdateAgent

/// A real OCI registry (Debian's docker-registry, the CNCF Distribution registry) on 127.0.0.1,
/// with its storage in a temporary folder, optionally behind token authentication served by a
/// `TestServer`. Releases are pushed through the registry's HTTP API.
final class TestRegistry: @unchecked Sendable {
    static let program = TestComponents.program("docker-registry")
    static let openssl = TestComponents.program("openssl")

    let directory: TemporaryDirectory
    let process: BackgroundProcess
    let port: UInt16
    /// The token service, when the registry requires tokens.
    let tokenServer: TestServer?
    let tokenKey: P256.Signing.PrivateKey?
    let certificate: Data?
    static let service = "updatectl-test"
    static let issuer = "updatectl-test-issuer"
    /// What the token service accepts (`registry_auth`).
    static let credentials = "updatectl:s3cret"

    var host: String { "127.0.0.1:\(port)" }
    var storage: URL { directory.url.appendingPathComponent("storage") }

    /// `redirectBlobsTo`: the registry answers a blob GET with a redirect to this base URL and
    /// the blob's storage path (Distribution's `redirect` storage middleware), as registries that
    /// serve blobs from a CDN do.
    init(tokenAuth: Bool = false, redirectBlobsTo: String? = nil) async throws {
        directory = try TemporaryDirectory()
        port = try Consumers.freePort()
        var auth = ""
        if tokenAuth {
            let openssl = try Self.required(Self.openssl, "openssl")
            let key = directory.url.appendingPathComponent("token.key").path
            let pem = directory.url.appendingPathComponent("token.pem").path
            let der = directory.url.appendingPathComponent("token.der").path
            let made = try CLI.runProgram(
                openssl,
                [
                    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", pem, "-days", "2", "-subj", "/CN=updatectl-test-token",
                ])
            guard made.status == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: ["stderr": made.stderr]) }
            _ = try CLI.runProgram(openssl, ["x509", "-in", pem, "-outform", "DER", "-out", der])
            tokenKey = try P256.Signing.PrivateKey(pemRepresentation: String(contentsOfFile: key, encoding: .utf8))
            certificate = try Data(contentsOf: URL(fileURLWithPath: der))
            let server = try await TestServer()
            tokenServer = server
            auth = """
                auth:
                  token:
                    realm: \(server.base)/token
                    service: \(Self.service)
                    issuer: \(Self.issuer)
                    rootcertbundle: \(pem)

                """
        } else {
            tokenServer = nil
            tokenKey = nil
            certificate = nil
        }
        try directory.write(
            "config.yml",
            """
            version: 0.1
            log:
              level: info
            storage:
              filesystem:
                rootdirectory: \(directory.url.appendingPathComponent("storage").path)
            http:
              addr: 127.0.0.1:\(port)
              secret: updatectl-test
            \(auth)
            \(redirectBlobsTo.map { "middleware:\n  storage:\n    - name: redirect\n      options:\n        baseurl: \($0)\n" } ?? "")
            """)
        process = try BackgroundProcess(
            ["serve", directory.url.appendingPathComponent("config.yml").path],
            program: try Self.required(Self.program, "docker-registry"))
        guard await Consumers.waitUntilAnswering("http://\(host)/v2/") else {
            throw CocoaError(.fileReadUnknown, userInfo: ["stderr": process.stderr])
        }
        if let tokenServer, let tokenKey, let certificate {
            let minted = try Self.token(key: tokenKey, certificate: certificate, actions: ["pull"])
            tokenServer.set("/token", TestServer.Answer(status: 401, body: Data("credentials needed".utf8)))
            tokenServer.setAuthorized(
                "/token", authorization: "Basic " + Data(Self.credentials.utf8).base64EncodedString(),
                TestServer.Answer(
                    status: 200, body: Data("{\"token\": \"\(minted)\"}".utf8),
                    headers: ["Content-Type": "application/json"]))
        }
    }

    static func required(_ program: String?, _ name: String) throws -> String {
        guard let program else { throw CocoaError(.fileNoSuchFile, userInfo: ["program": name]) }
        return program
    }

    func stop() async {
        process.kill()
        await tokenServer?.stop()
    }

    /// A token for the test repository, signed as the registry's configuration trusts.
    static func token(key: P256.Signing.PrivateKey, certificate: Data, actions: [String]) throws -> String {
        func url64(_ data: Data) -> String {
            data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
        let now = Int(Date().timeIntervalSince1970)
        let header = #"{"alg":"ES256","typ":"JWT","x5c":["\#(certificate.base64EncodedString())"]}"#
        let actionList = actions.map { "\"\($0)\"" }.joined(separator: ",")
        let claims =
            #"{"iss":"\#(issuer)","sub":"updatectl","aud":"\#(service)","exp":\#(now + 3600),"nbf":\#(now - 60),"#
            + #""iat":\#(now),"jti":"\#(UUID().uuidString)","access":[{"type":"repository","name":"kubesolo/os","actions":[\#(actionList)]}]}"#
        let signingInput = url64(Data(header.utf8)) + "." + url64(Data(claims.utf8))
        let signature = try key.signature(for: Data(signingInput.utf8)).rawRepresentation
        return signingInput + "." + url64(signature)
    }

    // MARK: Pushing, through the registry's HTTP API

    var pushHeaders: [String] {
        guard let tokenKey, let certificate,
            let token = try? Self.token(key: tokenKey, certificate: certificate, actions: ["pull", "push"])
        else { return [] }
        return ["Authorization: Bearer \(token)"]
    }

    static func digest(_ data: Data) -> String { "sha256:" + SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }

    /// Uploads a blob (a POST, then a PUT with its digest); returns its descriptor fields.
    @discardableResult
    func push(blob: Data) throws -> (digest: String, size: Int) {
        let transport = CurlTransport()
        let start = try transport.fetch(
            TransportRequest(
                url: "http://\(host)/v2/kubesolo/os/blobs/uploads/", maxBytes: 1 << 20,
                method: "POST", headers: pushHeaders, body: []))
        guard start.response.status == 202, let location = start.response.header("Location") else {
            throw CocoaError(.fileWriteUnknown, userInfo: ["status": start.response.status])
        }
        let digest = Self.digest(blob)
        let absolute = location.hasPrefix("http") ? location : "http://\(host)\(location)"
        let put = try transport.fetch(
            TransportRequest(
                url: absolute + (absolute.contains("?") ? "&" : "?") + "digest=" + digest, maxBytes: 1 << 20, method: "PUT",
                headers: pushHeaders + ["Content-Type: application/octet-stream"], body: Array(blob)))
        guard put.response.status == 201 else { throw CocoaError(.fileWriteUnknown, userInfo: ["status": put.response.status]) }
        return (digest, blob.count)
    }

    /// Puts a manifest under `reference` (a tag); returns its digest.
    @discardableResult
    func push(manifest: String, mediaType: String, as reference: String) throws -> String {
        let body = Data(manifest.utf8)
        let put = try CurlTransport().fetch(
            TransportRequest(
                url: "http://\(host)/v2/kubesolo/os/manifests/\(reference)", maxBytes: 1 << 20, method: "PUT",
                headers: pushHeaders + ["Content-Type: \(mediaType)"], body: Array(body)))
        guard put.response.status == 201 else {
            throw CocoaError(
                .fileWriteUnknown, userInfo: ["status": put.response.status, "body": String(decoding: put.body, as: UTF8.self)])
        }
        return Self.digest(body)
    }

    static let indexType = "application/vnd.oci.image.index.v1+json"
    static let manifestType = "application/vnd.oci.image.manifest.v1+json"

    struct Built {
        var digest: String
        var kernel: Data
        var initramfs: Data
    }

    /// Pushes one architecture's release manifest (its layers and an empty config), untagged
    /// unless `tag` is given.
    func pushRelease(
        version: String, architecture: String, annotations: [String: String] = [:], tag: String? = nil,
        architectureAnnotation: String? = nil, initramfsSize: Int = 9000
    ) throws -> Built {
        let kernel = Data("vmlinuz \(version) \(architecture)".utf8) + Data(repeating: 0x4B, count: 3000)
        let initramfs =
            Data("kubesolo-os \(version) \(architecture) healthy".utf8)
            + Data((0..<initramfsSize).map { UInt8(truncatingIfNeeded: $0 &* 40_503 >> 7) })
        let config = Data("{}".utf8)
        let configBlob = try push(blob: config)
        let kernelBlob = try push(blob: kernel)
        let initramfsBlob = try push(blob: initramfs)
        var fields = [
            "io.kubesolo.os.version": version, "io.kubesolo.os.channel": "stable",
            "io.kubesolo.os.architecture": architectureAnnotation ?? architecture,
            "io.kubesolo.os.release_date": "2026-11-20T10:00:00Z",
        ]
        fields.merge(annotations) { $1 }
        let annotationText = fields.filter { !$0.value.isEmpty }.sorted { $0.key < $1.key }
            .map { "\"\($0.key)\": \"\($0.value)\"" }.joined(separator: ", ")
        let manifest = """
            {"schemaVersion": 2, "mediaType": "\(Self.manifestType)",
             "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": "\(configBlob.digest)", "size": \(configBlob.size)},
             "layers": [
               {"mediaType": "\(RegistryRelease.kernelMediaType)", "digest": "\(kernelBlob.digest)", "size": \(kernelBlob.size)},
               {"mediaType": "\(RegistryRelease.initramfsMediaType)", "digest": "\(initramfsBlob.digest)", "size": \(initramfsBlob.size)}
             ],
             "annotations": {\(annotationText)}}
            """
        let digest = try push(manifest: manifest, mediaType: Self.manifestType, as: tag ?? Self.digest(Data(manifest.utf8)))
        return Built(digest: digest, kernel: kernel, initramfs: initramfs)
    }

    /// Pushes an image index of `manifests` (digest, architecture) under `tag`.
    @discardableResult
    func pushIndex(_ manifests: [(digest: String, architecture: String)], tag: String) throws -> String {
        let entries = try manifests.map { entry -> String in
            let bytes = try CurlTransport().fetch(
                TransportRequest(
                    url: "http://\(host)/v2/kubesolo/os/manifests/\(entry.digest)", maxBytes: 1 << 20,
                    headers: pushHeaders + ["Accept: \(Self.manifestType)"])
            ).body
            return #"{"mediaType": "\#(Self.manifestType)", "digest": "\#(entry.digest)", "size": \#(bytes.count), "#
                + #""platform": {"architecture": "\#(entry.architecture)", "os": "linux"}}"#
        }
        return try push(
            manifest: #"{"schemaVersion": 2, "mediaType": "\#(Self.indexType)", "manifests": [\#(entries.joined(separator: ", "))]}"#,
            mediaType: Self.indexType, as: tag)
    }

    /// Signs `digest` as cosign does with a key: a simple-signing payload as a layer of a
    /// manifest tagged `sha256-<hex>.sig`, its Ed25519 signature in the layer's annotation.
    func sign(_ digest: String, with key: Curve25519.Signing.PrivateKey, naming named: String? = nil) throws {
        let payload = Data(
            #"{"critical":{"identity":{"docker-reference":"\#(host)/kubesolo/os"},"image":{"docker-manifest-digest":"\#(named ?? digest)"},"type":"cosign container image signature"},"optional":null}"#
                .utf8)
        let payloadBlob = try push(blob: payload)
        let configBlob = try push(blob: Data("{}".utf8))
        let signature = try key.signature(for: payload).base64EncodedString()
        let manifest = """
            {"schemaVersion": 2, "mediaType": "\(Self.manifestType)",
             "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "\(configBlob.digest)", "size": \(configBlob.size)},
             "layers": [{"mediaType": "\(CosignSignature.payloadMediaType)", "digest": "\(payloadBlob.digest)", "size": \(payloadBlob.size),
                         "annotations": {"\(CosignSignature.signatureAnnotation)": "\(signature)"}}]}
            """
        try push(manifest: manifest, mediaType: Self.manifestType, as: CosignSignature.tag(for: digest))
    }

    /// Overwrites a blob's bytes in the registry's storage, as a compromised mirror would.
    func tamper(_ digest: String, with bytes: Data) throws {
        let hex = String(digest.dropFirst("sha256:".count))
        let path = storage.appendingPathComponent("docker/registry/v2/blobs/sha256/\(hex.prefix(2))/\(hex)/data")
        try bytes.write(to: path)
    }
}

extension Consumers {
    /// Polls `url` until anything answers (a 200 or a 401), up to `seconds`.
    static func waitUntilAnswering(_ url: String, seconds: Double = 15) async -> Bool {
        await poll(seconds: seconds) {
            let status = (try? CurlTransport().fetch(TransportRequest(url: url, maxBytes: 1 << 16)))?.response.status
            return status == 200 || status == 401
        }
    }
}
