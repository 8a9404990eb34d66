import UpdatePolicy

#if canImport(Glibc)
import Glibc
#endif

/// The files of a release downloaded at once (a KubeSolo OS release's kernel and initramfs
/// overlap), each streamed to its path while its SHA-256 is taken. File signatures are checked
/// afterwards, over the written file (`Signature.verify(file:)`).
///
/// Downloads survive bad links: a try that drops, times out or gets a 5xx is tried again after a
/// random wait that doubles while tries gain nothing, and goes on from the byte it reached with a
/// `Range` request validated by `If-Range` (the file's strong ETag, else its Last-Modified), so a
/// file that changed on the server is downloaded again from the start, never spliced. The bytes
/// kept on disk are hashed again before going on, and a record beside them (`FILE.resume`: URL,
/// expected SHA-256, validator) lets the next run go on after a killed one. The SHA-256 check
/// after the download stays the only authority over what is staged.
struct ReleaseDownload: Sendable {
    /// What one file came to.
    struct Downloaded: Sendable {
        var count: Int
        var sha256: String
    }

    /// One file to fetch: where from, where to.
    struct Job: Sendable {
        var file: ReleaseMetadata.File
        var path: String
    }

    /// How downloads treat the link (`download:` in the policy).
    struct Settings: Sendable {
        /// Bytes per second; 0 for none.
        var minRate = 0
        var maxRate = 0
        /// Failed tries in a row without a byte gained, after which a file gives up.
        var retries = 8
        /// The most bytes a file whose size is not known may have (`download.max_release_size`).
        var maxFileSize = ReleaseMetadata.maximumSize
        /// Files download at once (`AgentEnvironment.downloadsAtOnce`).
        var atOnce = true
        /// Each file has one deadline across its tries (`AgentEnvironment.downloadDeadline`).
        var deadline = true
        /// A number in [0, 1) for each backoff (`AgentEnvironment.jitter`).
        var jitter: @Sendable () -> Double = { Double.random(in: 0..<1) }
    }

    /// The first wait before a retry, and the longest.
    static let firstBackoff = Duration.seconds(1)
    static let longestBackoff = Duration.seconds(300)

    let transport: any Transport
    let reporter: any RunReporter
    let clock: any RunClock
    let settings: Settings
    /// The whole release's size, for progress.
    let total: Int

    /// Downloads every job, all at once; the first failure stops the others and is thrown.
    func run(_ jobs: [Job]) throws(RunFailure) -> [Downloaded] {
        let shared = Shared(total: total, reporter: reporter, count: jobs.count)
        // Under a rate cap the files go one after the other, so the link sees the cap, not one per file.
        Parallel.run(jobs.count, width: settings.maxRate > 0 || !settings.atOnce ? 1 : jobs.count) { index in
            do {
                let downloaded = try fetch(jobs[index], shared)
                shared.finish(index, .success(downloaded))
            } catch let failure as RunFailure {
                shared.finish(index, .failure(failure))
            } catch let system as SystemError {
                shared.finish(index, .failure(RunFailure(.disk, "\(system)")))
            } catch {
                shared.finish(index, .failure(RunFailure(.network, "\(error)")))
            }
        }
        return try shared.outcome()
    }

    /// Statuses another try may get past: the server's trouble (5xx), a request timeout, a rate limit.
    static func isTransient(status: Int) -> Bool { status >= 500 || status == 408 || status == 429 }

    /// The wait before retry `tries` (1, 2, …): "full jitter", a random time up to the doubled
    /// backoff, so a fleet that lost its link together does not come back in step.
    static func backoff(tries: Int, random: Double) -> Duration {
        let ceiling = min(longestBackoff, firstBackoff * (1 << min(max(tries - 1, 0), 16)))
        return ceiling * random
    }

    /// Fetches one file, trying again while the failures are transient and `retries` allows.
    private func fetch(_ job: Job, _ shared: Shared) throws -> Downloaded {
        let file = job.file, path = job.path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw RunFailure(.disk, "\(SystemError("cannot create", path))") }
        defer { close(fd) }
        var progress = FileProgress(job: job, fd: fd, shared: shared)
        try progress.resumeFromDisk()
        // The file has one deadline across all its tries (the bytes still needed at `min_rate`,
        // plus a minute), on the run's clock: a server that trickles, or drops every try and
        // sends the start again, cannot hold the run. A try that does not get past the furthest
        // byte ever reached counts as failed, even when it re-fetched bytes from the start.
        let budget = file.size.flatMap {
            settings.deadline ? ApplyRun.downloadDeadline(size: $0 - progress.count, minRate: settings.minRate) : nil
        }
        let started = clock.instant()
        var furthest = progress.count
        var failedInARow = 0
        var tries = 0
        func pastDeadline(_ budget: Duration) -> RunFailure {
            RunFailure(
                .network,
                "the download of \(file.url) did not finish within \(DurationText.format(budget)) (its size at "
                    + "`download.min_rate` \(RateText.format(settings.minRate)), plus a minute) over \(tries) tries; "
                    + "the server sends it slower than that. On a slower link lower `download.min_rate`")
        }
        while !progress.complete {
            var timeout = budget
            if let budget {
                let left = budget - (clock.instant() - started)
                guard left > .zero else { throw pastDeadline(budget) }
                timeout = max(left, .seconds(1))
            }
            tries += 1
            let tryStarted = Monotonic.now()
            do {
                defer { clock.account(elapsed: .nanoseconds(Int64(Monotonic.now() - tryStarted))) }
                try attempt(&progress, shared, timeout: timeout)
                break
            } catch let transient as Transient {
                if progress.count > furthest {
                    furthest = progress.count
                    failedInARow = 0
                }
                failedInARow += 1
                guard failedInARow <= settings.retries else {
                    let kept =
                        progress.count > 0 && progress.validator != nil
                        ? "; the \(ByteText.show(UInt64(progress.count))) downloaded are kept and the next run goes on from there"
                        : ""
                    throw RunFailure(
                        .network,
                        "the download of \(file.url) failed \(failedInARow) times in a row without getting past byte "
                            + "\(furthest) (\(transient.reason))\(kept)")
                }
                let wait = Self.backoff(tries: failedInARow, random: settings.jitter())
                // A wait that would end past the deadline is not waited: the file cannot make it.
                if let budget, clock.instant() - started + wait >= budget { throw pastDeadline(budget) }
                let from =
                    progress.count == 0
                    ? ""
                    : progress.validator != nil
                        ? " from byte \(progress.count)"
                        : " from byte 0 (the server gives no ETag or Last-Modified to go on from byte \(progress.count) by)"
                shared.note("\(file.name): \(transient.reason); trying again in \(DurationText.format(wait))" + from)
                clock.sleep(for: wait)
            }
        }
        guard fsync(fd) == 0 else { throw RunFailure(.disk, "\(SystemError("cannot fsync", path))") }
        return Downloaded(count: progress.count, sha256: progress.hasher.finalizeHex())
    }

    /// One try: from byte `progress.count`, validated, or from the start.
    private func attempt(_ progress: inout FileProgress, _ shared: Shared, timeout: Duration?) throws {
        let file = progress.job.file
        var headers = file.headers
        let resuming = progress.count > 0
        if resuming, let validator = progress.validator {
            headers += ["Range: bytes=\(progress.count)-", "If-Range: \(validator)"]
        } else if resuming {
            try progress.restart()
        }
        let box = ProgressBox(progress)
        var request = TransportRequest(
            url: file.url, maxBytes: file.size ?? settings.maxFileSize, timeout: timeout,
            lowSpeed: settings.minRate > 0 ? (settings.minRate, 60) : nil, headers: headers)
        request.maxRate = settings.maxRate
        request.onResponse = { status, headers in try box.answered(status, headers, shared: shared) }
        let response: TransportResponse
        do {
            response = try transport.get(request) { chunk in
                if shared.stopped { throw Stopped() }
                try box.value.append(chunk)
            }
        } catch {
            progress = box.value
            throw classify(error, file)
        }
        progress = box.value
        switch response.status {
        case 200, 206:
            // An empty file, or one that was complete already, gets no body to announce it.
            if !box.announced { try progress.answered(response.status, response.headers) }
        case 416 where progress.count > 0:
            // The range starts at the end: the server's file is no longer than the bytes kept.
            try progress.restart()
            throw Transient(reason: "the server has no bytes past \(progress.count) (HTTP 416)")
        default:
            throw classify(HTTPStatus(code: response.status), file)
        }
        progress.complete = true
    }

    /// Whether a failure is worth another try: dropped connections, timeouts, 5xx, 408 and 429.
    private func classify(_ error: any Error, _ file: ReleaseMetadata.File) -> any Error {
        switch error {
        case is Stopped, is RunFailure, is Transient:
            return error
        case let status as HTTPStatus:
            if Self.isTransient(status: status.code) {
                return Transient(reason: "HTTP \(status.code)")
            }
            return RunFailure(.network, "GET \(file.url) answered HTTP \(status.code)")
        case TransportError.tooLarge:
            guard let size = file.size else {
                return RunFailure(
                    .size,
                    "\(file.name) is larger than `download.max_release_size` (\(RateText.formatSize(settings.maxFileSize))), "
                        + "and the metadata gives no size; cut off")
            }
            return RunFailure(
                .size,
                "\(file.name) is larger than the \(size) bytes "
                    + (file.sizeAnnounced ? "announced" : "the server said (Content-Length)") + "; cut off at the first byte past them")
        case TransportError.timedOut(let reason):
            return Transient(
                reason: "slower than \(RateText.format(settings.minRate)) for a minute, or past the "
                    + "file's deadline (\(reason)); on a slower link lower `download.min_rate`")
        case TransportError.failed(let reason):
            return Transient(reason: reason)
        default:
            return RunFailure(.network, "the download of \(file.url) failed: \(error)")
        }
    }

    /// A failure another try may get past.
    private struct Transient: Error { var reason: String }
    /// A status that is not the file.
    private struct HTTPStatus: Error { var code: Int }
    /// Thrown into a download when another one failed.
    private struct Stopped: Error {}

    /// One file's bytes so far: written, hashed, and what validates them.
    private struct FileProgress {
        let job: ReleaseDownload.Job
        let fd: Int32
        /// The release's progress, which counts the bytes kept and gives back those dropped.
        let shared: Shared
        var count = 0
        var hasher = SHA256Stream()
        /// The strong ETag or Last-Modified of the bytes so far; nil when the server gave neither.
        var validator: String?
        var complete = false

        init(job: ReleaseDownload.Job, fd: Int32, shared: Shared) {
            self.job = job
            self.fd = fd
            self.shared = shared
        }

        var recordPath: String { job.path + ".resume" }

        /// Picks up what an earlier run left, when its record says it is this file from this URL:
        /// the bytes on disk are hashed again. Anything else starts from nothing.
        mutating func resumeFromDisk() throws {
            var info = stat()
            guard let record = ResumeRecord.read(recordPath), record.url == job.file.url, record.sha256 == job.file.sha256,
                fstat(fd, &info) == 0, info.st_size > 0, job.file.size.map({ Int(info.st_size) <= $0 }) ?? true
            else {
                try restart()
                return
            }
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            var offset = 0
            let size = Int(info.st_size)
            while offset < size {
                let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, min($0.count, size - offset), off_t(offset)) }
                if got < 0, errno == EINTR { continue }
                guard got > 0 else { throw RunFailure(.disk, "\(SystemError("cannot read", job.path))") }
                buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<got])) }
                offset += got
            }
            count = size
            shared.add(size)
            validator = record.validator
            guard lseek(fd, off_t(size), SEEK_SET) >= 0 else { throw RunFailure(.disk, "\(SystemError("cannot seek", job.path))") }
            shared.note("\(job.file.name): going on from byte \(size) of an earlier download")
            if let total = job.file.size, size == total { complete = true }
        }

        /// Back to byte 0: the file emptied, the hashes and the record started again.
        mutating func restart() throws {
            guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else {
                throw RunFailure(.disk, "\(SystemError("cannot truncate", job.path))")
            }
            shared.add(-count)
            count = 0
            hasher = SHA256Stream()
            validator = nil
            unlink(recordPath)
        }

        /// The response's status, before its first body byte: the rest (206 from where we are),
        /// or the whole file (200: from the start, the record written anew).
        mutating func answered(_ status: Int, _ headers: [(name: String, value: String)]) throws {
            let response = TransportResponse(status: status, bytes: 0, headers: headers)
            switch status {
            case 206:
                let range = response.header("Content-Range") ?? ""
                guard range.hasPrefix("bytes \(count)-") else {
                    try restart()
                    throw Transient(reason: "the server sent another range (\(range)) than asked for")
                }
            case 200:
                if count > 0 { try restart() }
                // A weak ETag may not validate a range (RFC 9110, 13.1.5); Last-Modified then.
                validator = response.header("ETag").flatMap { $0.hasPrefix("W/") ? nil : $0 } ?? response.header("Last-Modified")
                if let validator {
                    try AtomicFile.write(
                        ResumeRecord(url: job.file.url, sha256: job.file.sha256, validator: validator).bytes,
                        to: recordPath)
                }
            default:
                throw HTTPStatus(code: status)
            }
        }

        mutating func append(_ chunk: UnsafeRawBufferPointer) throws {
            hasher.update(chunk)
            try AtomicFile.writeAll(fd, chunk, path: job.path)
            if fetched < Self.partway, fetched + chunk.count >= Self.partway { TestPause.here("download.partway") }
            fetched += chunk.count
            count += chunk.count
            shared.add(chunk.count)
        }

        /// Where crash tests stop a download: 64 KiB past where this process began it (a fresh
        /// or a resumed download alike), written and recorded.
        static let partway = 64 << 10
        /// Bytes this process received for the file.
        private var fetched = 0
    }

    /// `FileProgress` for the transport's callbacks, which run on the download's own thread.
    /// `@unchecked Sendable`: one download's box is used by that download's thread only (the
    /// transport calls back on the thread that called it); nothing else holds it.
    private final class ProgressBox: @unchecked Sendable {
        var value: FileProgress
        var announced = false
        init(_ value: FileProgress) { self.value = value }

        func answered(_ status: Int, _ headers: [(name: String, value: String)], shared: Shared) throws {
            announced = true
            let resumed = value.count
            try value.answered(status, headers)
            if status == 200, resumed > 0 {
                shared.note(
                    "\(value.job.file.name): the server sent the whole file (it changed since, or it does not "
                        + "resume downloads): starting again from byte 0")
            }
        }
    }

    /// The downloads' common progress, their outcomes, and the stop flag. `@unchecked Sendable`:
    /// every stored property that changes is read and written under `lock` only.
    private final class Shared: @unchecked Sendable {
        private let lock = Mutex()
        private let total: Int
        private let reporter: any RunReporter
        private var done = 0
        private var lastReport = 0
        private var outcomes: [Result<Downloaded, RunFailure>?]
        /// Set by the first download that fails; the others read it at each chunk, under the lock.
        private var isStopped = false
        var stopped: Bool { lock.withLock { isStopped } }
        private var firstFailure: RunFailure?

        init(total: Int, reporter: any RunReporter, count: Int) {
            self.total = total
            self.reporter = reporter
            outcomes = Array(repeating: nil, count: count)
        }

        func add(_ bytes: Int) {
            lock.withLock {
                done += bytes
                if total > 0, done - lastReport >= max(1, total / 100) || done == total {
                    lastReport = done
                    reporter.progress(bytes: done, total: total)
                }
            }
        }

        func note(_ text: String) { lock.withLock { reporter.note(text) } }

        func finish(_ index: Int, _ outcome: Result<Downloaded, RunFailure>) {
            lock.withLock {
                outcomes[index] = outcome
                if case .failure(let failure) = outcome, firstFailure == nil {
                    firstFailure = failure
                    isStopped = true
                }
            }
        }

        func outcome() throws(RunFailure) -> [Downloaded] {
            let (failure, outcomes) = lock.withLock { (firstFailure, self.outcomes) }
            if let failure { throw failure }
            var downloaded: [Downloaded] = []
            for outcome in outcomes {
                guard let outcome else { throw RunFailure(.network, "a download did not finish") }
                downloaded.append(try outcome.get())
            }
            return downloaded
        }
    }
}

/// What lets a later run go on with a partial download: the URL, the SHA-256 the metadata
/// expects, and the validator the server gave with the first byte.
struct ResumeRecord: Equatable {
    var url: String
    var sha256: String
    var validator: String

    var bytes: [UInt8] { Array("updatectl-resume 1\nurl \(url)\nsha256 \(sha256)\nvalidator \(validator)\n".utf8) }

    static func read(_ path: String) -> ResumeRecord? {
        guard let bytes = try? AtomicFile.read(path, limit: 16 << 10) else { return nil }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 4, lines[0] == "updatectl-resume 1" else { return nil }
        func field(_ line: Substring, _ name: String) -> String? {
            line.hasPrefix(name + " ") ? String(line.dropFirst(name.count + 1)) : nil
        }
        guard let url = field(lines[1], "url"), let sha256 = field(lines[2], "sha256"), let validator = field(lines[3], "validator"),
            !validator.isEmpty
        else { return nil }
        return ResumeRecord(url: url, sha256: sha256, validator: validator)
    }
}
