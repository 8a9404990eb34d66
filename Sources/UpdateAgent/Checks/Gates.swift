public import UpdatePolicy

/// What a gate decided.
public enum GateOutcome: Sendable, Equatable {
    case pass(String)
    /// Defers the run, with a reason a person understands.
    case block(String)
    /// The gate could not decide; the attempt fails.
    case error(String)
    /// The release is not for this node (another channel or architecture, too old a starting
    /// version): recorded as failed, before any download.
    case refuse(String)
    /// Not evaluated, which lets the run go on: `--force` skipped it, or it had nothing to ask
    /// (`node_not_blocked` with no cluster, `when_unreachable: pass`).
    case skipped(String)
}

/// What gates need to know about the run.
public struct GateInput: Sendable {
    public var offered: ReleaseMetadata
    public var runningVersion: String
    /// The version last verified and committed, when known.
    public var committedVersion: String?
    public var state: UpdateState
    /// The directory the image is written in (where the free-space check measures by default).
    public var imageDirectory: String
    public var force: Bool
    public var channel: String
    public var dataDir: String
    /// Room where the passive slot's files go (the release's file names given), when the backend
    /// measures it itself (a partition that is not mounted); nil: measure `imageDirectory`.
    public var passiveSpace: @Sendable ([String]) throws -> SlotSpace? = { _ in nil }
    /// A dry run: nothing may be taken or changed (a fleet lock is only looked at).
    public var dryRun = false
    /// `--skip-fleet-lock`: activate without a fleet reboot slot.
    public var skipFleetLock = false

    public init(
        offered: ReleaseMetadata, runningVersion: String, committedVersion: String?, state: UpdateState,
        imageDirectory: String, force: Bool, channel: String, dataDir: String
    ) {
        self.offered = offered
        self.runningVersion = runningVersion
        self.committedVersion = committedVersion
        self.state = state
        self.imageDirectory = imageDirectory
        self.force = force
        self.channel = channel
        self.dataDir = dataDir
    }

    /// The values `${VERSION}`, `${FROM_VERSION}`, `${CHANNEL}` and `${DATA_DIR}` stand for.
    var variables: [String: String] {
        ["VERSION": offered.version, "FROM_VERSION": runningVersion, "CHANNEL": channel, "DATA_DIR": dataDir]
    }
}

/// Decides gates. `Gates` is the real one; `simulate` scripts the answers.
public protocol GateEvaluator: Sendable {
    func evaluate(_ gate: Gate, _ input: GateInput) -> GateOutcome
}

/// Evaluates pre-flight gates: each by its own kind (`Kinds/`).
public struct Gates: GateEvaluator {
    public let environment: CheckEnvironment

    public init(_ environment: CheckEnvironment) { self.environment = environment }

    public func evaluate(_ gate: Gate, _ input: GateInput) -> GateOutcome {
        if input.force, type(of: gate.kind).skippedByForce { return .skipped("skipped by --force") }
        guard let kind = gate.kind as? any GateEvaluating else {
            return .error("updatectl cannot evaluate a `\(gate.kind.kindName)` gate")
        }
        return kind.evaluate(gate, input, environment)
    }
}

public enum ByteText {
    /// 1.0 GiB, 812 MiB, 4 KiB, 17 B.
    public static func show(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        return (value >= 100 ? String(Int(value.rounded())) : String(format1: value)) + " " + units[unit]
    }
}

enum PercentText {
    static func show(_ value: Double) -> String {
        (value == value.rounded() ? String(Int(value)) : String(value)) + "%"
    }
}

extension String {
    /// One decimal place.
    init(format1 value: Double) {
        let tenths = Int((value * 10).rounded())
        self = "\(tenths / 10).\(tenths % 10)"
    }

    /// Two decimal places.
    init(format2 value: Double) {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        self = "\(hundredths / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }

    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return String(self[..<range.lowerBound]) + replacement + String(self[range.upperBound...])
    }
}
