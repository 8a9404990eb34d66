import UpdatePlan
import UpdatePolicy

/// `check.metadata`: fetches the server's metadata. With a key nothing in it is read before its
/// signature verifies (the next step); without one it is parsed and offered as it is.
struct FetchMetadataStep: ApplyStepHandler {
    var server: PolicyURL?

    func perform(_ step: Step, _ context: inout ApplyContext) throws -> ApplyOutcome? {
        guard server != nil else { throw RunFailure(.metadata, "the policy has no server") }
        let url = context.plan.metadataURL
        try context.checkCAFile()
        let bytes = try context.fetch(url, limit: 64 << 10, what: "metadata")
        if context.run.policy.publicKey != nil {
            context.release = .fetched(FetchedRelease(bytes: bytes))
            context.report(step, .done, "fetched \(url) (\(bytes.count) bytes); its signature is checked next")
        } else {
            var offered = try context.parseMetadata(bytes)
            try context.learnSizes(&offered)
            context.release = .offered(OfferedRelease(metadata: offered))
            context.env.reporter.note(
                "no public_key: this release is not authenticated; whoever can change the server's "
                    + "files or the connection chooses what is installed")
            context.report(step, .done, "offered \(context.describe(offered)), unauthenticated")
        }
        return nil
    }
}
