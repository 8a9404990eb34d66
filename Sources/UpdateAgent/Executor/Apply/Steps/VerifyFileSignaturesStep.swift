import UpdatePlan
import UpdatePolicy

/// `verify.signatures`: every file signature the release names, over the file as written
/// (`Signature.verify(file:)`, through a read-only mapping).
struct VerifyFileSignaturesStep: ApplyStepHandler {
    var key: PublicKeySpec

    func perform(_ step: Step, _ context: inout ApplyContext) throws -> ApplyOutcome? {
        let offered = try context.offered(for: step)
        if offered.alreadyStaged { return context.skip(step, "\(offered.metadata.version) is staged already") }
        guard !context.run.dryRun else { return context.skip(step) }
        let downloaded = try context.downloaded(for: step)
        let keys = try context.keys(self.key)
        var said: [String] = []
        for file in offered.metadata.files {
            guard let url = file.signatureURL else {
                said.append("\(file.name): covered by the signed metadata's SHA-256")
                continue
            }
            let signature = try downloaded.signatureFiles[file.name] ?? context.fetch(url, limit: 4096, what: "signature")
            do {
                try Signature.verify(file: downloaded.paths[file.name] ?? "", signatureFile: signature, keys: keys, what: file.name)
            } catch let failure as Signature.Failure {
                throw RunFailure(.signature, "\(failure)")
            } catch {
                throw RunFailure(.disk, "\(error)")
            }
            said.append("\(file.name): signature verifies")
        }
        context.report(step, .pass, said.joined(separator: "; "))
        return nil
    }
}
