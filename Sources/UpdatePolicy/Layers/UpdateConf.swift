import YAMLTree

/// KubeSolo OS's `/etc/kubesolo/update.conf`: `key=value` lines, `#` comments, blank lines.
/// Unknown keys are ignored, as the agent ignores them (with a warning); a missing file is no
/// policy at all. Its values go through the same checks as the YAML policy's, with findings at
/// the conf file's line and column.
public enum UpdateConf {
    /// Where KubeSolo OS keeps it.
    public static let defaultPath = "/etc/kubesolo/update.conf"

    /// The keys KubeSolo OS writes, by the policy key each sets (the same names).
    public static let keys = [
        "server", "channel", "maintenance_window", "pubkey", "registry", "tag", "registry_auth", "healthcheck_url", "auto_rollback_after",
        "kube_system_settle",
    ]

    /// Whether a path names an update.conf rather than a YAML policy (by its `.conf` suffix).
    public static func isConf(_ path: String) -> Bool { path.hasSuffix(".conf") }

    /// The conf file as a policy layer: its values decoded against the policy's key table, its
    /// findings (syntax, unknown keys, wrong values) at their line and column.
    public static func layer(_ bytes: [UInt8], file: String, timeZones: any TimeZoneDatabase) -> PolicyLayer {
        var decoder = PolicyDecoder(timeZones: timeZones)
        var findings: [Finding] = []
        let origin = Mark(line: 1, column: 1, offset: 0)
        var mapping = DecodedMapping(node: Node.emptyMapping(at: origin))
        var seen: [String: Mark] = [:]
        var offset = 0
        var lineNumber = 0
        for rawLine in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            defer { offset += rawLine.count + 1 }
            let line = String(decoding: rawLine, as: UTF8.self)
            let scalars = Array(line.unicodeScalars)
            func mark(_ column: Int) -> Mark {
                Mark(
                    line: lineNumber, column: column + 1,
                    offset: offset + String(String.UnicodeScalarView(scalars.prefix(column))).utf8.count)
            }
            guard let first = scalars.firstIndex(where: { $0 != " " && $0 != "\t" && $0 != "\r" }), scalars[first] != "#" else {
                continue
            }
            guard let equals = scalars.firstIndex(of: "=") else {
                findings.append(
                    Finding(
                        .confLineWithoutValue(line.trimmingSpaces), start: mark(first),
                        end: mark(scalars.count)))
                continue
            }
            let key = String(String.UnicodeScalarView(scalars[first..<equals])).trimmingSpaces
            var valueStart = equals + 1
            while valueStart < scalars.count, scalars[valueStart] == " " || scalars[valueStart] == "\t" { valueStart += 1 }
            var valueEnd = scalars.count
            while valueEnd > valueStart, [" ", "\t", "\r"].contains(scalars[valueEnd - 1]) { valueEnd -= 1 }
            var value = String(String.UnicodeScalarView(scalars[valueStart..<valueEnd]))
            if value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote {
                value = String(value.dropFirst().dropLast())
            }
            guard keys.contains(key), let tableKey = PolicySchema.updates.key(key) else {
                let guess = Suggestions.closest(to: key, in: keys)
                let message = Message.unknownConfKey(key, guess: guess, keys: keys)
                var finding = Finding(message, start: mark(first), end: mark(equals), severity: .warning)
                // The key's own bytes: the line's text is text here, not YAML.
                finding.propose(message.fix, replacing: mark(first), mark(first + key.unicodeScalars.count))
                findings.append(finding)
                continue
            }
            if let earlier = seen[key] {
                findings.append(
                    Finding(
                        .confKeyTwice(key), start: mark(first), end: mark(equals),
                        notes: [Finding.Note(message: "the first `\(key)`", mark: earlier)], severity: .warning))
            }
            seen[key] = mark(first)
            // Text is text here, not YAML: no YAML 1.1 readings; numbers and durations as written.
            let style: ScalarStyle =
                switch tableKey.kind {
                case .integer, .duration, .boolean, .percentage, .rate: .plain
                default: .doubleQuoted
                }
            let node = Node(.scalar(Scalar(value, style: style)), start: mark(valueStart), end: mark(valueEnd))
            if let decoded = decoder.decodeValue(node, tableKey.kind, key: key, place: "update.conf") {
                mapping.fields[key] = DecodedField(value: decoded, node: node, source: .file(file))
                mapping.invalid[key] = nil
            } else {
                mapping.fields[key] = nil
                mapping.invalid[key] = node.start
            }
        }
        findings += decoder.findings
        findings.sort { ($0.start.offset, $0.rule) < ($1.start.offset, $1.rule) }
        return PolicyLayer(source: .file(file), mapping: mapping, findings: findings)
    }
}
