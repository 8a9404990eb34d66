import UpdatePlan
import UpdatePolicy

/// `download.files`: the release's files into the passive slot's download folder, at once,
/// hashed while they are written (`ReleaseDownload`). The attempt starts here (downloading).
struct DownloadStep: ApplyStepHandler {
    func perform(_ step: Step, _ context: inout ApplyContext) throws -> ApplyOutcome? {
        let offered = try context.offered(for: step)
        let metadata = offered.metadata
        if offered.alreadyStaged { return context.skip(step, "\(metadata.version) is staged already") }
        let target = context.booted.other
        if context.run.dryRun {
            context.report(
                step, .skip,
                "dry run: would download \(metadata.fileNames) "
                    + (metadata.size.map { "(\(ByteText.show(UInt64($0)))) " } ?? "") + "into slot \(target.rawValue)")
            return nil
        }
        context.state.targetSlot = target.rawValue
        try context.transition(.downloading, .init(toVersion: metadata.version, fromVersion: context.running))
        let paths: [String: String]
        do {
            paths = try context.env.backend.prepareFiles(for: target, names: metadata.files.map(\.name))
        } catch {
            throw RunFailure(.disk, "\(error)")
        }
        let downloaded = try context.downloadAll(offered, paths: paths)
        context.release = .downloaded(downloaded)
        context.report(
            step, .done,
            metadata.files.map { "\($0.name) \(ByteText.show(UInt64(downloaded.written[$0.name] ?? 0)))" }
                .joined(separator: ", ") + " written for slot \(target.rawValue)")
        return nil
    }
}
