import YAMLTree

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

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
        /// The comment it is written in, and the codes' neighbours, for the fix that removes it.
        var comment: Comment
    }

    /// One `# updatectl: disable=…` comment.
    struct Comment {
        /// Where removing the whole comment starts: the line's start for a comment alone on its
        /// line, else the white space before the `#`.
        var removalStart: Int
        /// Where it ends: after the line's newline for a comment alone, else before any `\r`.
        var removalEnd: Int
        /// Nothing but the codes follows the directive (no reason written after them).
        var onlyCodes: Bool
        /// Byte ranges of the codes, in order.
        var codes: [Range<Int>]
    }

    var entries: [Entry] = []

    static let marker = Array("updatectl:".utf8)

    /// Finds the comments in `source`. A `#` starts a comment at the line start or after white space,
    /// unless it stands inside a scalar written quoted or as a block (`quoted`: their byte ranges,
    /// asked only when a file has a `#` at all): such a `#` is text, a `write_files` file's or a
    /// command's, and suppresses nothing. Lines end at LF, CR LF or a lone CR, as YAML's do.
    /// Every file is searched, so the `#`s are found with `memchr` and lines counted only up to them.
    init(source: [UInt8], quoted: () -> [Range<Int>] = { [] }) {
        var found: [(hash: Int, end: Int, line: Int, lineStart: Int)] = []
        source.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            let count = buffer.count
            func position(_ pointer: UnsafeMutableRawPointer) -> Int { UnsafeRawPointer(base).distance(to: pointer) }
            var line = 1
            var lineStart = 0
            var counted = 0
            var index = 0
            while index < count, let hit = memchr(base + index, Int32(UInt8(ascii: "#")), count - index) {
                let hash = position(hit)
                var newlines = 0
                for at in counted..<hash where base[at] == 0x0A || (base[at] == 0x0D && (at + 1 == count || base[at + 1] != 0x0A)) {
                    newlines += 1
                }
                if newlines > 0 {
                    line += newlines
                    lineStart = hash
                    while base[lineStart - 1] != 0x0A, base[lineStart - 1] != 0x0D { lineStart -= 1 }
                }
                counted = hash
                guard hash == lineStart || base[hash - 1] == 0x20 || base[hash - 1] == 0x09 else {
                    index = hash + 1
                    continue
                }
                var end = memchr(base + hash, 0x0A, count - hash).map(position) ?? count
                if let cr = memchr(base + hash, 0x0D, end - hash).map(position), cr + 1 < end || end == count { end = cr }
                found.append((hash, end, line, lineStart))
                index = end
            }
        }
        let scalars = found.isEmpty ? [] : quoted()
        var next = 0
        for comment in found {
            // Both in file order: step through the scalars once.
            while next < scalars.count, scalars[next].upperBound <= comment.hash { next += 1 }
            if next < scalars.count, scalars[next].contains(comment.hash) { continue }
            let standalone = source[comment.lineStart..<comment.hash].allSatisfy { $0 == 0x20 || $0 == 0x09 }
            parse(
                comment: source, from: comment.hash + 1, to: comment.end, line: comment.line, lineStart: comment.lineStart,
                standalone: standalone)
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
        let first = entries.count
        var codes: [Range<Int>] = []
        while cursor <= end {
            if cursor == end || source[cursor] == UInt8(ascii: ",") || source[cursor] == 0x20 {
                if cursor > codeStart {
                    let code = String(decoding: source[codeStart..<cursor], as: UTF8.self)
                    let column = String(decoding: source[lineStart..<codeStart], as: UTF8.self).unicodeScalars.count + 1
                    let width = String(decoding: source[codeStart..<cursor], as: UTF8.self).unicodeScalars.count
                    codes.append(codeStart..<cursor)
                    entries.append(
                        Entry(
                            code: code, mark: Mark(line: line, column: column, offset: codeStart),
                            end: Mark(line: line, column: column + width, offset: cursor),
                            target: standalone ? line + 1 : line,
                            comment: Comment(removalStart: 0, removalEnd: 0, onlyCodes: false, codes: [])))
                }
                if cursor < end, source[cursor] == 0x20 { break }
                codeStart = cursor + 1
            }
            cursor += 1
        }
        var textEnd = end
        while textEnd > from, source[textEnd - 1] == 0x0D || source[textEnd - 1] == 0x20 || source[textEnd - 1] == 0x09 { textEnd -= 1 }
        var removalStart = from - 1
        while removalStart > lineStart, source[removalStart - 1] == 0x20 || source[removalStart - 1] == 0x09 { removalStart -= 1 }
        let comment = Comment(
            removalStart: standalone ? lineStart : removalStart,
            removalEnd: standalone ? min(end + 1, source.count) : textEnd,
            onlyCodes: (codes.last?.upperBound ?? end) >= textEnd, codes: codes)
        for index in first..<entries.count { entries[index].comment = comment }
    }

    /// The fix that removes `entry`'s code: the whole comment when it was the comment's only
    /// unused code and nothing else is written in it, else the code and a comma beside it.
    func removal(of entry: Entry) -> Fix? {
        let comment = entry.comment
        let unused = entries.filter {
            !$0.used && $0.comment.codes == comment.codes && $0.comment.removalStart == comment.removalStart
                && Rules.lookup($0.code)?.id.rawValue == $0.code
        }
        if unused.count == comment.codes.count {
            guard comment.onlyCodes else { return nil }
            return Fix("remove the comment", .safe, replacing: comment.removalStart, comment.removalEnd, with: "")
        }
        guard let index = comment.codes.firstIndex(where: { $0.lowerBound == entry.mark.offset }) else { return nil }
        let range = comment.codes[index]
        // The comma after it, or (for the last code) the one before it.
        let removed =
            index + 1 < comment.codes.count
            ? range.lowerBound..<comment.codes[index + 1].lowerBound : comment.codes[index - 1].upperBound..<range.upperBound
        return Fix("remove `\(entry.code)` from the comment", .safe, replacing: removed.lowerBound, removed.upperBound, with: "")
    }

    /// Each suppression's code and the line it silences.
    var silenced: Set<LintResult.Suppression> {
        Set(entries.map { LintResult.Suppression(line: $0.target, code: $0.code) })
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
        // A suppression of a host check (UPD5xx) is used by `lint --on-host` only: without it, it
        // silences nothing and is not therefore unused.
        for entry in entries where !entry.used && !entry.code.hasPrefix("UPD5") {
            let end = entry.end
            if Rules.lookup(entry.code) == nil || Rules.lookup(entry.code)?.id.rawValue != entry.code {
                let guess = Suggestions.closest(to: entry.code, in: Rules.all.map(\.id.rawValue))
                kept.append(
                    Finding(
                        .badSuppression, "`\(entry.code)` is not a rule code, so this suppression silences nothing",
                        start: entry.mark, end: end,
                        help: guess.map { "did you mean `\($0)`?" } ?? "codes look like UPD404; `updatectl lint --explain` lists them",
                        // Codes stand a digit or two apart: a misspelt one is never only one code's.
                        fixes: guess.map { [Fix("write `\($0)`", .unsafe, replacing: entry.mark.offset, end.offset, with: $0)] } ?? []))
            } else {
                // The message names no line number: fingerprints (GitLab, SARIF) must survive lines
                // inserted above.
                let place = entry.target == entry.mark.line ? "its line has" : "the line below it has"
                kept.append(
                    Finding(
                        .unusedSuppression, "the suppression of \(entry.code) silences nothing: \(place) no such finding",
                        start: entry.mark, end: end, help: "remove it", fixes: removal(of: entry).map { [$0] } ?? []))
            }
        }
        return kept
    }
}
