/// The reference pages in docs/, generated from the key tables and the rule catalog so that they
/// cannot drift from the code (a test compares the files with this output).
public enum ReferenceDocs {
    /// docs/lint-rules.md
    public static func lintRules() -> String {
        var out = """
            # Lint rules

            Generated from the rule catalog (`Sources/UpdatePolicy/Diagnostics/Rules.swift`); a test keeps \
            this page equal to it. `updatectl lint --explain CODE` prints one rule; `updatectl lint --explain` lists them.

            Codes are stable and grouped by area: `UPD0xx` inline suppressions, `UPD1xx` YAML, `UPD2xx` \
            structure, `UPD3xx` values, `UPD4xx` cross-field rules. Silence one finding with a comment naming \
            its code on its line, or alone on the line before: `# updatectl: disable=UPD404`.

            The fix column says which fixes a rule's findings may carry (not every finding has one): \
            `updatectl lint --fix` applies the safe ones, `--unsafe-fixes` the unsafe ones too.

            | code | name | severity | fix | finds |
            | --- | --- | --- | --- | --- |

            """
        for rule in Rules.all {
            out +=
                "| [\(rule.id)](#\(rule.id.rawValue.lowercased())-\(rule.name)) | \(rule.name) | \(rule.severity.rawValue) | "
                + (rule.fixes == .none ? "" : rule.fixes.rawValue) + " | "
                + rule.summary.replacingOccurrences(of: "|", with: "\\|") + " |\n"
        }
        var area = ""
        for rule in Rules.all {
            if rule.area != area {
                area = rule.area
                out += "\n## \(area)\n"
            }
            out += "\n### \(rule.id) \(rule.name)\n\n"
            out += "Severity: \(rule.severity.rawValue).\n\n\(rule.summary)\n\n"
            out += "**Why.** \(rule.rationale)\n\n**Fix.** \(rule.fix)\n\n"
            if let automatic = rule.fixes.explanation {
                out += "**Automatic fix.** \(automatic.prefix(1).uppercased())\(automatic.dropFirst()).\n\n"
            }
            out += "```\(exampleInfo(rule))\n\(rule.example)\n```\n\n"
            out += "Silence: `# updatectl: disable=\(rule.id)`\n"
        }
        return out
    }

    /// The info string of a rule's example, which the docs' test runner reads: the rule it must
    /// show (`expect=`), or why it is not linted here (a file too large to show, a host's files,
    /// an update.conf).
    static func exampleInfo(_ rule: Rule) -> String {
        if rule.example.hasPrefix("(") { return "text" }
        if rule.example.hasPrefix("# update.conf") { return "ini expect=\(rule.id) file=update.conf" }
        if rule.id.rawValue.hasPrefix("UPD5") { return "yaml skip=\"the finding depends on this host's files: lint --on-host\"" }
        if rule.example.contains("...") { return "yaml skip=\"abbreviated: the real file is too deep to show\"" }
        return "yaml expect=\(rule.id)"
    }

    /// docs/policy.md
    public static func policyKeys() -> String {
        var out = """
            # Policy reference

            Generated from the key tables (`Sources/UpdatePolicy/Schema/PolicySchema.swift`), which also \
            drive decoding, the unknown-key hints and `updatectl schema`; a test keeps this page equal to them. \
            docs/policy-notes.md explains the choices behind defaults, names and shorthands.

            Value types: a *duration* is `250ms`, `30s`, `5m`, `1h30m`, `2h` or a whole number of seconds \
            (at most 30 days); a *percentage* is `10%` or a number from 0 to 100; a *command* is an argv \
            list whose first item is an absolute path, run without a shell; times of day are `"HH:MM"` \
            (quote them). Quoted digits are text, not numbers.

            """
        out += table(PolicySchema.updates, heading: "## `updates:`")
        // Every nested table of `updates:`, in its order (healthcheck, download, agent…).
        for key in PolicySchema.updates.keys {
            if case .table(let nested) = key.kind { out += table(nested, heading: "## `\(key.name):`") }
        }
        out += "\n## Gates (`preflight:`)\n\nEach gate is a one-key mapping `- KIND: {options}`, run in the listed order.\n"
        for kind in PolicySchema.gates { out += table(kind.table, heading: "### `\(kind.name)`") }
        out +=
            "\n## Probes (`healthcheck.probes:`)\n\nEach probe is a one-key mapping `- KIND: {options}`; "
            + "all probes of a round run concurrently and must all pass.\n"
        for kind in PolicySchema.probes { out += table(kind.table, heading: "### `\(kind.name)`") }
        out += "\n## Backends (`backend:`)\n\n`type:` chooses the backend; `directory` is the default.\n"
        for variant in PolicySchema.backend.variants { out += table(variant.table, heading: "### `type: \(variant.tag)`") }
        out +=
            "\nVariables in commands: gates and probes may use "
            + PolicySchema.checkVariables.map { "`${\($0)}`" }.joined(separator: ", ")
            + "; backend commands "
            + PolicySchema.backendVariables.map { "`${\($0)}`" }.joined(separator: ", ")
            + ". `$${NAME}` is a literal `${NAME}`. updatectl substitutes them itself; no shell is involved.\n"
        return out
    }

    /// The key table of docs/simulate.md (between its `scenario-keys` markers): every scenario key,
    /// nested tables flattened (`release.version`), the kinds' facts among them.
    public static func scenarioKeys() -> String {
        var out = "| key | type | default | meaning |\n| --- | --- | --- | --- |\n"
        func rows(_ table: Table, prefix: String) {
            for key in table.keys {
                if case .table(let nested) = key.kind {
                    rows(nested, prefix: prefix + key.name + ".")
                    continue
                }
                let value = key.required ? "required" : (key.defaultText.map { "`\($0)`" } ?? "")
                out +=
                    "| `\(prefix + key.name)` | \(typeName(key.kind)) | \(value) | "
                    + key.summary.replacingOccurrences(of: "|", with: "\\|") + " |\n"
            }
        }
        rows(ScenarioSchema.scenario, prefix: "")
        return out
    }

    private static func table(_ table: Table, heading: String) -> String {
        var out = "\n\(heading)\n\n"
        if !table.summary.isEmpty { out += table.summary + "\n\n" }
        out += "| key | type | default | meaning |\n| --- | --- | --- | --- |\n"
        for key in table.keys {
            let value = key.required ? "required" : (key.defaultText.map { "`\($0)`" } ?? "none")
            out += "| `\(key.name)` | \(typeName(key.kind)) | \(value) | \(key.summary.replacingOccurrences(of: "|", with: "\\|")) |\n"
        }
        if let example = table.example {
            out +=
                "\n```yaml\nupdates:\n"
                + example.split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.isEmpty ? "" : "  " + $0 }.joined(separator: "\n") + "\n```\n"
        }
        return out
    }

    static func typeName(_ kind: ValueKind) -> String {
        switch kind {
        case .string(let rule): rule.map { "text: \($0.description)" } ?? "text"
        case .url(let schemes): "URL (" + schemes.joined(separator: ", ") + ")"
        case .path: "absolute path"
        case .duration: "duration"
        case .percentage: "percentage"
        case .fraction: "number 0–1"
        case .integer(let min, let max): max.map { "integer \(min)–\($0)" } ?? "integer ≥ \(min)"
        case .boolean: "boolean"
        case .choice(let words): words.map { "`\($0)`" }.joined(separator: " \\| ")
        case .timeOfDay: "`\"HH:MM\"`"
        case .timeRange: "`\"HH:MM-HH:MM\"` or empty"
        case .timeZone: "IANA time zone"
        case .days: "list of `mon`…`sun`"
        case .command: "command (argv list)"
        case .publicKey: "`ed25519:<base64>` or path, or a list of them"
        case .hostPort: "`host:port`"
        case .table(let table): "mapping (`\(table.name):` below)"
        case .entries(let family): "list of \(family.noun)s"
        case .tagged: "mapping (backends below)"
        case .dictionary(let value): "mapping of name → \(typeName(value))"
        case .list(let item): "list of \(typeName(item))"
        case .timestamp: "RFC 3339 time"
        case .rate: "rate (`2MiB/s`)"
        case .size: "size (`4GiB`)"
        }
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let range = rest.range(of: target) {
            out += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}

extension StringProtocol {
    /// The first range of `target`, without Foundation.
    package func range(of target: String) -> Range<Index>? {
        var index = startIndex
        while index < endIndex {
            if self[index...].hasPrefix(target) { return index..<self.index(index, offsetBy: target.count) }
            index = self.index(after: index)
        }
        return nil
    }
}
