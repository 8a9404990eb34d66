import JSONValue
import UpdatePolicy

/// What a fleet lock engine answered.
public enum FleetAnswer: Sendable, Equatable {
    /// Granted, or given back; with what happened ("slot 1 of 2", "held none").
    case done(String)
    /// No slot now (the group is full, the server said no), with why.
    case refused(String)
    /// The engine did not answer usefully; nothing is known to have changed.
    case unreachable(String)
}

/// A group's slots and who holds them.
public struct FleetSnapshot: Sendable, Equatable {
    public var totalSlots: Int
    /// Sorted, as Airlock keeps them.
    public var holders: [String]
    /// False: the semaphore does not exist yet (it is created on first use, with these slots).
    public var exists = true

    public init(totalSlots: Int, holders: [String]) {
        self.totalSlots = totalSlots
        self.holders = holders
    }

    /// "the 1 reboot slot of group G is held, by a" / "all 3 reboot slots of group G are held, by a, b, c".
    static func full(total: Int, holders: [String], group: String) -> String {
        if total == 0 { return "group \(group) has no reboot slots (its semaphore's total_slots is 0)" }
        return (total == 1 ? "the 1 reboot slot of group \(group) is" : "all \(total) reboot slots of group \(group) are")
            + " held, by " + holders.joined(separator: ", ")
    }
}

/// Where a fleet lock lives and how to reach it: the gate's options, resolved.
public struct FleetEngineSpec: Sendable {
    public enum Engine: String, Sendable {
        case fleetlock, etcd
    }

    public var engine: Engine
    /// The FleetLock base URL, or etcd's endpoints.
    public var urls: [String]
    public var group: String
    /// etcd: `total_slots` of a semaphore updatectl creates.
    public var slots: Int
    public var tls: TLSFiles
    /// Of each operation (taking, giving back, reading) as a whole: every endpoint and every retry
    /// comes out of it.
    public var timeout: Duration

    public init(engine: Engine, urls: [String], group: String, slots: Int, tls: TLSFiles, timeout: Duration) {
        self.engine = engine
        self.urls = urls
        self.group = group
        self.slots = slots
        self.tls = tls
        self.timeout = timeout
    }
}

/// What is left of one operation's `timeout`, on the monotonic clock: the requests an operation
/// makes (each endpoint in turn, each compare-and-swap retried) share it, so that hung endpoints
/// cannot stretch a gate past its `timeout`.
struct FleetDeadline {
    let total: Duration
    private let end: UInt64

    init(_ total: Duration) {
        self.total = total
        end = Monotonic.now() &+ Monotonic.nanoseconds(total)
    }

    /// The time left; nil once less than a millisecond is (a request's timeout of 0 means none).
    var left: Duration? {
        let now = Monotonic.now()
        guard end > now, end - now >= 1_000_000 else { return nil }
        return .nanoseconds(Int64(end - now))
    }
}

/// One group's reboot semaphore, whichever engine keeps it. Every operation is for one node id
/// and is recursive: locking a held slot and giving back one not held both succeed.
public protocol FleetEngine: Sendable {
    func lock(id: String) -> FleetAnswer
    func unlock(id: String) -> FleetAnswer
    /// The slots and holders, when the engine can say (etcd can; the FleetLock protocol has no
    /// request for it: nil).
    func snapshot() throws(FleetError) -> FleetSnapshot?
}

/// Makes the engine a gate names: the real ones, or a simulation's.
public protocol FleetEngines: Sendable {
    func engine(_ spec: FleetEngineSpec) -> any FleetEngine
    /// This node's identity, from the one the policy and the machine give (a simulation stands
    /// in for a machine id it does not have).
    func identity(_ derived: Result<String, FleetError>) -> Result<String, FleetError>
}

extension FleetEngines {
    public func identity(_ derived: Result<String, FleetError>) -> Result<String, FleetError> { derived }
}

public struct FleetError: Error, Sendable, CustomStringConvertible {
    public var description: String
    /// The engine did not answer (as opposed to answering something updatectl cannot use).
    public var unreachable: Bool

    public init(_ description: String, unreachable: Bool = false) {
        self.description = description
        self.unreachable = unreachable
    }
}

/// The engines over HTTP: a FleetLock server, or etcd's JSON gateway.
public struct RealFleetEngines: FleetEngines {
    public let transport: any Transport

    public init(transport: any Transport) { self.transport = transport }

    public func engine(_ spec: FleetEngineSpec) -> any FleetEngine {
        switch spec.engine {
        case .fleetlock: FleetLockClient(spec: spec, transport: transport)
        case .etcd: EtcdSemaphore(spec: spec, transport: transport)
        }
    }
}
