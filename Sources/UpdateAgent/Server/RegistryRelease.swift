import JSONValue
import UpdatePolicy

/// A KubeSolo OS release in an OCI registry: a tag naming an image index (one manifest per
/// architecture) or one manifest; the kernel and initramfs as layers found by media type; the
/// release's fields as `io.kubesolo.os.*` annotations of the manifest.
public enum RegistryRelease {
    public static let kernelMediaType = "application/vnd.kubesolo.os.kernel.v1+octet-stream"
    public static let initramfsMediaType = "application/vnd.kubesolo.os.initramfs.v1+gzip"
    public static let annotationPrefix = "io.kubesolo.os."

    /// What a tag resolved to.
    public struct Resolved: Sendable {
        public var release: ReleaseMetadata
        /// The digest the tag names (an index's, or the manifest's own).
        public var tagDigest: String
        /// The manifest of this machine's architecture.
        public var manifestDigest: String
    }

    /// Resolves `tag` for a machine of `architecture` (Go's names): the index's manifest for it,
    /// or the tag's one manifest (whose architecture annotation the architecture gate checks).
    public static func resolve(_ client: RegistryClient, tag: String, architecture: String) throws(RegistryClient.Failure) -> Resolved {
        let top = try client.manifest(tag)
        guard let json = try? JSON.parse(top.bytes) else {
            throw RegistryClient.Failure(message: "the manifest of \(client.reference.named(tag)) is not JSON")
        }
        var manifest = top
        var manifestJSON = json
        if case .array(let entries)? = json["manifests"] {
            let platforms = entries.map { entry in
                (
                    digest: entry["digest"]?.stringValue ?? "", architecture: entry["platform"]?["architecture"]?.stringValue ?? "",
                    os: entry["platform"]?["os"]?.stringValue ?? "linux"
                )
            }
            guard let chosen = platforms.first(where: { $0.architecture == architecture && $0.os == "linux" }) else {
                let offered = platforms.map(\.architecture).filter { !$0.isEmpty }
                throw RegistryClient.Failure(
                    message: "the index \(client.reference.named(tag)) has no manifest for \(architecture) "
                        + "(it has \(offered.isEmpty ? "none with a platform" : offered.joined(separator: ", ")))")
            }
            guard RegistryReference.isDigest(chosen.digest) else {
                throw RegistryClient.Failure(
                    message: "the index \(client.reference.named(tag)) names the \(architecture) manifest by "
                        + "\(JSON.quote(chosen.digest)), not a digest (`sha256:` and 64 lower-case hex digits)")
            }
            manifest = try client.manifest(chosen.digest)
            guard let parsed = try? JSON.parse(manifest.bytes) else {
                throw RegistryClient.Failure(message: "the manifest \(chosen.digest) is not JSON")
            }
            manifestJSON = parsed
        }
        let release = try release(from: manifestJSON, bytes: manifest.bytes, client: client, name: "\(client.reference.named(tag))")
        return Resolved(release: release, tagDigest: top.digest, manifestDigest: manifest.digest)
    }

    /// The release a manifest describes.
    static func release(
        from json: JSON, bytes: [UInt8], client: RegistryClient, name: String
    ) throws(RegistryClient.Failure)
        -> ReleaseMetadata
    {
        func annotation(_ key: String) -> String? {
            json["annotations"]?[annotationPrefix + key]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        }
        guard let version = annotation("version") else {
            throw RegistryClient.Failure(message: "the manifest of \(name) has no \(annotationPrefix)version annotation")
        }
        guard ReleaseMetadata.isPlainVersion(version) else {
            throw RegistryClient.Failure(
                message: "the manifest of \(name) has \(annotationPrefix)version \(JSON.quote(version)), "
                    + "not a plain version")
        }
        guard case .array(let layers)? = json["layers"] else {
            throw RegistryClient.Failure(message: "the manifest of \(name) has no layers")
        }
        var files: [ReleaseMetadata.File] = []
        for (mediaType, fileName, what) in [
            (kernelMediaType, ReleaseMetadata.kernelName, "kernel"),
            (initramfsMediaType, ReleaseMetadata.initramfsName, "initramfs"),
        ] {
            let matching = layers.filter { $0["mediaType"]?.stringValue == mediaType }
            guard matching.count == 1, let layer = matching.first else {
                throw RegistryClient.Failure(
                    message: "the manifest of \(name) has \(matching.count) \(what) layers "
                        + "(\(mediaType)); it must have one")
            }
            guard let digest = layer["digest"]?.stringValue, RegistryReference.isDigest(digest),
                let size = layer["size"]?.intValue, size > 0, size <= ReleaseMetadata.maximumSize
            else {
                throw RegistryClient.Failure(
                    message: "the \(what) layer of \(name) has no sha256 digest (`sha256:` and 64 lower-case hex digits) or size: "
                        + "digest \(JSON.quote(layer["digest"]?.stringValue ?? "none"))")
            }
            files.append(
                ReleaseMetadata.File(
                    name: fileName, url: try client.url("blobs", digest), sha256: String(digest.dropFirst(7)),
                    size: size, sizeAnnounced: true, signatureURL: nil))
        }
        let minimum = annotation("min_compatible_version")
        if let minimum, SemanticVersion(minimum) == nil {
            throw RegistryClient.Failure(message: "\(annotationPrefix)min_compatible_version \(JSON.quote(minimum)) is not a version")
        }
        var annotations: [String: String] = [:]
        if case .object(let pairs)? = json["annotations"] {
            for (key, value) in pairs { if let text = value.stringValue { annotations[key] = text } }
        }
        let wave: ReleaseWave?
        do {
            wave = try ReleaseWave.parse(annotations: annotations)
        } catch {
            throw RegistryClient.Failure(message: "the manifest of \(name): \(error.message)")
        }
        return ReleaseMetadata(
            version: version, format: .kubesolo, files: files, channel: annotation("channel"),
            minCompatibleVersion: minimum, architecture: annotation("architecture"),
            releaseNotes: annotation("release_notes"), releaseDate: annotation("release_date"), rollout: wave, bytes: bytes)
    }
}

/// Cosign's key-based signatures of a manifest: an OCI manifest at the tag
/// `sha256-<hex of the signed digest>.sig` in the same repository, whose layers of type
/// `application/vnd.dev.cosign.simplesigning.v1+json` are simple-signing payloads naming the
/// signed digest, each with its Ed25519 signature (over the payload's bytes, base64) in the
/// layer annotation `dev.cosignproject.cosign/signature`. docs/upstream.md shows how to make one.
public enum CosignSignature {
    public static let payloadMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
    public static let signatureAnnotation = "dev.cosignproject.cosign/signature"
    public static let signatureType = "cosign container image signature"

    /// `sha256:abc…` → `sha256-abc….sig`.
    public static func tag(for digest: String) -> String { "sha256-" + digest.dropFirst("sha256:".count) + ".sig" }

    /// Verifies that one of `keys` signed one of `digests` (the tag's, then the chosen
    /// manifest's), and says which; fails closed when no signature is found or none verifies.
    public static func verify(_ client: RegistryClient, digests: [String], keys: [[UInt8]]) throws(RegistryClient.Failure) -> String {
        for key in keys {
            if let problem = Ed25519.keyProblem(key) { throw RegistryClient.Failure(message: problem.description) }
        }
        var seen: [String] = []
        for digest in digests {
            let tag = tag(for: digest)
            let manifest: (bytes: [UInt8], mediaType: String, digest: String)
            do {
                manifest = try client.manifest(tag)
            } catch  where error.notFound {
                continue
            }
            guard let json = try? JSON.parse(manifest.bytes), case .array(let layers)? = json["layers"] else { continue }
            for layer in layers where layer["mediaType"]?.stringValue == payloadMediaType {
                guard let layerDigest = layer["digest"]?.stringValue,
                    let signature = layer["annotations"]?[signatureAnnotation]?.stringValue.flatMap(Base64.decode)
                else { continue }
                let payload = try client.blob(layerDigest, limit: 64 << 10)
                guard let claims = try? JSON.parse(payload), claims["critical"]?["type"]?.stringValue == signatureType,
                    claims["critical"]?["image"]?["docker-manifest-digest"]?.stringValue == digest
                else {
                    seen.append("\(tag): a payload that does not name \(digest)")
                    continue
                }
                let verified = payload.withUnsafeBytes { bytes in
                    keys.contains { Ed25519.verify(signature: signature, message: bytes, publicKey: $0) }
                }
                if verified { return digest }
                seen.append("\(tag): a signature that does not verify with the configured public key")
            }
        }
        if seen.isEmpty {
            throw RegistryClient.Failure(
                message: "no cosign signature was found (" + digests.map(tag(for:)).joined(separator: ", ")
                    + "): with a public key configured, an unsigned release is refused")
        }
        throw RegistryClient.Failure(message: "bad signature: " + seen.joined(separator: "; "))
    }
}
