/// Policy fragments for the rule catalog and the docs that need some gate or probe (one with an
/// option of a value type, a time zone, a day list, an address): made from the kinds' own tables,
/// so the catalog names no kind.
enum RuleExamples {
    /// `updates: preflight: - KIND: {…}` with the first gate kind that has an option of the wanted
    /// type (a probe under `healthcheck.probes` when no gate has one): its required options set to
    /// plain samples and that option written as `bad`.
    static func gate(withOptionOf wanted: (ValueKind) -> Bool, written bad: String) -> String {
        let kinds: [any EntryKindDescription.Type] = PolicyKinds.gates as [any EntryKindDescription.Type] + PolicyKinds.probes
        guard let kind = kinds.first(where: { $0.entry.table.keys.contains { wanted($0.kind) } }) else {
            return "updates: {}"
        }
        var options: [String] = []
        var placed = false
        for key in kind.entry.table.keys {
            if !placed, wanted(key.kind) {
                options.append("\(key.name): \(bad)")
                placed = true
            } else if key.required {
                options.append("\(key.name): \(sample(key))")
            }
        }
        let place = kind is any GateKind.Type ? "updates:\n  preflight:\n" : "updates:\n  healthcheck:\n    probes:\n"
        let indent = kind is any GateKind.Type ? "    " : "      "
        return place + indent + "- \(kind.entry.name): {\(options.joined(separator: ", "))}"
    }

    /// `- KIND: {…}` for the first probe kind: `extra` options (`name: api`) and its required
    /// options as plain samples.
    static func probe(_ extra: String...) -> String {
        probe(at: 0, extra)
    }

    /// The same for the probe kind at `index` (wrapping), so two entries can differ in kind.
    static func probe(at index: Int, _ extra: [String]) -> String {
        let kinds = PolicyKinds.decodableProbes.filter { $0.entry.table.keys.contains { $0.required } }
        guard !kinds.isEmpty else { return "- KIND: {}" }
        let kind = kinds[index % kinds.count]
        let options = extra + kind.entry.table.keys.filter(\.required).map { "\($0.name): \(sample($0))" }
        return "- \(kind.entry.name): {\(options.joined(separator: ", "))}"
    }

    /// `- KIND: {}` for the first probe kind with a required option.
    static var probeMissingItsOption: String {
        PolicyKinds.decodableProbes.first { $0.entry.table.keys.contains { $0.required } }.map { "- \($0.entry.name): {}" }
            ?? "- KIND: {}"
    }

    private static func sample(_ key: Key) -> String {
        switch key.kind {
        case .timeOfDay: key.name == "end" ? "\"04:00\"" : "\"01:00\""
        case .integer(let min, _): String(Swift.max(min, 3))
        case .percentage: "50"
        case .command: "[/bin/true]"
        case .hostPort: "\"127.0.0.1:6443\""
        case .url(let schemes): schemes.contains("http") ? "\"http://127.0.0.1:8080/healthz\"" : "\(schemes[0])://u.example.com"
        default: "x"
        }
    }

    /// How the default gates write the first of them (`- KIND: {options}`).
    static var defaultGate: String {
        PolicyKinds.decodableGates.compactMap { kind in kind.defaultOrder.map { ($0, kind.defaultText) } }
            .min { $0.0 < $1.0 }.map { "- \($0.1)" } ?? "- KIND: {}"
    }

    /// The first probe kind's own documented example (`- KIND: {…}`).
    static var probeExample: String {
        PolicyKinds.decodableProbes.first.map { kindExample($0.entry) } ?? "- KIND: {}"
    }

    private static func kindExample(_ entry: EntryKind) -> String {
        let example = entry.table.example ?? ""
        return example.split(separator: "\n").last.map { String($0.drop { $0 == " " }) } ?? "- \(entry.name): {}"
    }
}
