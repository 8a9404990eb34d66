/// Every gate and probe kind, in the order the docs, the schema and the default gates list them.
/// A new kind is one line here (a test fails naming any kind file that is missing).
public enum PolicyKinds {
    static let decodableGates: [any DecodableGate.Type] = [
        ChannelGate.self, ArchitectureGate.self, MinCompatibleVersionGate.self,
        FreeSpaceGate.self, NodeNotBlockedGate.self, MaintenanceWindowGate.self, MaxAttemptsGate.self, NoDowngradeGate.self,
        RolloutGate.self, RolloutWaveGate.self, ExecGate.self, HTTPGate.self, FleetLockGate.self,
    ]

    static let decodableProbes: [any DecodableProbe.Type] = [
        HTTPProbe.self, TCPProbe.self, ExecProbe.self, DiskWritableProbe.self, KubeSystemReadyProbe.self,
    ]

    /// The decoder's view of a kind by its type: looked up, not cast (a cast to a protocol
    /// existential searches the conformance tables, and every entry of every file needs one).
    private static let gateByType = Dictionary(uniqueKeysWithValues: decodableGates.map { (ObjectIdentifier($0), $0) })
    private static let probeByType = Dictionary(uniqueKeysWithValues: decodableProbes.map { (ObjectIdentifier($0), $0) })

    /// The kinds with checks of each entry, by type.
    private static let checkedGateByType = gateByType.filter { $0.value.checksEntries }
    private static let checkedProbeByType = probeByType.filter { $0.value.checksEntries }

    static func checkedGate(_ type: any EntryKindDescription.Type) -> (any DecodableGate.Type)? {
        checkedGateByType[ObjectIdentifier(type)]
    }

    static func checkedProbe(_ type: any EntryKindDescription.Type) -> (any DecodableProbe.Type)? {
        checkedProbeByType[ObjectIdentifier(type)]
    }

    static func decodableGate(_ type: any EntryKindDescription.Type) -> (any DecodableGate.Type)? {
        gateByType[ObjectIdentifier(type)]
    }

    static func decodableProbe(_ type: any EntryKindDescription.Type) -> (any DecodableProbe.Type)? {
        probeByType[ObjectIdentifier(type)]
    }

    /// Upcast element by element, once: an array cast would ask the runtime's conformance tables
    /// for each type at every use.
    public static let gates: [any GateKind.Type] = decodableGates.map { $0 }
    public static let probes: [any ProbeKind.Type] = decodableProbes.map { $0 }

    /// Rules the kinds own.
    static var rules: [Rule] { decodableGates.flatMap { $0.rules } + decodableProbes.flatMap { $0.rules } }

    /// The facts scenarios may script, each once.
    static var facts: [Key] {
        var seen = Set<String>()
        return (decodableGates.flatMap { $0.facts } + decodableProbes.flatMap { $0.facts }).filter { seen.insert($0.name).inserted }
    }

    /// The gates `--force` skips, as the help text names them.
    public static var skippedByForce: [String] { decodableGates.filter { $0.skippedByForce }.map { $0.entry.name } }
    public static var notSkippedByForce: [String] { decodableGates.filter { !$0.skippedByForce }.map { $0.entry.name } }
}
