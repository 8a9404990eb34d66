/// A gate or probe kind is one unit: a type that owns its options (keys,
/// types, defaults, docs), its decoding and its own lint checks, how the plan describes it, and
/// what a simulation scripts for it. Every layer reads these descriptions; none switches on kind
/// names. Its evaluation lives beside it in UpdateAgent (`Kinds/<Name>.swift` in each module);
/// docs/extending.md walks through adding one.
public protocol EntryKindDescription: Sendable {
    /// The entry's name, option table (with `name` and `timeout`) and scalar shorthand.
    static var entry: EntryKind { get }
    /// One sentence for the plan, with this entry's values.
    var summary: String { get }
    /// The options as the plan shows them; the planner adds `timeout`.
    var parameters: [Parameter] { get }
    /// Commands the entry runs (lint checks their shell use, `--on-host` their programs).
    var commands: [Located<[String]>] { get }
    /// Whether it asks the Kubernetes cluster (`--on-host` checks that kubectl is there).
    static var usesKubernetes: Bool { get }
    /// Files the entry reads (certificates, an id file): `--on-host` checks they can be read.
    var files: [Located<String>] { get }
    /// Scenario facts (`simulate`, `facts:`) the kind reads; the agent side turns them into what
    /// the simulated node answers.
    static var facts: [Key] { get }
    /// Lint rules of its own, with their documentation.
    static var rules: [Rule] { get }
    /// What changed from `old` to this entry, as what the node does differently; `covered` names
    /// the parameters those messages explain, which the plain parameter diff then skips.
    func changes(from old: Self, step: String) -> (messages: [String], covered: Set<String>)
}

extension EntryKindDescription {
    public var commands: [Located<[String]>] { [] }
    public static var usesKubernetes: Bool { false }
    public var files: [Located<String>] { [] }
    public static var facts: [Key] { [] }
    public static var rules: [Rule] { [] }
    public func changes(from old: Self, step: String) -> (messages: [String], covered: Set<String>) { ([], []) }

    /// The kind's name as policies write it.
    public var kindName: String { Self.entry.name }
    /// Its type; unlike `type(of:)` of an existential, read in place without copying the value.
    var kindType: any EntryKindDescription.Type { Self.self }
}

/// Where a gate runs in the pipeline.
public enum GatePlacement: Sendable {
    /// With the other gates, before anything is downloaded.
    case beforeDownload
    /// After the release is downloaded, verified and staged, just before activation; what it
    /// takes (a fleet's reboot slot) is held across the reboot and given back when the node is
    /// steady again: after a committing verification, after a rollback, and at the start of any
    /// run that finds no update in flight.
    case heldAcrossReboot
}

/// A gate kind (`preflight:`).
public protocol GateKind: EntryKindDescription {
    /// Where it runs; `.beforeDownload` unless it says otherwise.
    static var placement: GatePlacement { get }
    /// For a gate held across the reboot: what giving it back does, for the plan.
    var releaseSummary: String? { get }
    /// `--force` skips it: it is about when and where an update may run, not about safety.
    static var skippedByForce: Bool { get }
    /// What a policy loses without it, for `plan --diff` (": downgrades are no longer refused").
    static var withoutIt: String? { get }
    /// It judges the release, not the moment: a release it stops is refused (recorded as a
    /// failed check, exit 1), not deferred to a later run.
    static var refuses: Bool { get }
    /// A gate about the time of day (a maintenance window): how the plan names the window that
    /// `updatectl agent` waits for instead of polling into it; nil for any other gate.
    var window: String? { get }
}

extension GateKind {
    public var window: String? { nil }
    public static var placement: GatePlacement { .beforeDownload }
    public var releaseSummary: String? { nil }
    public static var skippedByForce: Bool { false }
    public static var withoutIt: String? { nil }
    public static var refuses: Bool { false }
}

/// A probe kind (`healthcheck.probes:`).
public protocol ProbeKind: EntryKindDescription {}

/// The diff of two entries of whatever kinds they are: the kind's own account when both are of
/// the same kind, nothing otherwise.
public func kindChanges(
    _ old: any EntryKindDescription, _ new: any EntryKindDescription, step: String
)
    -> (messages: [String], covered: Set<String>)
{
    func compare<K: EntryKindDescription>(_ new: K) -> (messages: [String], covered: Set<String>) {
        guard let old = old as? K else { return ([], []) }
        return new.changes(from: old, step: step)
    }
    return compare(new)
}

// MARK: Decoding and checking (inside UpdatePolicy)

/// A gate or a probe, as a look-up by kind sees it.
protocol KindedEntry {
    /// The type of its kind value, read without copying the entry.
    var kindType: any EntryKindDescription.Type { get }
    /// Its kind value as `K`, when it is one.
    func kind<K: EntryKindDescription>(as type: K.Type) -> K?
}

extension Gate: KindedEntry {
    var kindType: any EntryKindDescription.Type { kind.kindType }
    func kind<K: EntryKindDescription>(as type: K.Type) -> K? { kind as? K }
}

extension Probe: KindedEntry {
    var kindType: any EntryKindDescription.Type { kind.kindType }
    func kind<K: EntryKindDescription>(as type: K.Type) -> K? { kind as? K }
}

extension Array where Element: KindedEntry {
    /// The positions of the entries of kind `K`, with their kind values. The others are neither
    /// copied nor cast: a policy may list tens of thousands, and every file is checked for each
    /// kind's shorthand.
    func entries<K: EntryKindDescription>(of type: K.Type) -> [(index: Int, kind: K)] {
        // Through the buffer: an array's subscript copies the element out, a buffer's reads it in place.
        withUnsafeBufferPointer { buffer in
            var found: [(index: Int, kind: K)] = []
            for index in buffer.indices where ObjectIdentifier(buffer[index].kindType) == ObjectIdentifier(type) {
                if let kind = buffer[index].kind(as: type) { found.append((index, kind)) }
            }
            return found
        }
    }

    /// Whether any entry is of the kind `type`.
    func contains(kindOf type: any EntryKindDescription.Type) -> Bool {
        withUnsafeBufferPointer { buffer in buffer.contains { ObjectIdentifier($0.kindType) == ObjectIdentifier(type) } }
    }
}

/// What decoding an entry may need beyond its own options.
struct KindContext {
    /// `data_dir`, the default of paths that write there.
    var dataDir: Located<String>
    /// The `updates:` mapping, for kinds that own a top-level shorthand (`healthcheck_url`).
    var updates: Fields
    var findings: [Finding] = []
    var names: NameAllocator
}

/// A gate kind as the decoder and the linter use it.
protocol DecodableGate: GateKind {
    /// The entry from its decoded options; nil when a required option did not decode (its
    /// finding is reported already).
    init?(_ options: Fields, _ context: inout KindContext)
    /// The entry decoded as this kind, boxed once as a gate kind. A requirement, so that each
    /// kind's is compiled for its own type (no generic metadata looked up per entry).
    static func gate(_ options: Fields, _ context: inout KindContext) -> (kind: any GateKind, isOff: Bool)?
    /// In the default gates (no `preflight:` key), at this place; nil when not.
    static var defaultOrder: Int? { get }
    /// How the default gates list it in the docs (`KIND: {options}`).
    static var defaultText: String { get }
    /// Present in every policy, first among the gates, unless listed or turned off (`isOff`).
    static var alwaysOn: Bool { get }
    /// The options turn the check off (`- KIND: false`): no gate runs, lint may warn.
    var isOff: Bool { get }
    /// Checks of the whole policy that this kind owns, run once (that the policy lacks it, say).
    static func checkPolicy(_ checks: inout CrossChecks)
    /// Gates the policy did not list that this kind adds from a top-level shorthand
    /// (`maintenance_window: "22:00-04:00"`); they run before the listed ones. `listed` are the
    /// gates written under `preflight:`.
    static func implicit(_ listed: [Gate], _ context: inout KindContext) -> [Gate]
    /// Whether the kind checks each of its entries (it is a `CheckedGate`): only those kinds'
    /// entries are handed to `check(entry:)`, as passing every entry costs a copy of it. Read, not
    /// found by a cast, which would search the conformance tables at every start.
    static var checksEntries: Bool { get }
    /// The kind's checks of an entry of its kind.
    static func check(entry gate: Gate, _ checks: inout CrossChecks)
}

/// A gate kind with checks that relate each of its entries to the rest of the policy. Only these
/// kinds' entries are cast and checked: a policy may list tens of thousands of entries.
protocol CheckedGate: DecodableGate {
    func check(_ gate: Gate, _ checks: inout CrossChecks)
}

extension CheckedGate {
    static var checksEntries: Bool { true }
    /// `check` of a gate whose kind is this type (a cast to the concrete type, not to a protocol).
    static func check(entry gate: Gate, _ checks: inout CrossChecks) { gate.kind(as: Self.self)?.check(gate, &checks) }
}

extension DecodableGate {
    static func gate(_ options: Fields, _ context: inout KindContext) -> (kind: any GateKind, isOff: Bool)? {
        Self(options, &context).map { ($0, $0.isOff) }
    }
    static var checksEntries: Bool { false }
    static func check(entry gate: Gate, _ checks: inout CrossChecks) {}

    static var defaultOrder: Int? { nil }
    static var defaultText: String { "\(entry.name): {}" }
    static var alwaysOn: Bool { false }
    var isOff: Bool { false }
    static func checkPolicy(_ checks: inout CrossChecks) {}
    static func implicit(_ listed: [Gate], _ context: inout KindContext) -> [Gate] { [] }
}

/// A gate in every policy, first among the gates, unless `- KIND: false` turns it off:
/// `no_downgrade` and the metadata gates (`channel`, `architecture`, `min_compatible_version`).
protocol SwitchedGate: DecodableGate {
    var enabled: Located<Bool> { get }
    init(enabled: Located<Bool>)
}

extension SwitchedGate {
    init?(_ options: Fields, _ context: inout KindContext) {
        self.init(enabled: options.boolean("enabled"))
    }

    static var alwaysOn: Bool { true }
    static var defaultText: String { "\(entry.name): true" }
    var isOff: Bool { !enabled.value }

    /// Its one option, set by the scalar form (`- KIND: false`).
    static func enabledKey(_ whenOff: String) -> Key { Key("enabled", .boolean, default: "true", whenOff) }
}

/// A probe kind as the decoder and the linter use it.
protocol DecodableProbe: ProbeKind {
    init?(_ options: Fields, _ context: inout KindContext)
    /// The entry decoded as this kind, boxed once as a probe kind (a requirement, as `gate` is).
    static func probe(_ options: Fields, _ context: inout KindContext) -> (any ProbeKind)?
    /// Whether the kind checks each of its entries (it is a `CheckedProbe`), and those checks.
    static var checksEntries: Bool { get }
    static func check(entry probe: Probe, _ checks: inout CrossChecks)
    /// Probes the policy did not list that this kind adds: its shorthand (`healthcheck_url`) or
    /// an always-on probe (one on data_dir). `listed` are the probes so far.
    static func implicit(_ listed: [Probe], _ context: inout KindContext) -> [Probe]
    /// When its implicit probes are added, relative to other kinds' (lower first).
    static var implicitOrder: Int { get }
}

extension DecodableProbe {
    static func probe(_ options: Fields, _ context: inout KindContext) -> (any ProbeKind)? { Self(options, &context) }
    static func implicit(_ listed: [Probe], _ context: inout KindContext) -> [Probe] { [] }
    static var implicitOrder: Int { 0 }
    static var checksEntries: Bool { false }
    static func check(entry probe: Probe, _ checks: inout CrossChecks) {}
}

/// A probe kind with checks that relate each of its entries to the rest of the policy.
protocol CheckedProbe: DecodableProbe {
    func check(_ probe: Probe, _ checks: inout CrossChecks)
}

extension CheckedProbe {
    static var checksEntries: Bool { true }
    /// `check` of a probe whose kind is this type (a cast to the concrete type, not to a protocol).
    static func check(entry probe: Probe, _ checks: inout CrossChecks) { probe.kind(as: Self.self)?.check(probe, &checks) }
}

extension Key {
    /// The scenario fact of the kinds that place a node among the fleet by its machine id
    /// (`rollout`, `rollout_wave`).
    public static let machineIDFact = Key(
        "machine_id", .string(nil), default: "simulated-machine", "The machine id the rollout gates hash.")
}

extension EntryKind {
    /// A gate's entry: its options plus `name` and `timeout`.
    static func gate(
        _ name: String, example: String, timeout: String, scalarKey: String? = nil, _ summary: String,
        _ keys: [Key], type: any EntryKindDescription.Type
    ) -> EntryKind {
        EntryKind(
            name, scalarKey: scalarKey,
            Table(
                "\(name) gate", summary: summary, example: "preflight:\n  " + example,
                keys + common("gate", timeout: timeout)), type: type)
    }

    /// A probe's entry: its options plus `name` and `timeout`.
    static func probe(
        _ name: String, example: String, timeout: String, _ summary: String, _ keys: [Key],
        type: any EntryKindDescription.Type
    ) -> EntryKind {
        EntryKind(
            name,
            Table(
                "\(name) probe", summary: summary, example: "healthcheck:\n  probes:\n    " + example,
                keys + common("probe", timeout: timeout)), type: type)
    }

    private static func common(_ noun: String, timeout: String) -> [Key] {
        [
            Key(
                "name", .string(PolicySchema.nameRule), default: "the kind",
                "Unique name of the \(noun) in plans, logs and "
                    + "`status`; a second unnamed \(noun) of a kind gets `-2`, and so on."),
            Key("timeout", .duration, default: timeout, "How long the \(noun) may take before it counts as failed."),
        ]
    }
}
