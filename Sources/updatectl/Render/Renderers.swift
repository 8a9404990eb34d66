import JSONValue
import UpdateAgent
import UpdatePolicy
import YAMLTree

/// The output formats of `lint`.
enum LintFormat: String, CaseIterable {
    case text, concise, json, sarif, github, gitlab

    func render(_ report: LintReport) -> String {
        switch self {
        case .text: TextRenderer.render(report)
        case .concise: ConciseRenderer.render(report)
        case .json: JSONRenderer.render(report)
        case .sarif: SARIFRenderer.render(report)
        case .github: GitHubRenderer.render(report)
        case .gitlab: GitLabRenderer.render(report)
        }
    }
}

/// The default, for people: `error[CODE]: message`, the location, the source line with a caret
/// under the span, help, and the fix `lint --fix` would apply with the flags that apply it. A file
/// with many findings of one rule shows the first `shownPerRule` of them and says how many more
/// there are (the other formats list every one).
enum TextRenderer {
    static let shownPerRule = 20

    static func render(_ report: LintReport) -> String {
        var out = ""
        for file in report.files where !file.result.findings.isEmpty {
            let lines = SourceLines(file.result.source)
            var shown: [RuleID: Int] = [:]
            var hidden: [(rule: RuleID, count: Int)] = []
            for finding in file.result.findings {
                shown[finding.rule, default: 0] += 1
                if shown[finding.rule]! > shownPerRule {
                    if let index = hidden.firstIndex(where: { $0.rule == finding.rule }) {
                        hidden[index].count += 1
                    } else {
                        hidden.append((finding.rule, 1))
                    }
                    continue
                }
                out += "\(finding.severity.rawValue)[\(finding.rule)]: \(finding.message)\n"
                let gutter = String(repeating: " ", count: String(finding.start.line).count)
                out += "\(gutter)--> \(file.path):\(finding.start.line):\(finding.start.column)\n"
                if let line = lines.line(finding.start.line) {
                    let end =
                        finding.end.line == finding.start.line && finding.end.column > finding.start.column
                        ? finding.end.column : (finding.end.line > finding.start.line ? nil : finding.start.column + 1)
                    let (shown, caret) = SourceLines.caret(line, from: finding.start.column, to: end)
                    out += "\(gutter) |\n"
                    out += "\(finding.start.line) | \(shown)\n"
                    out += "\(gutter) | \(caret)\n"
                }
                for note in finding.notes {
                    out += "\(gutter) = note: \(note.message) (\(file.path):\(note.mark.line):\(note.mark.column))\n"
                }
                if let help = finding.help { out += "\(gutter) = help: \(help)\n" }
                if let fix = finding.offeredFix { out += "\(gutter) = fix: \(VisibleText.escape(fix.title)) (\(fix.safety.command))\n" }
                out += "\n"
            }
            for (rule, count) in hidden {
                out +=
                    "note: \(count) more \(rule) finding\(count == 1 ? "" : "s") in \(file.path) not shown "
                    + "(--format concise or json lists every one)\n\n"
            }
        }
        out += report.summary + "\n"
        return out
    }
}

/// One line per finding, always, for editors and problem matchers: a newline or another control
/// character in a path or message is escaped. `[*]` after the code marks a finding `lint --fix`
/// resolves.
enum ConciseRenderer {
    static func render(_ report: LintReport) -> String {
        var out = ""
        for (file, finding) in report.findings {
            out +=
                "\(VisibleText.escape(file.path)):\(finding.start.line):\(finding.start.column): "
                + "\(finding.severity.rawValue)[\(finding.rule)] \(finding.hasSafeFix ? "[*] " : "")"
                + "\(VisibleText.escape(finding.message))\n"
        }
        return out
    }
}

/// `{"schema_version": 1, "findings": [...], "summary": {...}}`, documented in docs/lint.md.
enum JSONRenderer {
    static func render(_ report: LintReport) -> String {
        let findings: [JSON] = report.findings.map { file, finding in
            .object([
                ("file", .string(file.path)),
                ("line", .int(finding.start.line)),
                ("column", .int(finding.start.column)),
                ("end_line", .int(finding.end.line)),
                ("end_column", .int(finding.end.column)),
                ("severity", .string(finding.severity.rawValue)),
                ("rule", .string(finding.rule.rawValue)),
                ("name", .string(Rules.rule(finding.rule).name)),
                ("message", .string(finding.message)),
                ("help", .optional(finding.help)),
                (
                    "notes",
                    .array(
                        finding.notes.map { note in
                            .object([
                                ("line", .int(note.mark.line)), ("column", .int(note.mark.column)), ("message", .string(note.message)),
                            ])
                        })
                ),
                (
                    "fixes",
                    .array(
                        finding.fixes.map { fix in
                            .object([
                                ("title", .string(fix.title)), ("safety", .string(fix.safety.rawValue)),
                                (
                                    "edits",
                                    .array(
                                        fix.edits.map { edit in
                                            .object([("start", .int(edit.start)), ("end", .int(edit.end)), ("text", .string(edit.text))])
                                        })
                                ),
                            ])
                        })
                ),
            ])
        }
        return JSON.object([
            ("schema_version", .int(1)),
            ("findings", .array(findings)),
            (
                "summary",
                .object([
                    ("files", .int(report.files.count)),
                    ("errors", .int(report.count(.error))),
                    ("warnings", .int(report.count(.warning))),
                    ("infos", .int(report.count(.info))),
                ])
            ),
        ]).render() + "\n"
    }
}

/// SARIF 2.1.0, for code scanning: rule metadata, relative paths, 1-based columns in code points.
enum SARIFRenderer {
    static func level(_ severity: Severity) -> String {
        switch severity {
        case .error: "error"
        case .warning: "warning"
        case .info: "note"
        }
    }

    static func render(_ report: LintReport, workingDirectory: String = DisplayPath.workingDirectory) -> String {
        let rules = Rules.all
        let index = Dictionary(uniqueKeysWithValues: rules.enumerated().map { ($1.id, $0) })
        let ruleObjects: [JSON] = rules.map { rule in
            .object([
                ("id", .string(rule.id.rawValue)),
                ("name", .string(rule.name)),
                ("shortDescription", .object([("text", .string(rule.summary))])),
                ("fullDescription", .object([("text", .string(rule.rationale))])),
                // No `helpUri`: SARIF wants an absolute URI there, and updatectl has no published site.
                (
                    "help",
                    .object([("text", .string("\(rule.fix) More: \(rule.documentationPointer).")), ("markdown", .string(rule.markdown))])
                ),
                ("defaultConfiguration", .object([("level", .string(level(rule.severity)))])),
                ("properties", .object([("tags", .array([.string(rule.area)]))])),
            ])
        }
        let fingerprints = Fingerprints()
        let results: [JSON] = report.findings.map { file, finding in
            var message = finding.message
            if let help = finding.help { message += "\nhelp: \(help)" }
            var result: [(String, JSON)] = [
                ("ruleId", .string(finding.rule.rawValue)),
                ("ruleIndex", .int(index[finding.rule] ?? 0)),
                ("level", .string(level(finding.severity))),
                ("message", .object([("text", .string(message))])),
                ("locations", .array([location(file.path, finding.start, finding.end)])),
                ("partialFingerprints", .object([("updatectl/v1", .string(fingerprints.next(file.path, finding)))])),
                (
                    "relatedLocations",
                    .array(
                        finding.notes.enumerated().map { offset, note in
                            guard case .object(var pairs) = location(file.path, note.mark, nil) else { return .null }
                            pairs.insert(("id", .int(offset + 1)), at: 0)
                            pairs.append(("message", .object([("text", .string(note.message))])))
                            return .object(pairs)
                        })
                ),
            ]
            if !finding.fixes.isEmpty {
                result.append(("fixes", .array(finding.fixes.map { fixObject($0, path: file.path, source: file.result.source) })))
            }
            return .object(result)
        }
        let notifications: [JSON] = report.unreadable.map { problem in
            .object([
                ("level", .string("error")),
                ("message", .object([("text", .string("cannot read \(problem.path): \(problem.reason)"))])),
                ("locations", .array([location(DisplayPath.relative(problem.path), nil, nil)])),
            ])
        }
        let base = workingDirectory.hasSuffix("/") ? workingDirectory : workingDirectory + "/"
        return JSON.object([
            ("$schema", .string("https://json.schemastore.org/sarif-2.1.0.json")),
            ("version", .string("2.1.0")),
            (
                "runs",
                .array([
                    .object([
                        (
                            "tool",
                            .object([
                                (
                                    "driver",
                                    .object([
                                        ("name", .string("updatectl")),
                                        ("version", .string(Updatectl.version)),
                                        ("rules", .array(ruleObjects)),
                                    ])
                                )
                            ])
                        ),
                        ("automationDetails", .object([("id", .string("updatectl/lint/"))])),
                        ("originalUriBaseIds", .object([("%SRCROOT%", .object([("uri", .string("file://" + uri(base)))]))])),
                        (
                            "invocations",
                            .array([
                                .object([
                                    ("executionSuccessful", .bool(report.unreadable.isEmpty)),
                                    ("toolExecutionNotifications", .array(notifications)),
                                ])
                            ])
                        ),
                        ("defaultEncoding", .string("utf-8")),
                        ("columnKind", .string("unicodeCodePoints")),
                        ("results", .array(results)),
                    ])
                ])
            ),
        ]).render() + "\n"
    }

    /// A fix: its title, its edits as replacements of text regions of the file (lines and columns
    /// in code points, as the run's `columnKind` says; an insertion is a region whose end is its
    /// start) and its safety. Text regions, not byte regions: SARIF asks for text regions in text
    /// files, and a byte region's inserted content would have to be Base64 (§3.57.2).
    private static func fixObject(_ fix: Fix, path: String, source: [UInt8]) -> JSON {
        let replacements: [JSON] = fix.edits.map { edit in
            let start = Mark(ofByte: edit.start, in: source), end = Mark(ofByte: edit.end, in: source)
            var replacement: [(String, JSON)] = [
                (
                    "deletedRegion",
                    .object([
                        ("startLine", .int(start.line)), ("startColumn", .int(start.column)), ("endLine", .int(end.line)),
                        ("endColumn", .int(end.column)),
                    ])
                )
            ]
            if !edit.text.isEmpty { replacement.append(("insertedContent", .object([("text", .string(edit.text))]))) }
            return .object(replacement)
        }
        return .object([
            ("description", .object([("text", .string(fix.title))])),
            ("artifactChanges", .array([.object([("artifactLocation", artifactLocation(path)), ("replacements", .array(replacements))])])),
            ("properties", .object([("safety", .string(fix.safety.rawValue))])),
        ])
    }

    /// A file relative to the working directory is `uriBaseId: %SRCROOT%` plus a relative URI; one
    /// elsewhere is an absolute `file:` URI; standard input is `<stdin>`, a relative reference.
    private static func artifactLocation(_ path: String) -> JSON {
        if path.hasPrefix("/") { return .object([("uri", .string("file://" + uri(path)))]) }
        if path == DisplayPath.standardInput { return .object([("uri", .string(uri(path)))]) }
        return .object([("uri", .string(uri(path))), ("uriBaseId", .string("%SRCROOT%"))])
    }

    private static func location(_ path: String, _ start: Mark?, _ end: Mark?) -> JSON {
        var physical: [(String, JSON)] = [("artifactLocation", artifactLocation(path))]
        if let start {
            var region: [(String, JSON)] = [("startLine", .int(start.line)), ("startColumn", .int(start.column))]
            if let end {
                region.append(("endLine", .int(end.line)))
                region.append(("endColumn", .int(end == start ? start.column + 1 : end.column)))
            }
            physical.append(("region", .object(region)))
        }
        return .object([("physicalLocation", .object(physical))])
    }

    /// A relative URI reference: path segments percent-encoded as RFC 3986 asks.
    static func uri(_ path: String) -> String {
        var out = ""
        for byte in path.utf8 {
            let scalar = Unicode.Scalar(byte)
            if (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || "-._~/".unicodeScalars.contains(scalar)
            {
                out.unicodeScalars.append(scalar)
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" : "") + hex
            }
        }
        return out
    }
}

/// GitHub Actions workflow commands, escaped as the actions toolkit escapes them. GitHub shows at
/// most 10 error and 10 warning annotations of a step, so a summary line with the counts follows
/// them, and with `GITHUB_STEP_SUMMARY` set every finding goes to the job summary as a table.
enum GitHubRenderer {
    /// Annotations of one kind GitHub shows per step.
    static let shownPerKind = 10

    static func render(_ report: LintReport) -> String {
        var out = ""
        for (file, finding) in report.findings {
            let command: String
            switch finding.severity {
            case .error: command = "error"
            case .warning: command = "warning"
            case .info: command = "notice"
            }
            var properties = [
                ("file", file.path), ("line", String(finding.start.line)), ("col", String(finding.start.column)),
            ]
            if finding.end.line >= finding.start.line, finding.end != finding.start {
                properties.append(("endLine", String(finding.end.line)))
                properties.append(("endColumn", String(finding.end.column)))
            }
            properties.append(("title", "\(finding.rule) \(Rules.rule(finding.rule).name)"))
            var message = finding.message
            if let help = finding.help { message += "\nhelp: \(help)" }
            if let fix = finding.offeredFix { message += "\nfix: \(fix.title) (\(fix.safety.command))" }
            out +=
                "::\(command) " + properties.map { "\($0)=\(escapeProperty($1))" }.joined(separator: ",")
                + "::\(escapeData(message))\n"
        }
        out += "updatectl lint: \(report.summary)"
        let hidden = [Severity.error, .warning, .info].contains { report.count($0) > shownPerKind }
        if hidden { out += " (GitHub shows the first \(shownPerKind) annotations of each kind; every finding is in the job summary)" }
        return out + "\n"
    }

    /// The job summary: a Markdown table of every finding.
    static func stepSummary(_ report: LintReport) -> String {
        var out = "### updatectl lint\n\n\(report.summary)\n"
        guard !report.findings.isEmpty else { return out + "\n" }
        out += "\n| where | rule | severity | message |\n| --- | --- | --- | --- |\n"
        for (file, finding) in report.findings {
            let rule = Rules.rule(finding.rule)
            out +=
                "| \(cell("\(file.path):\(finding.start.line):\(finding.start.column)")) | \(rule.id) \(rule.name) "
                + "| \(finding.severity.rawValue) | \(cell(finding.message)) |\n"
        }
        return out + "\nEach rule is explained by `updatectl lint --explain CODE` and in docs/lint-rules.md of updatectl's source.\n\n"
    }

    /// Table cells: a pipe would end the cell; control characters (a newline would end the row)
    /// are shown as the text and annotations show them (`\r`, `\n`, `\u{1b}`).
    static func cell(_ text: String) -> String {
        VisibleText.escape(text).split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|")
    }

    /// The toolkit's `escapeData`: `%`, CR and LF.
    static func escapeData(_ text: String) -> String {
        var out = ""
        for character in text.unicodeScalars {
            switch character {
            case "%": out += "%25"
            case "\r": out += "%0D"
            case "\n": out += "%0A"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// The toolkit's `escapeProperty`: `escapeData` plus `:` and `,`.
    static func escapeProperty(_ text: String) -> String {
        var out = ""
        for character in escapeData(text).unicodeScalars {
            switch character {
            case ":": out += "%3A"
            case ",": out += "%2C"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }
}

/// GitLab Code Quality (a Code Climate subset) with fingerprints that survive unrelated edits:
/// they hash the path, the rule, the message and the occurrence, not the line number.
enum GitLabRenderer {
    static func severity(_ severity: Severity) -> String {
        switch severity {
        case .error: "major"
        case .warning: "minor"
        case .info: "info"
        }
    }

    static func render(_ report: LintReport) -> String {
        let fingerprints = Fingerprints()
        let issues: [JSON] = report.findings.map { file, finding in
            .object([
                ("type", .string("issue")),
                ("check_name", .string("\(finding.rule) \(Rules.rule(finding.rule).name)")),
                // One line: GitLab shows the description as a title.
                ("description", .string(VisibleText.escape(finding.message))),
                ("categories", .array([.string(Rules.rule(finding.rule).codeQualityCategory)])),
                ("severity", .string(severity(finding.severity))),
                ("fingerprint", .string(fingerprints.next(file.path, finding))),
                (
                    "location",
                    .object([
                        ("path", .string(file.path)),
                        ("lines", .object([("begin", .int(finding.start.line)), ("end", .int(finding.end.line))])),
                    ])
                ),
            ])
        }
        return JSON.array(issues).render() + "\n"
    }
}

/// Fingerprints that survive unrelated edits: the path, the rule, the message (which names no
/// line number) and the occurrence of that same triple, not the line.
final class Fingerprints {
    private var seen: [String: Int] = [:]

    func next(_ path: String, _ finding: Finding) -> String {
        let identity = "\(path)\u{0}\(finding.rule)\u{0}\(finding.message)"
        let occurrence = seen[identity, default: 0]
        seen[identity] = occurrence + 1
        return Fingerprint.hex("\(identity)\u{0}\(occurrence)")
    }
}

/// A stable 128-bit fingerprint (two FNV-1a 64 hashes with different offsets), as 32 hex digits.
enum Fingerprint {
    static func hex(_ text: String) -> String {
        func fnv(_ basis: UInt64) -> UInt64 {
            var hash = basis
            for byte in text.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
            return hash
        }
        func pad(_ value: UInt64) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        return pad(fnv(0xcbf2_9ce4_8422_2325)) + pad(fnv(0x6c62_272e_07bb_0142))
    }
}
