import YAMLTree

/// Values from outside the YAML policy that stand under it (KubeSolo OS's update.conf) or over it
/// (the command line's flags). Precedence: flags, then the YAML policy, then update.conf, then the
/// defaults; every value keeps where it came from, and `plan` shows it.
public struct PolicyLayer: Sendable {
    /// Where a layer's values come from.
    public enum Source: Sendable, Hashable {
        /// A file other than the policy (update.conf), by its path.
        case file(String)
        /// The command line.
        case flags

        /// Above the YAML policy (flags) or below it (update.conf).
        public var isAbove: Bool { self == .flags }
    }

    public var source: Source
    /// Values decoded against the `updates:` key table.
    public var mapping: DecodedMapping
    /// What decoding it found, with marks in its own file (none for flags).
    public var findings: [Finding]

    public init(source: Source, mapping: DecodedMapping, findings: [Finding]) {
        self.source = source
        self.mapping = mapping
        self.findings = findings
    }

    /// The command line's values (`--server URL`…), by policy key, decoded like the policy's.
    /// Findings name the flag (`--auto-rollback-after`) in their message.
    public static func flags(_ values: [(key: String, text: String)], timeZones: any TimeZoneDatabase) -> PolicyLayer {
        var decoder = PolicyDecoder(timeZones: timeZones)
        let origin = Mark(line: 1, column: 1, offset: 0)
        var mapping = DecodedMapping(node: Node.emptyMapping(at: origin))
        for (key, text) in values {
            guard let tableKey = PolicySchema.updates.key(key) else { continue }
            let style: ScalarStyle =
                switch tableKey.kind {
                case .integer, .duration, .boolean, .percentage, .rate: .plain
                default: .doubleQuoted
                }
            let node = Node(.scalar(Scalar(text, style: style)), start: origin, end: origin)
            if let decoded = decoder.decodeValue(node, tableKey.kind, key: flagName(key), place: "the command line") {
                mapping.fields[key] = DecodedField(value: decoded, node: node, source: .flags)
            }
        }
        return PolicyLayer(source: .flags, mapping: mapping, findings: decoder.findings)
    }

    /// `auto_rollback_after` → `--auto-rollback-after`.
    public static func flagName(_ key: String) -> String { "--" + key.replacingOccurrences(of: "_", with: "-") }

    /// `mapping` (the YAML policy's `updates:`) with the layers' values: a layer below fills only
    /// keys the policy leaves out (a second spelling, `pubkey` for `public_key`, counts as the
    /// same key); a layer above replaces them.
    static func merge(_ mapping: DecodedMapping, _ layers: [PolicyLayer]) -> DecodedMapping {
        var merged = mapping
        func spellings(_ key: String) -> [String] {
            let table = PolicySchema.updates
            return [key] + table.keys.filter { $0.insteadOf == key }.map(\.name) + (table.key(key)?.insteadOf.map { [$0] } ?? [])
        }
        for layer in layers.filter({ !$0.source.isAbove }) {
            for key in layer.mapping.fields.keys {
                let taken = spellings(key).contains { merged.fields[$0] != nil || merged.invalid[$0] != nil }
                if !taken { merged.fields[key] = layer.mapping.fields[key] }
            }
        }
        for layer in layers.filter(\.source.isAbove) {
            for key in layer.mapping.fields.keys {
                for other in spellings(key) where other != key { merged.fields[other] = nil }
                merged.fields[key] = layer.mapping.fields[key]
                merged.invalid[key] = nil
            }
        }
        return merged
    }
}
