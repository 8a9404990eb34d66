public import UpdatePolicy

#if canImport(Glibc)
import Glibc
#endif

/// What one probe found.
public struct ProbeResult: Sendable {
    public var name: String
    public var passed: Bool
    public var detail: String
    public var duration: Duration

    public init(name: String, passed: Bool, detail: String, duration: Duration) {
        self.name = name
        self.passed = passed
        self.detail = detail
        self.duration = duration
    }
}

/// Runs probe rounds. `Probes` is the real one; `simulate` scripts the outcomes.
public protocol ProbeRunner: Sendable {
    /// One round: every probe at once. Returns the results in probe order and how long the round took.
    func round(_ probes: [Probe], variables: [String: String]) -> (results: [ProbeResult], duration: Duration)
}

/// Runs health probes, each by its own kind (`Kinds/`) under its own timeout.
public struct Probes: ProbeRunner {
    public let environment: CheckEnvironment

    public init(_ environment: CheckEnvironment) { self.environment = environment }

    public func round(_ probes: [Probe], variables: [String: String]) -> (results: [ProbeResult], duration: Duration) {
        let begun = Monotonic.now()
        let results = Slots<ProbeResult>(count: probes.count)
        let copy = self
        Parallel.run(probes.count) { index in
            results.set(index, copy.run(probes[index], variables: variables))
        }
        return (results.values, .nanoseconds(Int64(Monotonic.now() - begun)))
    }

    public func run(_ probe: Probe, variables: [String: String]) -> ProbeResult {
        let started = Monotonic.now()
        let (passed, detail) =
            (probe.kind as? any ProbeEvaluating)?.evaluate(probe, variables: variables, environment)
            ?? (false, "updatectl cannot evaluate a `\(probe.kind.kindName)` probe")
        let elapsed = Duration.nanoseconds(Int64(Monotonic.now() - started))
        return ProbeResult(name: probe.name.value, passed: passed, detail: detail, duration: elapsed)
    }
}
