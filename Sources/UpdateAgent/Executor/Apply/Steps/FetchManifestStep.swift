import UpdatePlan
import UpdatePolicy

/// `check.manifest`: resolves a registry tag to this machine's manifest and the release it holds.
/// With a key the release is believed only after its cosign signature (the next step).
struct FetchManifestStep: ApplyStepHandler {
    var reference: RegistryReference
    var tag: String

    func perform(_ step: Step, _ context: inout ApplyContext) throws -> ApplyOutcome? {
        let policy = context.run.policy, env = context.env
        let credentials: String?
        do {
            credentials = try policy.registryAuth.map { path throws(RegistryClient.Failure) in
                try RegistryClient.credentials(file: path.value)
            }
        } catch {
            throw RunFailure(.network, "\(error)")
        }
        try context.checkCAFile()
        if let path = policy.registryAuth?.value, let exposed = RegistryClient.exposure(file: path) { env.reporter.warning(exposed) }
        let client = RegistryClient(
            reference: reference, transport: context.releaseTransport, credentials: credentials,
            credentialsFile: policy.registryAuth?.value)
        let resolved: RegistryRelease.Resolved
        do {
            resolved = try RegistryRelease.resolve(client, tag: tag, architecture: env.system.architecture())
        } catch {
            throw RunFailure(.metadata, "\(error)")
        }
        var offered = resolved.release
        for index in offered.files.indices { offered.files[index].headers = client.headers }
        let manifest = resolved.manifestDigest.prefix(19)
        if policy.publicKey == nil {
            context.release = .offered(OfferedRelease(metadata: offered))
            env.reporter.note(
                "no public_key: this release is not authenticated; whoever can change the registry's "
                    + "content or the connection chooses what is installed")
            context.report(step, .done, "offered \(context.describe(offered)) (manifest \(manifest)…), unauthenticated")
        } else {
            var release = resolved
            release.release = offered
            context.release = .fetched(FetchedRelease(bytes: offered.bytes, registry: (client, release)))
            context.report(step, .done, "manifest \(manifest)… of \(reference.named(tag)); its signature is checked next")
        }
        return nil
    }
}
