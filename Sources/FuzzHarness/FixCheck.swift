public import UpdatePolicy

/// What `lint --fix` must do with any input, checked by the fuzzer and by the tests over its
/// corpus: each pass replaces exactly its edits' bytes and keeps every other byte, and a file
/// that could be read still can after the fixes (the fixes that would break it are left out).
public enum FixCheck {
    /// Whether `edits` are in order, do not overlap (nor insert twice at one place, an order
    /// that would be a guess), and lie within a file of `count` bytes.
    public static func editsFit(_ edits: [Fix.Edit], in count: Int) -> Bool {
        edits.allSatisfy { $0.start >= 0 && $0.start <= $0.end && $0.end <= count }
            && zip(edits, edits.dropFirst()).allSatisfy { $0.end <= $1.start && $0.start < $1.start }
    }

    /// Whether `output` is `input` with the ranges of `edits` (which fit) replaced by their texts,
    /// segment by segment: the bytes before, between and after the edits are the input's own.
    public static func replaces(_ edits: [Fix.Edit], in input: [UInt8], giving output: [UInt8]) -> Bool {
        var read = 0, written = 0
        for edit in edits {
            let kept = edit.start - read, text = Array(edit.text.utf8)
            guard written + kept + text.count <= output.count,
                output[written..<written + kept].elementsEqual(input[read..<edit.start]),
                output[written + kept..<written + kept + text.count].elementsEqual(text)
            else { return false }
            written += kept + text.count
            read = edit.end
        }
        return output.count - written == input.count - read && output[written...].elementsEqual(input[read...])
    }

    /// What is wrong with fixing `bytes` with the fixes of `safety`, or nil.
    public static func violation(fixing bytes: [UInt8], safety: Fix.Safety, options: LintOptions) -> String? {
        let lint = { (bytes: [UInt8]) in PolicyLinter.lint(bytes, file: "fuzz.yaml", options: options) }
        let original = lint(bytes)
        let outcome = Fixer.fix(bytes, safety: safety, lint: lint)
        var current = bytes
        for edits in outcome.passes {
            guard editsFit(edits, in: current.count) else { return "a pass's edits overlap or lie outside the file" }
            let next = Fixer.apply(edits, to: current)
            guard replaces(edits, in: current, giving: next) else { return "a pass changed bytes outside its edits" }
            current = next
        }
        guard current == outcome.source else { return "the passes do not make the fixed file" }
        if isReadable(original), !isReadable(lint(current)) { return "the fixes made a readable file unreadable" }
        return nil
    }

    /// No reading problem (UPD1xx): the file is one YAML document within the limits.
    static func isReadable(_ result: LintResult) -> Bool {
        !result.findings.contains { $0.rule.rawValue.hasPrefix("UPD1") }
    }
}
