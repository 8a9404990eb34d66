import YAMLTree

/// A decoded scenario.
public struct Scenario: Sendable {
    public var file: String
    public var description: String?
    public var start: String
    public var runningVersion: String
    public var releaseVersion: String
    /// `kubesolo` (vmlinuz and initramfs) or `image`.
    public var releaseFormat: String
    public var releaseChannel: String?
    public var releaseArchitecture: String?
    public var releaseMinCompatibleVersion: String?
    public var signature: String
    public var expires: String?
    /// The release's rollout wave, as `latest.json` writes it (`{"start": …}`); nil: none.
    public var rollout: String?
    public var downloadOutcome: String
    public var downloadDuration: Duration
    /// Times the link drops during the last file, each after an equal part of it.
    public var downloadDrops = 0
    /// How long the server answers 503 to the last file, from its first request.
    public var downloadUnavailableFor = Duration.zero
    /// What the kinds find on the node, by fact name (`ScenarioSchema.facts`).
    public var facts: ScenarioFacts
    public var gates: [String: String]
    public var boot: String
    public var rebootAfter: Duration
    public var probes: [String: [ProbeScript]]
    /// How each hook point's commands end: `pass`, `fail` or `hang`, by hook point.
    public var hooks: [HookPoint: String] = [:]
    public var runs: Int
    /// Time between runs when the scenario overrides the node's schedule; nil: the policy's
    /// (`healthcheck.retry_every` between verification runs, `agent.check_every` and half the
    /// jitter between update checks), as `updatectl agent` runs them.
    public var runEvery: Duration?
    public var expectedOutcome: String?
    public var expectedRuns: Int?
    public var expectedWithin: Duration?
}

/// Reads and checks a scenario file as a policy is linted: every finding at its line and column.
public enum ScenarioLinter {
    /// With `policy`, the gate and probe names the scenario scripts are checked against it too.
    public static func lint(_ bytes: [UInt8], file: String, policy: Policy? = nil) -> (scenario: Scenario?, result: LintResult) {
        let document = YAMLParser.parse(bytes)
        var findings = document.problems.map(PolicyLinter.finding(for:))
        var scenario: Scenario?
        if let root = document.root {
            if let pair = root.mapping?.first(where: { $0.key.scalar?.value == "scenario" }), pair.value.mapping != nil {
                // Scenarios name no time zones.
                var decoder = PolicyDecoder(timeZones: TimeZoneNames.unchecked)
                let decoded = decoder.decodeTable(pair.value, ScenarioSchema.scenario, place: "scenario")
                _ = decoder.checkRequired(decoded, ScenarioSchema.scenario, place: "the scenario", anchor: pair.key)
                scenario = build(decoded, file: file, decoder: &decoder)
                findings += decoder.findings
                if let policy { findings += unknownNames(decoded, in: policy) + unusedFacts(decoded, in: policy) }
            } else {
                findings.append(Finding(.noScenario, start: root.start))
            }
        }
        var suppressions = Suppressions(source: document.source)
        findings = suppressions.apply(to: findings)
        findings.sort { ($0.start.offset, $0.rule) < ($1.start.offset, $1.rule) }
        let result = LintResult(file: file, findings: findings, policy: nil, source: document.source)
        return (result.errorCount == 0 ? scenario : nil, result)
    }

    /// Gate and probe names the scenario scripts that the policy has no step for: their answers
    /// would never be asked for, and the scenario would test nothing.
    private static func unknownNames(_ decoded: DecodedMapping, in policy: Policy) -> [Finding] {
        let scripted: [(key: String, noun: String, names: [String], off: [String])] = [
            ("gates", "gate", policy.preflight.map(\.name.value), policy.disabledGates.map(\.name.value)),
            ("probes", "probe", policy.healthcheck.probes.map(\.name.value), []),
        ]
        var findings: [Finding] = []
        for (key, noun, names, off) in scripted {
            guard case .dictionary(let entries)? = decoded[key]?.value else { continue }
            for entry in entries where !names.contains(entry.key) {
                let message = Message.unknownScenarioName(
                    entry.key, noun: noun, policy: policy.file, guess: Suggestions.closest(to: entry.key, in: names),
                    turnedOff: off.contains(entry.key), names: names)
                findings.append(Finding(message, at: entry.keyNode))
            }
        }
        return findings
    }

    /// Facts the scenario scripts that no gate or probe of the policy reads (a `fleet_lock` answer
    /// for a policy without a fleet lock): they would never be asked for either.
    private static func unusedFacts(_ decoded: DecodedMapping, in policy: Policy) -> [Finding] {
        guard case .mapping(let facts)? = decoded["facts"]?.value else { return [] }
        let present = Set(
            policy.preflight.map { ObjectIdentifier(type(of: $0.kind)) }
                + policy.healthcheck.probes.map { ObjectIdentifier(type(of: $0.kind)) })
        let kinds: [(id: ObjectIdentifier, name: String, facts: [Key])] =
            PolicyKinds.decodableGates.map { (ObjectIdentifier($0), $0.entry.name, $0.facts) }
            + PolicyKinds.decodableProbes.map { (ObjectIdentifier($0), $0.entry.name, $0.facts) }
        var findings: [Finding] = []
        for name in facts.fields.keys {
            var readers = kinds.filter { kind in kind.facts.contains { $0.name == name } }
            // The fleet lock's identity is the machine id too, when its id file is not given.
            if name == "machine_id" { readers += kinds.filter { $0.name == "fleet_lock" } }
            guard !readers.isEmpty, !readers.contains(where: { present.contains($0.id) }), let field = facts[name] else { continue }
            let message = Message(
                .unknownKey,
                "\(policy.file) has no " + readers.map { "`\($0.name)`" }.joined(separator: " or ")
                    + " step, so the fact `\(name)` is never asked for and the scenario does not test it",
                help: "add the gate or probe to the policy, or remove the fact")
            findings.append(Finding(message, start: field.start, end: field.end))
        }
        return findings
    }

    private static func build(_ decoded: DecodedMapping, file: String, decoder: inout PolicyDecoder) -> Scenario {
        let f = Fields(mapping: decoded, table: ScenarioSchema.scenario)
        let release = f.nested("release", ScenarioSchema.release)
        _ = decoder.checkRequired(release.mapping, ScenarioSchema.release, place: "the release", anchor: release.mapping.node)
        let download = f.nested("download", ScenarioSchema.download)
        let facts = f.nested("facts", ScenarioSchema.facts)
        let expect = f.nested("expect", ScenarioSchema.expect)
        var gates: [String: String] = [:]
        if case .dictionary(let entries)? = decoded["gates"]?.value {
            for entry in entries { if case .text(let answer) = entry.value { gates[entry.key] = answer } }
        }
        var probes: [String: [ProbeScript]] = [:]
        if case .dictionary(let entries)? = decoded["probes"]?.value {
            // Repeats (`fail x10000`) are counted before they are expanded: a small file cannot ask for
            // more outcomes than a run could ever use.
            var total = 0
            outer: for entry in entries {
                guard case .list(let items) = entry.value else { continue }
                var scripts: [ProbeScript] = []
                for item in items {
                    guard case .text(let text) = item, let (script, count) = ProbeScript.parseCounted(text) else { continue }
                    total += count
                    if total > ProbeScript.totalLimit {
                        decoder.findings.append(Finding(.tooManyProbeOutcomes(limit: ProbeScript.totalLimit), at: entry.keyNode))
                        probes = [:]
                        break outer
                    }
                    scripts += Array(repeating: script, count: count)
                }
                probes[entry.key] = scripts
            }
        }
        var expectedRuns: Int?
        if case .integer(let runs)? = expect.mapping["runs"]?.value { expectedRuns = runs }
        var scenario = Scenario(
            file: file, description: f.optionalText("description")?.value, start: f.text("start").value,
            runningVersion: f.text("running_version").value, releaseVersion: release.optionalText("version")?.value ?? "",
            releaseFormat: release.text("format").value, releaseChannel: release.optionalText("channel")?.value,
            releaseArchitecture: release.optionalText("architecture")?.value,
            releaseMinCompatibleVersion: release.optionalText("min_compatible_version")?.value,
            signature: release.text("signature").value, expires: release.optionalText("expires")?.value,
            downloadOutcome: download.text("outcome").value, downloadDuration: download.duration("duration").value,
            facts: ScenarioFacts(fields: facts), gates: gates,
            boot: f.text("boot").value, rebootAfter: f.duration("reboot_after").value, probes: probes,
            runs: f.integer("runs").value, runEvery: f.optionalDuration("run_every")?.value,
            expectedOutcome: expect.optionalText("outcome")?.value, expectedRuns: expectedRuns,
            expectedWithin: expect.optionalDuration("within")?.value)
        if let start = release.optionalText("rollout_start")?.value {
            scenario.rollout =
                "{\"start\": \"\(start)\", \"duration\": \"\(DurationText.format(release.duration("rollout_duration").value))\", "
                + "\"start_percentage\": \(release.percentage("rollout_start_percentage").value), "
                + "\"max_percentage\": \(release.percentage("rollout_max_percentage").value)}"
        }
        scenario.downloadDrops = download.integer("drops").value
        scenario.downloadUnavailableFor = download.duration("unavailable_for").value
        let hooks = f.nested("hooks", ScenarioSchema.hooks)
        for point in HookPoint.allCases { scenario.hooks[point] = hooks.text(point.rawValue).value }
        return scenario
    }
}

/// A scenario's `facts:`, each with its default filled in from the table the kinds declare.
public struct ScenarioFacts: Sendable {
    let fields: Fields

    public func text(_ name: String) -> String { fields.text(name).value }
    public func boolean(_ name: String) -> Bool { fields.boolean(name).value }
    public func integer(_ name: String) -> Int { fields.integer(name).value }
    public func duration(_ name: String) -> Duration { fields.duration(name).value }
    /// A list of texts; nil when the scenario does not give it.
    public func texts(_ name: String) -> [String]? {
        guard case .list(let items)? = fields.mapping[name]?.value else { return nil }
        return items.compactMap { if case .text(let text) = $0 { text } else { nil } }
    }
}
