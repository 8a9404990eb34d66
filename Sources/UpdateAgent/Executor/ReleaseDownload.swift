#if canImport(Glibc)
import Glibc
#endif
import UpdatePolicy

/// The files of a release downloaded at once (a KubeSolo OS release's kernel and initramfs
/// overlap), each streamed to its path while it is hashed. The Ed25519 SHA-512, the slowest
/// hash, runs on a thread of its own fed 1 MiB blocks, so the download thread only receives,
/// writes and takes the SHA-256.
struct ReleaseDownload: Sendable {
    /// What one file came to.
    struct Downloaded: Sendable {
        var count: Int
        var sha256: String
        /// SHA-512(R ‖ A ‖ bytes), when the file's signature was fetched before it.
        var signedDigest: [UInt8]?
    }

    /// One file to fetch: where from, where to, and the hash its signature starts.
    struct Job: Sendable {
        var file: ReleaseMetadata.File
        var path: String
        var signer: SHA512Hasher?
    }

    let transport: any Transport
    let reporter: any RunReporter
    /// `download.min_rate`, bytes per second; 0 for none.
    let minRate: Int
    /// The whole release's size, for progress.
    let total: Int

    /// Downloads every job, all at once; the first failure stops the others and is thrown.
    func run(_ jobs: [Job]) throws(ApplyRun.Failure) -> [Downloaded] {
        let shared = Shared(total: total, reporter: reporter, count: jobs.count)
        Parallel.run(jobs.count, width: jobs.count) { index in
            do {
                let downloaded = try fetch(jobs[index], shared)
                shared.finish(index, .success(downloaded))
            } catch let failure as ApplyRun.Failure {
                shared.finish(index, .failure(failure))
            } catch {
                shared.finish(index, .failure(ApplyRun.Failure(message: "\(error)")))
            }
        }
        return try shared.outcome()
    }

    /// Streams one file to its path, hashing while it writes.
    private func fetch(_ job: Job, _ shared: Shared) throws -> Downloaded {
        let file = job.file, path = job.path
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw ApplyRun.Failure(message: "\(SystemError("cannot create", path))") }
        defer { close(fd) }
        var hasher = SHA256Stream()
        let signed = job.signer.map(BackgroundHash.init)
        defer { signed?.cancel() }
        var count = 0
        let deadline = file.size.flatMap { ApplyRun.downloadDeadline(size: $0, minRate: minRate) }
        let response: TransportResponse
        do {
            response = try transport.get(TransportRequest(
                url: file.url, maxBytes: file.size ?? ReleaseMetadata.maximumSize, timeout: deadline,
                lowSpeed: minRate > 0 ? (minRate, 60) : nil, headers: file.headers
            )) { chunk in
                if shared.stopped { throw Stopped() }
                hasher.update(chunk)
                signed?.update(chunk)
                try AtomicFile.writeAll(fd, chunk, path: path)
                count += chunk.count
                shared.add(chunk.count)
            }
        } catch is Stopped {
            throw Stopped()
        } catch TransportError.tooLarge {
            throw ApplyRun.Failure(message: "\(file.name) is larger than the \(file.size ?? 0) bytes "
                + (file.sizeAnnounced ? "announced" : "the server said (Content-Length)") + "; cut off")
        } catch TransportError.timedOut(let reason) {
            let limit = deadline.map { "its deadline of \(DurationText.format($0)) (the file's size at "
                + "`download.min_rate` \(RateText.format(minRate)), plus a minute)" } ?? "its deadline"
            throw ApplyRun.Failure(message: "the download of \(file.url) was stopped: slower than \(RateText.format(minRate)) "
                + "for a minute, or longer than \(limit) (\(reason)); on a slower link lower `download.min_rate`")
        } catch let failure as ApplyRun.Failure {
            throw failure
        } catch {
            throw ApplyRun.Failure(message: "the download of \(file.url) failed: \(error)")
        }
        // An error page is not the file: say what the server answered, not that the hash differs.
        guard response.status == 200 else {
            throw ApplyRun.Failure(message: "GET \(file.url) answered HTTP \(response.status)")
        }
        guard fsync(fd) == 0 else { throw ApplyRun.Failure(message: "\(SystemError("cannot fsync", path))") }
        return Downloaded(count: count, sha256: hasher.finalizeHex(), signedDigest: signed?.finalize())
    }

    /// Thrown into a download when another one failed.
    private struct Stopped: Error {}

    /// The downloads' common progress, their outcomes, and the stop flag.
    private final class Shared: @unchecked Sendable {
        private let lock = Mutex()
        private let total: Int
        private let reporter: any RunReporter
        private var done = 0
        private var lastReport = 0
        private var outcomes: [Result<Downloaded, ApplyRun.Failure>?]
        /// Set by the first download that fails, read by the others at each chunk.
        private(set) var stopped = false
        private var firstFailure: ApplyRun.Failure?

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

        func finish(_ index: Int, _ outcome: Result<Downloaded, ApplyRun.Failure>) {
            lock.withLock {
                outcomes[index] = outcome
                if case .failure(let failure) = outcome, firstFailure == nil {
                    firstFailure = failure
                    stopped = true
                }
            }
        }

        func outcome() throws(ApplyRun.Failure) -> [Downloaded] {
            let (failure, outcomes) = lock.withLock { (firstFailure, self.outcomes) }
            if let failure { throw failure }
            var downloaded: [Downloaded] = []
            for outcome in outcomes {
                guard let outcome else { throw ApplyRun.Failure(message: "a download did not finish") }
                downloaded.append(try outcome.get())
            }
            return downloaded
        }
    }
}

/// A SHA-512 fed on a thread of its own: `update` copies the bytes into 1 MiB blocks and hands
/// each over (at most four wait, so memory stays bounded); `finalize` waits for the last.
final class BackgroundHash: @unchecked Sendable {
    private static let blockSize = 1 << 20
    private static let queued = 4

    private var hasher: SHA512Hasher
    private var block: [UInt8] = []
    private var queue: [[UInt8]] = []
    private var closed = false
    private var running = true
    private var mutex = pthread_mutex_t()
    private var changed = pthread_cond_t()
    private var thread = pthread_t()
    private var started = false

    init(_ hasher: SHA512Hasher) {
        self.hasher = hasher
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&changed, nil)
        block.reserveCapacity(Self.blockSize)
        let box = Unmanaged.passRetained(self).toOpaque()
        if pthread_create(&thread, nil, { raw in
            let owner = Unmanaged<BackgroundHash>.fromOpaque(raw!).takeRetainedValue()
            owner.work()
            return nil
        }, box) == 0 {
            started = true
        } else {
            Unmanaged<BackgroundHash>.fromOpaque(box).release()
        }
    }

    deinit {
        pthread_cond_destroy(&changed)
        pthread_mutex_destroy(&mutex)
    }

    func update(_ bytes: UnsafeRawBufferPointer) {
        guard started else { return hasher.update(bytes) }
        var rest = bytes[...]
        while !rest.isEmpty {
            let take = min(rest.count, Self.blockSize - block.count)
            block.append(contentsOf: rest.prefix(take))
            rest = rest.dropFirst(take)
            if block.count == Self.blockSize { hand(over: false) }
        }
    }

    /// The digest of everything given, once the thread has hashed it.
    func finalize() -> [UInt8] {
        guard started else { return hasher.finalize() }
        hand(over: true)
        pthread_join(thread, nil)
        started = false
        return hasher.finalize()
    }

    /// Stops the thread without hashing what waits (the download failed); nothing after it.
    func cancel() {
        guard started else { return }
        pthread_mutex_lock(&mutex)
        queue = []
        closed = true
        pthread_cond_broadcast(&changed)
        pthread_mutex_unlock(&mutex)
        pthread_join(thread, nil)
        started = false
    }

    private func hand(over last: Bool) {
        pthread_mutex_lock(&mutex)
        while queue.count >= Self.queued { pthread_cond_wait(&changed, &mutex) }
        if !block.isEmpty { queue.append(block) }
        if last { closed = true }
        pthread_cond_broadcast(&changed)
        pthread_mutex_unlock(&mutex)
        block = []
        if !last { block.reserveCapacity(Self.blockSize) }
    }

    private func work() {
        while true {
            pthread_mutex_lock(&mutex)
            while queue.isEmpty && !closed { pthread_cond_wait(&changed, &mutex) }
            if queue.isEmpty {
                pthread_mutex_unlock(&mutex)
                return
            }
            let next = queue.removeFirst()
            pthread_cond_broadcast(&changed)
            pthread_mutex_unlock(&mutex)
            hasher.update(next)
        }
    }
}
