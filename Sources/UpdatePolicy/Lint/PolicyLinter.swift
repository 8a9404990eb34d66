public import YAMLTree

/// What linting one file produced: every finding, sorted by position, and the policy when the
/// file got far enough to have one.
public struct LintResult: Sendable {
    public var file: String
    public var findings: [Finding]
    public var policy: Policy?
    /// The bytes read, for rendering source lines under findings.
    public var source: [UInt8]
    /// The file has no `updates:` section: its top level is not a mapping, or a mapping with no
    /// `updates` key and no key that looks like a misspelt one; or it could not be read as one
    /// YAML document (empty, several documents, a template) and no line starts with `updates:`.
    /// `lint --skip-non-policies` leaves such files out unless they are named as a policy.
    public var notAPolicy = false
    /// Not a policy whatever its name: a Kubernetes object (`apiVersion` and `kind`), or a file whose
    /// `updates` is another tool's (a list: Dependabot's).
    public var certainlyNotAPolicy = false

    /// The inline suppressions (`# updatectl: disable=CODE`): a code and the line it silences.
    public struct Suppression: Sendable, Hashable {
        public var line: Int
        public var code: String
    }

    /// The file's inline suppressions, for findings made after lint (`lint --on-host`'s).
    public var suppressions: Set<Suppression> = []

    /// `findings` without those the file's inline suppressions silence.
    public func silencing(_ findings: [Finding]) -> [Finding] {
        suppressions.isEmpty
            ? findings : findings.filter { !suppressions.contains(Suppression(line: $0.start.line, code: $0.rule.rawValue)) }
    }

    public var errorCount: Int { findings.count { $0.severity == .error } }

    public init(file: String, findings: [Finding], policy: Policy?, source: [UInt8]) {
        self.file = file
        self.findings = findings
        self.policy = policy
        self.source = source
    }
}

public struct LintOptions: Sendable {
    /// The zone names `timezone:` is checked against: the host's database (`ZoneInfo`), a fixed
    /// list, or `TimeZoneNames.unchecked`. Always given, so no caller checks against none by
    /// accident.
    public var timeZones: any TimeZoneDatabase
    /// Honour `# updatectl: disable=CODE` comments.
    public var inlineSuppressions: Bool
    public var limits: YAMLLimits

    public init(timeZones: any TimeZoneDatabase, inlineSuppressions: Bool = true, limits: YAMLLimits = .default) {
        self.timeZones = timeZones
        self.inlineSuppressions = inlineSuppressions
        self.limits = limits
    }
}

/// YAML tree → typed policy → cross-field rules → inline suppressions, collecting every finding.
public enum PolicyLinter {
    public static func lint(_ bytes: [UInt8], file: String, options: LintOptions) -> LintResult {
        lint(YAMLParser.parse(bytes, limits: options.limits), file: file, options: options)
    }

    /// Lints the YAML policy `document`; with `layers` (update.conf below it, flags above it) the
    /// policy is the merge of them all, while the findings stay the document's own (each layer
    /// has its own).
    public static func lint(
        _ document: YAMLDocument, file: String, options: LintOptions, layers: [PolicyLayer] = []
    )
        -> LintResult
    {
        var findings = document.problems.map(finding(for:))
        var policy: Policy?
        var notAPolicy = false, certainlyNotAPolicy = false
        if let root = document.root {
            policy = decode(
                root, source: document.source, file: file, timeZones: options.timeZones, layers: layers,
                findings: &findings, notAPolicy: &notAPolicy, certainlyNotAPolicy: &certainlyNotAPolicy)
        } else if !document.problems.contains(where: { $0.kind == .tooLarge || $0.kind == .unreadable }) {
            notAPolicy = !startsAnUpdatesLine(document.source)
        }
        var silenced: Set<LintResult.Suppression> = []
        if options.inlineSuppressions {
            var suppressions = Suppressions(source: document.source) { document.root?.arena.quotedAndBlockScalarRanges ?? [] }
            findings = suppressions.apply(to: findings)
            silenced = suppressions.silenced
            // An error can hide what a suppression silences (the keys under a misspelt mapping
            // are not checked): while there is one, an unused suppression is not removed.
            if findings.contains(where: { $0.severity == .error }) {
                for index in findings.indices where findings[index].rule == .unusedSuppression { findings[index].fixes = [] }
            }
        }
        for index in findings.indices where !findings[index].fixes.isEmpty {
            findings[index].fixes = findings[index].fixes.map { $0.pastNodeProperties(in: document.source) }
        }
        findings.sort { ($0.start.offset, $0.rule, $0.message) < ($1.start.offset, $1.rule, $1.message) }
        var result = LintResult(file: file, findings: findings, policy: policy, source: document.source)
        result.notAPolicy = notAPolicy
        result.certainlyNotAPolicy = certainlyNotAPolicy
        result.suppressions = silenced
        return result
    }

    private static func decode(
        _ root: Node, source: [UInt8], file: String, timeZones: any TimeZoneDatabase,
        layers: [PolicyLayer], findings: inout [Finding], notAPolicy: inout Bool, certainlyNotAPolicy: inout Bool
    ) -> Policy? {
        guard let pairs = root.mapping else {
            findings.append(Finding(.topLevelNotMapping(root.kindDescription), at: root))
            notAPolicy = true
            return nil
        }
        let topKeys = pairs.compactMap { $0.key.scalar?.value }
        let kubernetesObject = topKeys.contains("apiVersion") && topKeys.contains("kind")
        guard let pair = pairs.first(where: { $0.key.scalar?.value == "updates" }) else {
            let nearPair = pairs.first { $0.key.scalar.map { looksLikeUpdates($0.value) } ?? false }
            let near = nearPair?.key.scalar?.value
            let policyKeys = pairs.contains { PolicySchema.updates.key($0.key.scalar?.value ?? "") != nil }
            var finding = Finding(.noUpdates(near: near, policyKeysAtTop: policyKeys), start: nearPair?.key.start ?? root.start)
            if let key = nearPair?.key { finding.propose(.value("updates", .unsafe), at: key) }
            findings.append(finding)
            // Policy keys at the top level without `updates:` are as often a Helm chart's values
            // (`server:`, `channel:`) as a policy missing its section: only `updates` decides.
            notAPolicy = near == nil || kubernetesObject
            certainlyNotAPolicy = kubernetesObject
            return nil
        }
        // A fix edits the policy's own bytes: a value it reaches through an alias whose anchor
        // stands in another section (cloud-init's `power_state: &common {…}`) is that section's too.
        let first = findings.count
        defer {
            let policy = pair.key.start.offset..<max(pair.value.end.offset, pair.key.end.offset)
            for index in first..<findings.count where !findings[index].fixes.isEmpty {
                findings[index].fixes.removeAll { fix in fix.edits.contains { !policy.contains($0.start) || $0.end > policy.upperBound } }
            }
        }
        if pair.value.scalar?.isNull == true || pair.value.mapping == nil {
            findings.append(Finding(.updatesNotMapping(ScalarRules.found(pair.value)), at: pair.value))
            // A list or a text under `updates` is another tool's (Dependabot's list of ecosystems).
            if pair.value.scalar?.isNull != true {
                notAPolicy = true
                certainlyNotAPolicy = true
            }
            return nil
        }
        if let keys = pair.value.mapping?.compactMap({ $0.key.scalar?.value }), !keys.isEmpty, keys.allSatisfy({ $0 == "network" }) {
            // cloud-init's own `updates: {network: …}` alone: checked as cloud-init checks it, and no
            // policy (the policy may be written elsewhere, e.g. by `write_files`).
            var decoder = PolicyDecoder(timeZones: timeZones)
            let written = decoder.decodeTable(pair.value, PolicySchema.updates, place: "updates")
            if case .mapping(let network)? = written["network"]?.value, network.node.mapping != nil {
                _ = decoder.checkRequired(
                    network, PolicySchema.cloudInitNetwork, place: PolicySchema.cloudInitNetwork.place, anchor: network.node)
            }
            findings += decoder.findings
            notAPolicy = true
            return nil
        }
        var decoder = PolicyDecoder(timeZones: timeZones)
        let written = decoder.decodeTable(pair.value, PolicySchema.updates, place: "updates")
        // cloud-init's own `network` is no part of the policy: checked as cloud-init checks it, no more.
        if case .mapping(let network)? = written["network"]?.value, network.node.mapping != nil {
            _ = decoder.checkRequired(
                network, PolicySchema.cloudInitNetwork, place: PolicySchema.cloudInitNetwork.place, anchor: network.node)
        }
        let updates = PolicyLayer.merge(written, layers)
        findings += decoder.findings
        var builder = PolicyBuilder()
        let policy = builder.build(updates, keyNode: pair.key, file: file)
        findings += builder.findings
        var checks = CrossChecks(policy: policy, anchor: pair.key, source: source, root: root)
        checks.run()
        findings += checks.findings
        return policy
    }

    /// A top-level key that is `updates` misspelt: `update`, or `updates` with two letters swapped
    /// or one left out. Words that merely look alike (`updated`, `updater`, `Updates` in a Helm
    /// chart's values) are other keys.
    static func looksLikeUpdates(_ key: String) -> Bool {
        let target = Array("updates"), letters = Array(key)
        if key == "update" { return true }
        if letters.count == 7, letters.sorted() == target.sorted(), letters != target {
            let differ = zip(letters, target).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
            return differ.count == 2 && differ[1] == differ[0] + 1
        }
        if letters.count == 6 {
            return target.indices.contains { index in Array(target[..<index] + target[(index + 1)...]) == letters }
        }
        return false
    }

    /// Whether a line of a file that is no single YAML document starts with the key `updates:`
    /// (plain or quoted): a policy in one of several documents, or behind a syntax error.
    static func startsAnUpdatesLine(_ source: [UInt8]) -> Bool {
        source.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true).contains { line in
            var rest = line[...]
            if let quote = rest.first, quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
                guard rest.dropFirst().starts(with: "updates".utf8), rest.dropFirst(8).first == quote else { return false }
                rest = rest.dropFirst(9)
            } else {
                guard rest.starts(with: "updates".utf8) else { return false }
                rest = rest.dropFirst(7)
            }
            return rest.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }.first == UInt8(ascii: ":")
        }
    }

    /// Lints KubeSolo OS's update.conf: its own findings (syntax, unknown keys, values) at their
    /// line and column, and the policy it alone makes (for `--on-host`).
    public static func lintConf(_ bytes: [UInt8], file: String, options: LintOptions) -> LintResult {
        let layer = UpdateConf.layer(bytes, file: file, timeZones: options.timeZones)
        var findings = layer.findings
        var silenced: Set<LintResult.Suppression> = []
        if options.inlineSuppressions {
            var suppressions = Suppressions(source: bytes)
            findings = suppressions.apply(to: findings)
            silenced = suppressions.silenced
        }
        let alone = lint(YAMLParser.parse(Array("updates: {}\n".utf8)), file: file, options: options, layers: [layer])
        var result = LintResult(file: file, findings: findings, policy: alone.policy, source: bytes)
        result.suppressions = silenced
        return result
    }

    static func finding(for problem: YAMLProblem) -> Finding {
        let rule: RuleID
        var help: String?
        switch problem.kind {
        case .reader, .scanner, .parser:
            rule = .yamlSyntax
            if problem.message.contains("cannot start any token") {
                help = "YAML does not allow tabs for indentation; indent with spaces"
            }
        case .duplicateKey: rule = .duplicateKey
        case .undefinedAlias: rule = .undefinedAlias
        case .aliasBudget: rule = .aliasBudget
        case .tooDeep: rule = .tooDeep
        case .multipleDocuments:
            return Finding(.secondDocument, start: problem.mark, end: problem.end, notes: problem.notes)
        case .empty: rule = .emptyFile
        case .tooLarge, .unreadable: rule = .fileTooLarge
        }
        return Finding(
            rule, problem.message, start: problem.mark, end: problem.end, help: help,
            notes: problem.notes)
    }
}
