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
