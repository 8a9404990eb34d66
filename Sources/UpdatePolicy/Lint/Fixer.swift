public import YAMLTree

/// What `lint --fix` made of one file: the bytes to write, how many findings were fixed, and the
/// lint of the result.
public struct FixOutcome: Sendable {
    /// The file's bytes after the fixes.
    public var source: [UInt8]
    /// Findings whose fix was applied, over every pass.
    public var fixed: Int
    /// The lint of `source`, with a `fixBreaksFile` finding for each fix left out.
    public var result: LintResult
    /// The edits of each pass that applied any, each against the bytes the pass started from.
    public var passes: [[Fix.Edit]]
    /// Fixes left out because the file would no longer have read as one policy with them.
    public var refused: Int

    public var changed: Bool { !passes.isEmpty }
}

/// Applies the fixes lint proposes, over passes: each pass lints the bytes, takes the fixes that
/// do not overlap an earlier one (in file order) and applies them to the bytes; the next pass
/// lints the result, so a fix that overlapped gets its turn when it still applies. Nothing is
/// ever re-serialised: every byte outside an edit stays as it was. A pass whose result would
/// not read as it read before (a YAML error, a duplicate key that was not there) is tried fix by
/// fix: the fixes that break the file alone are left out, each reported with UPD110 where its
/// finding is, and the others applied.
public enum Fixer {
    /// Passes at most: each applies at least one fix, and a finding's fix removes the finding, so
    /// real files settle in two or three.
    public static let maximumPasses = 10
    /// A breaking pass with more fixes than this is left out whole rather than tried fix by fix
    /// (each try is a lint of the file).
    static let triedOneByOne = 64

    /// A fix left out, with where it was to apply (in the bytes of the pass that tried it) and what
    /// it would have broken.
    private struct Refusal {
        var fix: Fix
        var rule: RuleID
        /// Its finding's message, which tells it from a finding of the same rule with an equal fix.
        var message: String
        var offset: Int
        var pass: Int
        var problem: String
    }

    /// Fixes `source`, linted by `lint`, with the fixes of `safety` and safer.
    /// `linted`: the lint of `source`, when it is at hand.
    public static func fix(
        _ source: [UInt8], safety: Fix.Safety, linted: LintResult? = nil, lint: ([UInt8]) -> LintResult
    ) -> FixOutcome {
        let original = linted ?? lint(source)
        var current = source, result = original
        var fixed = 0
        var passes: [[Fix.Edit]] = []
        var refusals: [Refusal] = []
        var rounds = 0
        while passes.count < maximumPasses, rounds < 2 * maximumPasses {
            rounds += 1
            let candidates = result.findings.filter { finding in
                !refusals.contains { refusal in refusal.rule == finding.rule && finding.fixes.contains { same($0, refusal.fix) } }
            }
            var chosen = choose(candidates, safety: safety)
            guard !chosen.edits.isEmpty else { break }
            var next = apply(chosen.edits, to: current)
            var nextResult = lint(next)
            if let problem = newProblem(nextResult, comparedWith: original) {
                // Take the fixes one at a time, in file order, each with those taken before it:
                // one that breaks the file (alone, or with an earlier one: two keys fixed to the
                // same name) is left out.
                var kept: [(finding: Finding, fix: Fix)] = []
                var keptEdits: [Fix.Edit] = []
                var last: (bytes: [UInt8], result: LintResult)?
                for (finding, fix) in chosen.fixes {
                    let edits = (keptEdits + fix.edits).sorted()
                    let bytes = apply(edits, to: current)
                    let tried = chosen.fixes.count <= triedOneByOne ? lint(bytes) : nil
                    if let broken = tried.map({ newProblem($0, comparedWith: original) }) ?? problem {
                        refusals.append(
                            Refusal(
                                fix: fix, rule: finding.rule, message: finding.message, offset: fix.edits[0].start, pass: passes.count,
                                problem: broken))
                    } else if let tried {
                        kept.append((finding, fix))
                        keptEdits = edits
                        last = (bytes, tried)
                    }
                }
                guard let last else { continue }
                chosen = (keptEdits, kept.count, kept)
                next = last.bytes
                nextResult = last.result
            }
            passes.append(chosen.edits)
            fixed += chosen.findings
            current = next
            result = nextResult
        }
        for refusal in refusals {
            // Where its finding still stands, without the fix; else where the fix was to apply.
            var offset = refusal.offset
            for edits in passes[refusal.pass...] { offset = moved(offset, by: edits) }
            for index in result.findings.indices
            where result.findings[index].rule == refusal.rule && result.findings[index].message == refusal.message {
                let before = result.findings[index].fixes.count
                result.findings[index].fixes.removeAll { same($0, refusal.fix) }
                if result.findings[index].fixes.count < before { offset = result.findings[index].start.offset }
            }
            result.findings.append(brokeFile(refusal, at: Mark(ofByte: offset, in: current)))
        }
        result.findings.sort { ($0.start.offset, $0.rule, $0.message) < ($1.start.offset, $1.rule, $1.message) }
        return FixOutcome(source: current, fixed: fixed, result: result, passes: passes, refused: refusals.count)
    }

    /// Fixes that make the same change (their places may have moved between passes).
    private static func same(_ a: Fix, _ b: Fix) -> Bool {
        a.title == b.title && a.safety == b.safety && a.edits.map(\.text) == b.edits.map(\.text)
            && a.edits.map { $0.end - $0.start } == b.edits.map { $0.end - $0.start }
    }

    /// `offset` in the bytes after `edits` were applied.
    static func moved(_ offset: Int, by edits: [Fix.Edit]) -> Int {
        var shift = 0
        for edit in edits {
            if edit.end <= offset, edit.start < offset {
                shift += edit.text.utf8.count - (edit.end - edit.start)
            } else if edit.start < offset {
                return edit.start + shift
            }
        }
        return offset + shift
    }

    /// The fixes of one pass: each finding's first fix of `safety` or safer whose edits overlap
    /// none taken before it, in file order. A fix equal to one taken (the same node reached twice
    /// through an alias) counts its finding as fixed without a second edit.
    /// `only`: the fixes that may be taken, when not every finding's first.
    public static func choose(
        _ findings: [Finding], safety: Fix.Safety, only: [Fix]? = nil
    )
        -> (edits: [Fix.Edit], findings: Int, fixes: [(finding: Finding, fix: Fix)])
    {
        let allowed = only.map(Set.init)
        let candidates = findings.compactMap { finding in
            finding.fixes.first { $0.safety <= safety && !$0.edits.isEmpty && (allowed?.contains($0) ?? true) }.map { (finding, $0) }
        }
        .sorted { ($0.1.edits[0].start, $0.1.edits[0].end, $0.1.title) < ($1.1.edits[0].start, $1.1.edits[0].end, $1.1.title) }
        var taken: [(finding: Finding, fix: Fix)] = []
        var seen = Set<[Fix.Edit]>()
        // The edits taken, in order and not overlapping, so a new one is compared with its
        // neighbours only: thousands of fixes are a pass of thousands of steps, not their square.
        var edits: [Fix.Edit] = []
        var count = 0
        for (finding, fix) in candidates {
            if seen.contains(fix.edits) {
                count += 1
                continue
            }
            guard !overlapsItself(fix.edits), !fix.edits.contains(where: { overlapsAny($0, edits) }) else { continue }
            taken.append((finding, fix))
            seen.insert(fix.edits)
            for edit in fix.edits { edits.insert(edit, at: insertionIndex(of: edit, in: edits)) }
            count += 1
        }
        return (edits, count, taken)
    }

    /// Where `edit` goes in `edits`, which are sorted.
    private static func insertionIndex(of edit: Fix.Edit, in edits: [Fix.Edit]) -> Int {
        if let last = edits.last, !(edit < last) { return edits.count }
        var low = 0, high = edits.count
        while low < high {
            let middle = (low + high) / 2
            if edits[middle] < edit { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Whether `edit` overlaps one of `edits` (sorted, not overlapping each other): only the
    /// edits around its place can.
    private static func overlapsAny(_ edit: Fix.Edit, _ edits: [Fix.Edit]) -> Bool {
        let index = insertionIndex(of: edit, in: edits)
        var low = index
        while low > 0, edits[low - 1].end >= edit.start { low -= 1 }
        var high = index
        while high < edits.count, edits[high].start <= edit.end { high += 1 }
        return edits[low..<high].contains { overlap($0, edit) } || (low > 0 && overlap(edits[low - 1], edit))
    }

    /// Whether two edits touch the same bytes, or insert at the same place (their order would be a guess).
    public static func overlap(_ a: Fix.Edit, _ b: Fix.Edit) -> Bool {
        if a.start == a.end || b.start == b.end {
            return a.start == b.start || (a.start > b.start && a.start < b.end) || (b.start > a.start && b.start < a.end)
        }
        return a.start < b.end && b.start < a.end
    }

    private static func overlapsItself(_ edits: [Fix.Edit]) -> Bool {
        zip(edits, edits.dropFirst()).contains { overlap($0, $1) }
    }

    /// `source` with `edits` (sorted, not overlapping) applied; ranges past the end are clamped.
    public static func apply(_ edits: [Fix.Edit], to source: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(source.count + edits.reduce(0) { $0 + $1.text.utf8.count })
        var cursor = 0
        for edit in edits.sorted() {
            let start = min(max(edit.start, cursor), source.count), end = min(max(edit.end, start), source.count)
            out += source[cursor..<start]
            out += Array(edit.text.utf8)
            cursor = end
        }
        out += source[cursor...]
        return out
    }

    /// The message of a reading problem `result` has more of than `original` (rule by rule: a YAML
    /// error where there was a misspelt `updates:` is new), or nil.
    static func newProblem(_ result: LintResult, comparedWith original: LintResult) -> String? {
        for rule in readingRules {
            let found = result.findings.filter { $0.rule == rule }
            if found.count > original.findings.count(where: { $0.rule == rule }) { return found.last?.message }
        }
        return nil
    }

    static let readingRules: Set<RuleID> = [
        .yamlSyntax, .duplicateKey, .undefinedAlias, .aliasBudget, .tooDeep, .multipleDocuments, .emptyFile, .fileTooLarge,
        .confSyntax, .missingUpdates,
    ]

    private static func brokeFile(_ refusal: Refusal, at mark: Mark) -> Finding {
        Finding(
            .fixBreaksFile,
            "the fix of \(refusal.rule) \"\(refusal.fix.title)\" was not applied: the file would no longer read as one policy "
                + "(\(refusal.problem))",
            start: mark,
            help: "make the change by hand if it is what was meant (two keys fixed to one name collide: keep one)")
    }
}

extension PolicyLinter {
    /// Lints `bytes` as the file at `path` is linted: update.conf by its name, YAML otherwise.
    public static func lint(_ bytes: [UInt8], path: String, options: LintOptions) -> LintResult {
        UpdateConf.isConf(path) ? lintConf(bytes, file: path, options: options) : lint(bytes, file: path, options: options)
    }
}
