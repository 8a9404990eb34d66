import YAMLTree

/// Inline suppressions: `# updatectl: disable=UPD301,UPD404` silences those codes on its own line
/// when it trails a value, or on the next line when the comment stands alone on its line.
struct Suppressions {
    struct Entry {
        var code: String
        /// Where the code is written, and where it ends.
        var mark: Mark
        var end: Mark
        /// The line whose findings it silences.
        var target: Int
        var used = false
    }

    var entries: [Entry] = []

    static let marker = Array("updatectl:".utf8)

    /// Finds the comments in `source`. A `#` starts a comment at the line start or after white space.
    init(source: [UInt8]) {
        var line = 1
        var lineStart = 0
        var index = 0
        let count = source.count
        while index < count {
            let byte = source[index]
            if byte == 0x0A {
                line += 1
                lineStart = index + 1
            } else if byte == UInt8(ascii: "#"), index == lineStart || source[index - 1] == 0x20 || source[index - 1] == 0x09 {
                let standalone = source[lineStart..<index].allSatisfy { $0 == 0x20 || $0 == 0x09 }
                var end = index
                while end < count, source[end] != 0x0A { end += 1 }
                parse(comment: source, from: index + 1, to: end, line: line, lineStart: lineStart, standalone: standalone)
                index = end
                continue
            }
            index += 1
        }
    }

    private mutating func parse(comment source: [UInt8], from: Int, to end: Int, line: Int, lineStart: Int, standalone: Bool) {
        var cursor = from
        while cursor < end, source[cursor] == 0x20 { cursor += 1 }
        guard end - cursor >= Self.marker.count, Array(source[cursor..<cursor + Self.marker.count]) == Self.marker else { return }
        cursor += Self.marker.count
        while cursor < end, source[cursor] == 0x20 { cursor += 1 }
        let directive = Array("disable=".utf8)
        guard end - cursor >= directive.count, Array(source[cursor..<cursor + directive.count]) == directive else { return }
        cursor += directive.count
        var codeStart = cursor
        while cursor <= end {
            if cursor == end || source[cursor] == UInt8(ascii: ",") || source[cursor] == 0x20 {
                if cursor > codeStart {
                    let code = String(decoding: source[codeStart..<cursor], as: UTF8.self)
                    let column = String(decoding: source[lineStart..<codeStart], as: UTF8.self).unicodeScalars.count + 1
                    let width = String(decoding: source[codeStart..<cursor], as: UTF8.self).unicodeScalars.count
                    entries.append(Entry(code: code, mark: Mark(line: line, column: column, offset: codeStart),
                                         end: Mark(line: line, column: column + width, offset: cursor),
                                         target: standalone ? line + 1 : line))
                }
                if cursor < end, source[cursor] == 0x20 { break }
                codeStart = cursor + 1
            }
            cursor += 1
        }
    }

    /// Removes the findings that a suppression silences, and adds findings for suppressions that
    /// name no rule or silence nothing.
    mutating func apply(to findings: [Finding]) -> [Finding] {
        var kept: [Finding] = []
        for finding in findings {
            if let index = entries.firstIndex(where: { $0.target == finding.start.line && $0.code == finding.rule.rawValue }) {
                entries[index].used = true
            } else {
                kept.append(finding)
            }
        }
        for entry in entries where !entry.used {
            let end = entry.end
            if Rules.lookup(entry.code) == nil || Rules.lookup(entry.code)?.id.rawValue != entry.code {
                let guess = Suggestions.closest(to: entry.code, in: Rules.all.map(\.id.rawValue))
                kept.append(Finding(
                    .badSuppression, "`\(entry.code)` is not a rule code, so this suppression silences nothing",
                    start: entry.mark, end: end,
                    help: guess.map { "did you mean `\($0)`?" } ?? "codes look like UPD404; `updatectl lint --explain` lists them"))
            } else {
                // The message names no line number: fingerprints (GitLab, SARIF) must survive lines
                // inserted above.
                let place = entry.target == entry.mark.line ? "its line has" : "the line below it has"
                kept.append(Finding(
                    .unusedSuppression, "the suppression of \(entry.code) silences nothing: \(place) no such finding",
                    start: entry.mark, end: end, help: "remove it"))
            }
        }
        return kept
    }
}
