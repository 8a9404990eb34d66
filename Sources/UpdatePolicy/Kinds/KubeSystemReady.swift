import YAMLTree

/// `kube_system_ready`: every kube-system pod has held Running for the settle time.
/// `kube_system_settle` is its shorthand; it runs by default.
public struct KubeSystemReadyProbe: CheckedProbe {
    public var settle: Located<Duration>

    public static let entry = EntryKind.probe(
        "kube_system_ready", example: #"- kube_system_ready: {settle: 60s, timeout: 20s}"#, timeout: "30s",
        "Passes when every kube-system pod has been Running for at least `settle` (kubectl). With no cluster reachable it "
            + "passes and says so.",
        [
            Key("settle", .duration, default: "30s", "How long every pod must have held Running.")
        ], type: KubeSystemReadyProbe.self)

    init?(_ options: Fields, _ context: inout KindContext) {
        settle = options.duration("settle")
    }

    init(settle: Located<Duration>) { self.settle = settle }

    public var summary: String {
        "every kube-system pod Running for ≥ \(DurationText.format(settle.value)) (kubectl; an API server that does not "
            + "answer fails; no kubectl and no kubeconfig = pass)"
    }

    public var parameters: [Parameter] { [Parameter("settle", .duration(settle.value), settle.origin)] }
    public static let usesKubernetes = true
    public static let facts = [
        Key("kubernetes", .choice(["absent", "present"]), default: "absent", "Whether kubectl reaches a cluster.")
    ]

    static let implicitOrder = 2

    /// `kube_system_settle` (default 30s) adds the probe unless one is listed; written and
    /// different from a listed probe's settle, it is the same probe configured two ways (UPD207).
    static func implicit(_ listed: [Probe], _ context: inout KindContext) -> [Probe] {
        let settle = context.updates.duration("kube_system_settle")
        let explicit = listed.entries(of: KubeSystemReadyProbe.self).map(\.kind.settle)
        let defaults = Fields(mapping: DecodedMapping(node: context.updates.mapping.node), table: entry.table)
        func probe(_ source: EntrySource) -> [Probe] {
            [
                Probe(
                    name: Located(context.names.derive(entry.name), .defaulted), kind: KubeSystemReadyProbe(settle: settle),
                    timeout: defaults.duration("timeout"), source: source)
            ]
        }
        switch settle.origin {
        case .invalid:
            return []
        case .file, .flag:
            // From update.conf or the command line: a probe the policy lists keeps its own settle.
            guard explicit.isEmpty else { return [] }
            return settle.value > .zero ? probe(.shorthand(key: "kube_system_settle", settle.origin)) : []
        case .policy(let mark):
            if explicit.isEmpty {
                return settle.value > .zero ? probe(.shorthand(key: "kube_system_settle", settle.origin)) : []
            }
            if let other = explicit.first(where: { $0.value != settle.value }) {
                let said = settle.value == .zero ? "turns the kube-system probe off" : "is \(DurationText.format(settle.value))"
                context.findings.append(
                    Finding(
                        .shorthandConflict,
                        "`kube_system_settle` \(said), but the `kube_system_ready` probe's settle is \(DurationText.format(other.value))",
                        start: mark, end: context.updates.mapping["kube_system_settle"]?.end,
                        help: "keep one: the shorthand or the probe under `healthcheck.probes`",
                        notes: other.origin.mark.map { [Finding.Note(message: "the probe's settle", mark: $0)] }
                            ?? [Finding.Note(message: "the probe, with the default settle of 30s", mark: mark)]))
            }
            return []
        case .defaulted:
            return explicit.isEmpty ? probe(.defaulted) : []
        }
    }

    /// The pods start about when verification does: a settle as long as the run cannot pass.
    func check(_ probe: Probe, _ checks: inout CrossChecks) {
        let timeout = checks.policy.healthcheck.timeout
        guard !timeout.origin.isInvalid, !settle.origin.isInvalid, settle.value >= timeout.value else { return }
        let place: Mark
        if let mark = settle.origin.mark {
            place = mark
        } else if let mark = probe.source.mark {
            place = mark
        } else {
            place = timeout.origin.mark ?? checks.anchor.start
        }
        checks.findings.append(
            Finding(
                .settleNotUnderTimeout,
                "kube-system pods must hold Running for \(checks.format(settle.value))\(checks.said(settle.origin)), but a "
                    + "verification run ends after \(checks.format(timeout.value))\(checks.said(timeout.origin)): after a reboot the "
                    + "pods start about when verification does, so the probe cannot pass before the deadline",
                start: place, end: settle.origin.mark == place ? checks.end(of: place) : nil,
                help: "lengthen healthcheck.timeout or shorten the settle"))
    }
}
