#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock time for timestamps in the state file; tests and `simulate` inject their own.
public protocol WallClock: Sendable {
    func now() -> Timestamp
}

public struct SystemWallClock: WallClock {
    public init() {}

    public func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(seconds: Int64(spec.tv_sec), nanoseconds: Int32(spec.tv_nsec))
    }
}

/// A clock that says what it is told: wall time and, for `RunClock`, virtual monotonic time.
/// `@unchecked Sendable`: `current` and `elapsed` are read and written under `lock` only.
public final class FixedWallClock: WallClock, @unchecked Sendable {
    private let lock = Mutex()
    private var current: Timestamp
    private var elapsed: Duration = .zero

    public init(_ start: Timestamp) { current = start }

    public func now() -> Timestamp { lock.withLock { current } }

    /// Virtual monotonic time: what `advance` added up, unaffected by `step`.
    public func instant() -> Duration { lock.withLock { elapsed } }

    /// Time passes: both clocks move on.
    public func advance(by duration: Duration) {
        lock.withLock {
            current = current + duration
            elapsed += duration
        }
    }

    /// The wall clock is set (an NTP step, an operator's `date -s`): only wall time jumps.
    public func step(by duration: Duration) { lock.withLock { current = current + duration } }
}
