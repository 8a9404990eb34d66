#if canImport(Glibc)
import Glibc
#endif

/// Runs `count` blocking jobs, at most `width` at once on threads of their own (probes block on
/// sockets and processes, so a pool the size of the CPU count would serialise them, and a
/// thousand probes must not start a thousand threads and processes), and waits for all.
enum Parallel {
    /// Probes of one round that run at once.
    static let width = 16

    private final class Job {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    static func run(_ count: Int, width: Int = Parallel.width, _ body: @escaping @Sendable (Int) -> Void) {
        let next = Counter()
        let worker: @Sendable () -> Void = {
            while let index = next.take(below: count) { body(index) }
        }
        var threads: [pthread_t] = []
        for _ in 0..<min(count, max(1, width)) {
            let job = Unmanaged.passRetained(Job(worker)).toOpaque()
            var thread = pthread_t()
            let created = pthread_create(
                &thread, nil,
                { raw in
                    let job = Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue()
                    job.body()
                    return nil
                }, job)
            if created == 0 {
                threads.append(thread)
            } else {
                Unmanaged<Job>.fromOpaque(job).takeRetainedValue().body()
            }
        }
        for thread in threads { pthread_join(thread, nil) }
    }

    /// Hands out indices 0, 1, 2… to the workers.
    /// `@unchecked Sendable`: `value` is read and written under `lock` only.
    private final class Counter: @unchecked Sendable {
        private let lock = Mutex()
        private var value = 0

        func take(below limit: Int) -> Int? {
            lock.withLock {
                guard value < limit else { return nil }
                defer { value += 1 }
                return value
            }
        }
    }
}
