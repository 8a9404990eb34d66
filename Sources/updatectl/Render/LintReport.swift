import UpdateAgent
import UpdatePolicy

/// Everything one `lint` run found, with the paths as reports show them.
struct LintReport {
    struct File {
        /// The path as reports name it: relative to the working directory when it is under it.
        var path: String
        var result: LintResult
    }

    var files: [File]
    /// Inputs that could not be read (the run is not a complete check).
    var unreadable: [PolicyFiles.Unreadable] = []
    /// Files skipped as not policies (`--skip-non-policies`).
    var skipped = 0

    var findings: [(file: File, finding: Finding)] {
        files.flatMap { file in file.result.findings.map { (file, $0) } }
    }

    func count(_ severity: Severity) -> Int {
        files.reduce(0) { $0 + $1.result.findings.count { $0.severity == severity } }
    }

    /// "2 errors, 1 warning" — or "no problems".
    var summary: String {
        var parts: [String] = []
        for (severity, noun) in [(Severity.error, "error"), (.warning, "warning"), (.info, "info")] {
            let n = count(severity)
            if n > 0 { parts.append("\(n) \(noun)\(n == 1 || severity == .info ? "" : "s")") }
        }
        var checked = "\(files.count) file\(files.count == 1 ? "" : "s") checked"
        if skipped > 0 { checked += ", \(skipped) skipped (not policies)" }
        guard !parts.isEmpty else { return "\(checked): no problems" }
        return "\(checked): " + parts.joined(separator: ", ") + fixableSummary
    }

    /// "; 3 fixable with `updatectl lint --fix` (1 more with `--unsafe-fixes`)", or nothing when no
    /// finding has a fix.
    var fixableSummary: String {
        let safe = findings.count { $0.finding.hasSafeFix }
        let unsafe = findings.count { !$0.finding.hasSafeFix && $0.finding.offeredFix != nil }
        switch (safe, unsafe) {
        case (0, 0): return ""
        case (_, 0): return "; \(safe) fixable with `\(Fix.Safety.safe.command)`"
        case (0, _): return "; \(unsafe) fixable with `\(Fix.Safety.unsafe.command)`"
        default: return "; \(safe) fixable with `\(Fix.Safety.safe.command)` (\(unsafe) more with `--unsafe-fixes`)"
        }
    }

    /// The rules that fired, in code order (SARIF lists them).
    var rulesUsed: [Rule] {
        Set(findings.map(\.finding.rule)).sorted().map(Rules.rule)
    }
}

extension Finding {
    /// The fix reports show: the one `lint --fix` applies (the first safe fix), else the first one
    /// `--unsafe-fixes` would apply.
    var offeredFix: Fix? {
        fixes.first { $0.safety == .safe && !$0.edits.isEmpty } ?? fixes.first { !$0.edits.isEmpty }
    }

    /// Whether `lint --fix` resolves it without `--unsafe-fixes`.
    var hasSafeFix: Bool { offeredFix?.safety == .safe }
}

extension Fix.Safety {
    /// The command that applies a fix of this safety.
    var command: String { self == .safe ? "updatectl lint --fix" : "updatectl lint --fix --unsafe-fixes" }
}
