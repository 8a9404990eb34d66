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
        return parts.isEmpty ? "\(checked): no problems" : "\(checked): " + parts.joined(separator: ", ")
    }

    /// The rules that fired, in code order (SARIF lists them).
    var rulesUsed: [Rule] {
        Set(findings.map(\.finding.rule)).sorted().map(Rules.rule)
    }
}
