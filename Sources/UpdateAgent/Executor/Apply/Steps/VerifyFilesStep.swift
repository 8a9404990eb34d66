import UpdatePlan
import UpdatePolicy

/// `verify.files`: every file's size is the one announced and its SHA-256 the metadata's.
struct VerifyFilesStep: ApplyStepHandler {
    func perform(_ step: Step, _ context: inout ApplyContext) throws -> ApplyOutcome? {
        let offered = try context.offered(for: step)
        if offered.alreadyStaged { return context.skip(step, "\(offered.metadata.version) is staged already") }
        guard !context.run.dryRun else { return context.skip(step) }
        let downloaded = try context.downloaded(for: step)
        for file in offered.metadata.files {
            let count = downloaded.written[file.name] ?? 0
            if let size = file.size, count != size {
                throw RunFailure(
                    .size,
                    "size mismatch: \(count) bytes of \(file.name) downloaded, \(size) "
                        + (file.sizeAnnounced ? "announced" : "said by the server (Content-Length)"))
            }
            guard downloaded.digests[file.name] == file.sha256 else {
                throw RunFailure(
                    .checksum,
                    "sha256 mismatch: \(file.name) hashes to \(downloaded.digests[file.name] ?? "?"), "
                        + "the metadata says \(file.sha256)")
            }
        }
        context.report(
            step, .pass,
            offered.metadata.files.map { "\($0.name) sha256 \($0.sha256.prefix(12))… matches" }
                .joined(separator: "; "))
        return nil
    }
}
