import UpdatePlan
import UpdatePolicy

/// `check.signature`: the metadata's own signature over its exact bytes, before anything in it
/// is read; a release that signs neither its metadata nor every file is refused; expiry.
struct VerifyMetadataSignatureStep: ApplyStepHandler {
    var key: PublicKeySpec

    func perform(_ index: Int, _ step: Step, _ context: inout ApplyContext) throws -> ApplyOutcome? {
        let fetched = try context.fetched(for: step)
        let key = try context.key(self.key)
        let metadataURL = context.plan.metadataURL
        // Which signature covers the metadata is the one thing read before it verifies.
        let signatureURL =
            ReleaseMetadata.namedMetadataSignature(fetched.bytes, metadataURL: metadataURL)
            ?? (ReleaseMetadata.isKubeSoloForm(fetched.bytes) ? nil : metadataURL + ".sig")
        if let signatureURL {
            let signature = try context.fetch(signatureURL, limit: 4096, what: "signature")
            do {
                try Signature.verify(message: fetched.bytes, signatureFile: signature, key: key, what: "latest.json")
            } catch {
                throw RunFailure(.signature, "\(error)")
            }
        }
        var offered = try context.parseMetadata(fetched.bytes)
        if signatureURL == nil {
            let unsigned = offered.files.filter { $0.signatureURL == nil }.map(\.name)
            guard unsigned.isEmpty else {
                throw RunFailure(
                    .signature,
                    "the release signs neither its metadata (no metadata_sig_url) nor "
                        + unsigned.joined(separator: " and ") + " (no *_sig_url): with a public key configured, an "
                        + "unauthenticated release is refused")
            }
            context.env.reporter.note(
                "latest.json names no metadata_sig_url: its version, channel and other fields are not "
                    + "authenticated; each file's signature is checked after the download")
        }
        let now = context.env.clock.now()
        if let expires = offered.expires, expires < now {
            throw RunFailure(.metadata, "the metadata expired at \(expires) (now \(now))")
        }
        context.learnSizes(&offered)
        context.release = .offered(OfferedRelease(metadata: offered))
        context.report(
            index, step, .pass,
            (signatureURL == nil ? "metadata unsigned, every file signed" : "signature verifies")
                + "; offered \(context.describe(offered))" + (offered.expires.map { "; valid until \($0)" } ?? ""))
        return nil
    }
}
