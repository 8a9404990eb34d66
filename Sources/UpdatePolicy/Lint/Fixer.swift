public import YAMLTree

/// What `lint --fix` made of one file: the bytes to write (the original when nothing applied or
/// the edits were undone), how many findings were fixed, and the lint of the result.
public struct FixOutcome: Sendable {
    /// The file's bytes after the fixes.
    public var source: [UInt8]
    /// Findings whose fix was applied, over every pass.
    public var fixed: Int
    /// The lint of `source`; with a `fixBreaksFile` finding when the edits were undone.
    public var result: LintResult
    /// The edits of each pass that applied any, each against the bytes the pass started from.
    public var passes: [[Fix.Edit]]
    /// The fixes would have made a file that no longer parses: nothing was applied.
    public var undone: Bool

    public var changed: Bool { !passes.isEmpty && !undone }
}

/// Applies the fixes lint proposes, over passes: each pass lints the bytes, takes the fixes that
/// do not overlap an earlier one (in file order) and applies them to the bytes; the next pass
/// lints the result, so a fix that overlapped gets its turn when it still applies. Nothing is
/// ever re-serialised: every byte outside an edit stays as it was.
public enum Fixer {
    /// Passes at most: each applies at least one fix, and a finding's fix removes the finding, so
    /// real files settle in two or three.
    public static let maximumPasses = 10

    /// Fixes `source`, linted by `lint`, with the fixes of `safety` and safer.
    /// `linted`: the lint of `source`, when it is at hand.
    public static func fix(
        _ source: [UInt8], safety: Fix.Safety, linted: LintResult? = nil, lint: ([UInt8]) -> LintResult
    ) -> FixOutcome {
        let original = linted ?? lint(source)
        var current = source, result = original
        var fixed = 0
        var passes: [[Fix.Edit]] = []
        while passes.count < maximumPasses {
            let chosen = choose(result.findings, safety: safety)
            guard !chosen.edits.isEmpty else { break }
            let next = apply(chosen.edits, to: current)
            let nextResult = lint(next)
            if readingProblems(nextResult) > readingProblems(original) {
                var undone = original
                let at = chosen.edits[0].start
                undone.findings.append(brokeFile(at: Mark(ofByte: at, in: source)))
                undone.findings.sort { ($0.start.offset, $0.rule, $0.message) < ($1.start.offset, $1.rule, $1.message) }
                return FixOutcome(source: source, fixed: 0, result: undone, passes: passes + [chosen.edits], undone: true)
            }
            passes.append(chosen.edits)
            fixed += chosen.findings
            current = next
            result = nextResult
        }
        return FixOutcome(source: current, fixed: fixed, result: result, passes: passes, undone: false)
    }

    /// The fixes of one pass: each finding's first fix of `safety` or safer whose edits overlap
    /// none taken before it, in file order. A fix equal to one taken (the same node reached twice
    /// through an alias) counts its finding as fixed without a second edit.
    public static func choose(_ findings: [Finding], safety: Fix.Safety) -> (edits: [Fix.Edit], findings: Int) {
        let candidates = findings.compactMap { finding in finding.fixes.first { $0.safety <= safety && !$0.edits.isEmpty } }
            .sorted { ($0.edits[0].start, $0.edits[0].end, $0.title) < ($1.edits[0].start, $1.edits[0].end, $1.title) }
        var taken: [Fix] = []
        var edits: [Fix.Edit] = []
        var count = 0
        for fix in candidates {
            if taken.contains(where: { $0.edits == fix.edits }) {
                count += 1
                continue
            }
            guard !fix.edits.contains(where: { edit in edits.contains { overlap($0, edit) } }) else { continue }
            guard !overlapsItself(fix.edits) else { continue }
            taken.append(fix)
            edits += fix.edits
            count += 1
        }
        return (edits.sorted(), count)
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

    /// Findings that say the file cannot be read as one document, or as update.conf.
    static func readingProblems(_ result: LintResult) -> Int {
        result.findings.count { readingRules.contains($0.rule) }
    }

    static let readingRules: Set<RuleID> = [
        .yamlSyntax, .duplicateKey, .undefinedAlias, .aliasBudget, .tooDeep, .multipleDocuments, .emptyFile, .fileTooLarge,
        .confSyntax, .missingUpdates,
    ]

    static func brokeFile(at mark: Mark) -> Finding {
        Finding(
            .fixBreaksFile, "the fixes lint proposes would leave a file that no longer reads as a policy, so none was applied",
            start: mark, help: "fix the findings by hand; this is a defect of updatectl's fixes, worth reporting with the file")
    }
}

extension PolicyLinter {
    /// Lints `bytes` as the file at `path` is linted: update.conf by its name, YAML otherwise.
    public static func lint(_ bytes: [UInt8], path: String, options: LintOptions) -> LintResult {
        UpdateConf.isConf(path) ? lintConf(bytes, file: path, options: options) : lint(bytes, file: path, options: options)
    }
}
