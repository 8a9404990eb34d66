import UpdatePlan
import UpdatePolicy

/// `check.signature` for a registry: a cosign signature by the key over the tag's or the
/// manifest's digest.
struct VerifyCosignStep: ApplyStepHandler {
    var key: PublicKeySpec

    func perform(_ step: Step, _ context: inout ApplyContext) throws -> ApplyOutcome? {
        let fetched = try context.fetched(for: step)
        guard let (client, resolved) = fetched.registry else { throw RunFailure(.metadata, "no manifest was fetched") }
        let signed: String
        do {
            let keys = try Signature.keys(self.key)
            var digests = [resolved.tagDigest]
            if resolved.manifestDigest != resolved.tagDigest { digests.append(resolved.manifestDigest) }
            signed = try CosignSignature.verify(client, digests: digests, keys: keys)
        } catch {
            throw RunFailure(.signature, "\(error)")
        }
        var offered = resolved.release
        offered.authenticated = true
        context.release = .offered(OfferedRelease(metadata: offered))
        context.report(
            step, .pass, "cosign signature of \(signed.prefix(19))… verifies; offered \(context.describe(offered))")
        return nil
    }
}
