#if canImport(Glibc)
import Glibc
#endif

/// The clock a run waits on: settle times, probe intervals and the verification deadline go
/// through it, so tests and `simulate` run on virtual time instead of sleeping.
///
/// Durations are measured on `instant()`, a monotonic clock (CLOCK_MONOTONIC), so an NTP step
/// right after boot neither ends a verification at once nor stretches it; `now()` (the wall
/// clock) is only for timestamps, maintenance windows and comparisons with other machines' times.
public protocol RunClock: WallClock {
    /// Monotonic time since an arbitrary start.
    func instant() -> Duration
    func sleep(for duration: Duration)
    /// Work that took `elapsed` of real time happened: virtual clocks move on by it, so that a
    /// deadline is reached even when nothing sleeps.
    func account(elapsed: Duration)
}

public struct SystemRunClock: RunClock {
    public init() {}

    public func now() -> Timestamp { SystemWallClock().now() }

    public func instant() -> Duration { .nanoseconds(Int64(Monotonic.now())) }

    public func account(elapsed: Duration) {}

    public func sleep(for duration: Duration) {
        let (seconds, attoseconds) = duration.components
        guard seconds > 0 || attoseconds > 0 else { return }
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0, errno == EINTR { request = remaining }
    }
}

extension FixedWallClock: RunClock {
    /// Virtual time: a sleep moves the clock on at once.
    public func sleep(for duration: Duration) { advance(by: duration) }

    public func account(elapsed: Duration) { advance(by: max(elapsed, .milliseconds(1))) }
}

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
            let created = pthread_create(&thread, nil, { raw in
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
