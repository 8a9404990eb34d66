import UpdatePlan
import UpdatePolicy

/// Reading the release: small documents, the metadata, the sizes the metadata does not give, and
/// the files.
extension ApplyContext {
    /// Tries of a small document before the run gives up on it: a server that is down for
    /// longer is the next timer run's to find, and an interactive `apply` or `check` should
    /// not wait minutes to say so.
    static let documentTries = 3

    /// The transport to the update server and the registry: with the policy's `ca_file`, their
    /// certificates are checked against it instead of the system's bundle.
    var releaseTransport: any Transport {
        guard let caFile = run.policy.caFile?.value else { return env.transport }
        return CertificateAuthorities(base: env.transport, caFile: caFile)
    }

    /// The policy's `ca_file` can be read (else every request would fail on the link, and be tried
    /// again for nothing).
    func checkCAFile() throws(RunFailure) {
        guard let caFile = run.policy.caFile?.value else { return }
        let problem: String?
        do {
            problem = try AtomicFile.read(caFile, limit: 4 << 20, followingLinks: true) == nil ? "no such file" : nil
        } catch {
            problem = "\(error)"
        }
        if let problem { throw RunFailure(.network, "cannot read the certificate authorities of `ca_file` \(caFile): \(problem)") }
    }

    /// A small document (metadata, a signature) whole. A failure on the link (the connection,
    /// a timeout, 5xx, 408, 429) is tried again after a random wait, as downloads are, but at
    /// most `documentTries` times (and never more than `download.retries` allows).
    func fetch(_ url: String, limit: Int, what: String) throws(RunFailure) -> [UInt8] {
        guard let body = try fetchUnlessMissing(url, limit: limit, what: what) else {
            let missing = what == "signature"
            throw RunFailure(
                missing ? .signature : .network, "GET \(url) answered HTTP 404" + (missing ? ": the signature is missing" : ""))
        }
        return body
    }

    /// `fetch`, with nil for a document the server does not have (404).
    func fetchUnlessMissing(_ url: String, limit: Int, what: String) throws(RunFailure) -> [UInt8]? {
        var failed = 0
        while true {
            do {
                return try fetchOnce(url, limit: limit, what: what)
            } catch let failure as RunFailure {
                throw failure
            } catch let transient as TransientFetch {
                failed += 1
                guard failed < Self.documentTries, failed <= run.policy.download.retries.value else {
                    throw RunFailure(.network, transient.message + (failed > 1 ? " (\(failed) tries)" : ""))
                }
                let wait = ReleaseDownload.backoff(tries: failed, random: env.jitter())
                env.reporter.note("\(transient.message); trying again in \(DurationText.format(wait))")
                env.clock.sleep(for: wait)
            } catch {
                throw RunFailure(.network, "cannot fetch the \(what) \(url): \(error)")
            }
        }
    }

    private struct TransientFetch: Error { var message: String }

    private func fetchOnce(_ url: String, limit: Int, what: String) throws -> [UInt8]? {
        // What a document that is no good means: a signature's trouble is the signature's.
        let reason: RunFailure.Reason = what == "signature" ? .signature : .metadata
        do {
            let (response, body) = try releaseTransport.fetch(TransportRequest(url: url, maxBytes: limit))
            if ReleaseDownload.isTransient(status: response.status) {
                throw TransientFetch(message: "GET \(url) answered HTTP \(response.status)")
            }
            if response.status == 404 { return nil }
            guard response.status == 200 else { throw RunFailure(.network, "GET \(url) answered HTTP \(response.status)") }
            return body
        } catch let failure as RunFailure {
            throw failure
        } catch let transient as TransientFetch {
            throw transient
        } catch TransportError.tooLarge(let limit) {
            throw RunFailure(reason, "the \(what) at \(url) is larger than \(limit) bytes; cut off")
        } catch TransportError.failed(let reason) {
            throw TransientFetch(message: "cannot fetch the \(what) \(url): \(reason)")
        } catch TransportError.timedOut(let reason) {
            throw TransientFetch(message: "cannot fetch the \(what) \(url): timed out: \(reason)")
        } catch {
            throw RunFailure(.network, "cannot fetch the \(what) \(url): \(error)")
        }
    }

    /// The public keys a signature step names, read (and refused by the key rules) as a
    /// signature failure.
    func keys(_ spec: PublicKeySpec) throws(RunFailure) -> [[UInt8]] {
        do {
            return try Signature.keys(spec)
        } catch {
            throw RunFailure(.signature, "\(error)")
        }
    }

    /// Parses fetched metadata (after its signature verified, when there is a key).
    func parseMetadata(_ bytes: [UInt8]) throws(RunFailure) -> ReleaseMetadata {
        do {
            return try ReleaseMetadata.parse(bytes, metadataURL: plan.metadataURL, serverIsFile: run.policy.server?.value.scheme == "file")
        } catch {
            throw RunFailure(.metadata, "\(error)")
        }
    }

    /// Sizes the metadata does not give, from the server's `Content-Length` (a HEAD): the
    /// free-space gate needs them, and a download longer than said is cut off. A file the server
    /// does not have is said now, before any gate; one it says is larger than
    /// `download.max_release_size` is refused now. A server that answers no HEAD leaves the size
    /// unknown (the download is then cut off at `max_release_size`).
    func learnSizes(_ offered: inout ReleaseMetadata) throws(RunFailure) {
        let limit = run.policy.download.maxReleaseSize.value
        for index in offered.files.indices {
            let file = offered.files[index]
            guard file.size == nil else { continue }
            let request = TransportRequest(url: file.url, maxBytes: 0, timeout: .seconds(30), method: "HEAD", headers: file.headers)
            guard let response = try? releaseTransport.get(request, onData: { _ in }) else { continue }
            if response.status == 404 || response.status == 410 {
                throw RunFailure(.network, "HEAD \(file.url) answered HTTP \(response.status): the server does not have \(file.name)")
            }
            guard response.status == 200, let length = response.contentLength, length >= 0 else { continue }
            guard length <= limit else {
                throw RunFailure(
                    .size,
                    "the server says \(file.name) is \(ByteText.show(UInt64(length))) (Content-Length), more than "
                        + "`download.max_release_size` (\(RateText.formatSize(limit))): refused before the download")
            }
            offered.files[index].size = length
        }
    }

    /// "1.1.0 (vmlinuz and kubesolo-os.gz, 120 MiB) for amd64 on stable".
    func describe(_ offered: ReleaseMetadata) -> String {
        var text = "\(offered.version) (\(offered.fileNames)" + (offered.size.map { ", \(ByteText.show(UInt64($0)))" } ?? "") + ")"
        if let architecture = offered.architecture { text += " for \(architecture)" }
        if let channel = offered.channel { text += " on \(channel)" }
        return text + " at " + offered.files.map(\.url).joined(separator: " and ")
    }

    /// Downloads every file of the release at once, each to its path, hashing while it
    /// writes.
    func downloadAll(_ offered: OfferedRelease, paths: [String: String]) throws(RunFailure) -> DownloadedRelease {
        var downloaded = DownloadedRelease(offered: offered, paths: paths)
        let files = offered.metadata.files
        var jobs: [ReleaseDownload.Job] = []
        // With a key that can be read, each file's signature is fetched before the file: one the
        // server does not have is said now, not after a long download.
        let verifiesFiles = plan.steps.contains { step in
            if case .verifyFileSignatures(let spec) = step.operation { return (try? Signature.keys(spec)) != nil }
            return false
        }
        for file in files {
            guard let path = paths[file.name] else { throw RunFailure(.backend, "the backend gave no path for \(file.name)") }
            if verifiesFiles, let url = file.signatureURL {
                downloaded.signatureFiles[file.name] = try fetch(url, limit: 4096, what: "signature")
            }
            jobs.append(ReleaseDownload.Job(file: file, path: path))
        }
        let settings = run.policy.download
        let download = ReleaseDownload(
            transport: releaseTransport, reporter: env.reporter, clock: env.clock,
            settings: ReleaseDownload.Settings(
                minRate: settings.minRate.value, maxRate: settings.maxRate.value,
                retries: settings.retries.value, maxFileSize: settings.maxReleaseSize.value, atOnce: env.downloadsAtOnce,
                deadline: env.downloadDeadline, jitter: env.jitter),
            total: offered.metadata.size ?? 0)
        for (job, file) in zip(jobs, try download.run(jobs)) {
            downloaded.written[job.file.name] = file.count
            downloaded.digests[job.file.name] = file.sha256
        }
        return downloaded
    }
}
