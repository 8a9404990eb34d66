import ArgumentParser
import UpdateAgent
import UpdatePolicy
import YAMLTree

#if canImport(Glibc)
import Glibc
#endif

struct Lint: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Check policies and report every problem at its line and column.",
        discussion: """
            PATH is a file, a directory (searched recursively for *.yaml and *.yml), or - for \
            standard input. Files are checked concurrently; the report lists them in order.

            Silence a finding with a comment naming its code, on its line or alone on the line \
            before it:  # updatectl: disable=UPD404

            --fix applies the fixes lint knows (misspelt keys, spellings of durations, days and \
            zones, quotes YAML 1.1 needs) to the files in place, byte for byte; --diff shows them \
            as a unified diff instead. docs/lint.md has which are safe.

            \(ExitStatus.helpTable(for: [.success, .failure, .usage]))
            """
    )

    enum FailOn: String, ExpressibleByArgument, CaseIterable {
        case error, warning, info, none
    }

    @Argument(help: "Policy files or directories, or - for standard input.", completion: .file())
    var paths: [String] = []

    @Option(help: "Output format: text, concise, json, sarif, github, gitlab. Default: text, or github when GITHUB_ACTIONS=true.")
    var format: LintFormat?

    @Option(help: "Exit 1 when a finding is at or above this severity (error, warning, info, none).")
    var failOn: FailOn = .error

    @Option(help: "Write the report to this file instead of standard output.", completion: .file())
    var output: String?

    @Flag(help: "Ignore `# updatectl: disable=CODE` comments.")
    var noInlineDisable = false

    @Flag(
        help:
            "Also check this machine: the commands' programs (present, not writable by others, owned by root or you), the public key file, the policy file's permissions (UPD5xx)."
    )
    var onHost = false

    @Flag(
        help:
            "Check only policies: files with an `updates:` section (or a key that looks like a misspelt `updates`) and files named policy.yaml or update.conf; skip the rest (manifests, Helm values, empty files) and count them: for hooks that see every YAML file of a repository."
    )
    var skipNonPolicies = false

    @Option(
        help: "Print the documentation of a rule (e.g. UPD404 or rollback-off) and exit; `all` (or no code) lists the rules.",
        completion: .list(["all"] + Rules.all.map(\.id.rawValue)))
    var explain: String?

    @Flag(
        help:
            "Apply the safe fixes in place (misspelt keys with one close candidate, spellings of durations, days and zones, quotes YAML 1.1 readers need); report what remains. With -, write the fixed policy to standard output and the report to standard error."
    )
    var fix = false

    @Flag(help: "With --fix or --diff, apply the unsafe fixes too: those that change what the policy does or pick among candidates.")
    var unsafeFixes = false

    @Flag(help: "Print the fixes as a unified diff and change no file; exit 1 when they would change something.")
    var diff = false

    /// `--explain` given last, or before another option: it lists the rules (`--explain all`).
    static func listingRules(_ arguments: [String]) -> [String] {
        guard arguments.first == "lint" else { return arguments }
        var out: [String] = []
        for (index, argument) in arguments.enumerated() {
            out.append(argument)
            if argument == "--explain", index + 1 == arguments.count || arguments[index + 1].hasPrefix("-") { out.append("all") }
        }
        return out
    }

    func validate() throws {
        if explain == nil, paths.isEmpty {
            throw ValidationError("Give at least one policy file or directory, or - for standard input.")
        }
        if diff, let format, format != .text {
            throw ValidationError(
                "--diff prints a unified diff, not a report; the \(format.rawValue) format carries the fixes without --diff.")
        }
        if unsafeFixes, !fix, !diff {
            throw ValidationError("--unsafe-fixes goes with --fix (apply them) or --diff (show them).")
        }
        if fix, !diff, paths.contains("-"), paths.count > 1 {
            throw ValidationError("--fix writes a policy read from standard input to standard output, so - must be the only path.")
        }
    }

    func run() throws {
        if let code = explain {
            if code == "all" {
                printText(RuleDocs.list())
                return
            }
            guard let rule = Rules.lookup(code) else {
                printError("error: no rule is called `\(code)`; `updatectl lint --explain` lists them")
                throw ExitStatus.usage.exitCode
            }
            printText(RuleDocs.explain(rule))
            return
        }
        let (named, unreadable) = PolicyFiles.expand(paths)
        // The same file named twice (or reached through two directories) is checked once.
        var seen = Set<String>()
        var files = named.filter { seen.insert($0 == "-" ? $0 : DisplayPath.absolute($0)).inserted }
        if fix || diff {
            // Fixed once, however it is reached: through a symbolic link, or a linked directory.
            var real = Set<String>()
            files = files.filter { $0 == "-" || real.insert(FileReplacement.realPath($0) ?? $0).inserted }
        }
        for problem in unreadable {
            printError("error: cannot read \(problem.path): \(problem.reason)")
        }
        let options = PolicyFiles.options(inlineSuppressions: !noInlineDisable)
        let results = PolicyFiles.lint(all: files, options: options)
        var report = LintReport(files: [], unreadable: unreadable)
        var fixes = LintFixRun()
        var passedThrough: [UInt8]?
        for (index, outcome) in results.enumerated() {
            switch outcome {
            case .success(var result):
                if skipNonPolicies, result.notAPolicy, !PolicyFiles.isNamedPolicy(files[index]) || result.certainlyNotAPolicy {
                    report.skipped += 1
                    // Standard input fixed to standard output passes through what is not a policy.
                    if files[index] == "-" { passedThrough = result.source }
                    continue
                }
                if fix || diff {
                    result = fixes.fix(
                        result, path: files[index], shown: DisplayPath.relative(files[index]), safety: unsafeFixes ? .unsafe : .safe,
                        options: options)
                }
                if onHost, let policy = result.policy {
                    let host = HostChecks.findings(for: policy, policyPath: files[index])
                    result.findings += result.silencing(host)
                    result.findings.sort { ($0.start.offset, $0.rule) < ($1.start.offset, $1.rule) }
                }
                report.files.append(LintReport.File(path: DisplayPath.relative(files[index]), result: result))
            case .failure(let problem):
                printError("error: cannot read \(problem.path): \(problem.reason)")
                report.unreadable.append(problem)
            }
        }
        if diff { return try showDiff(fixes, report: report) }
        let chosen = format ?? (Environment.get("GITHUB_ACTIONS") == "true" ? .github : .text)
        if fix { try write(&fixes, report: &report) }
        let rendered = chosen.render(report)
        KeptUntilExit.keep((results, report))
        if fix, paths == ["-"] {
            // The fixed policy is standard output's, byte for byte; the report goes to --output or
            // standard error.
            fflush(nil)
            try? AtomicFile.writeAll(
                1, fixes.changed.first?.after ?? report.files.first?.result.source ?? passedThrough ?? [], path: "standard output")
            if let output { try OutputFile.write(rendered, to: output) } else { printErrorText(rendered) }
            printError(fixes.summary(applied: true, remaining: report.findings.count))
            try exit(report)
            return
        }
        if let output {
            try OutputFile.write(rendered, to: output)
        } else {
            printText(rendered)
        }
        if chosen == .github, let summary = Environment.get("GITHUB_STEP_SUMMARY"), !summary.isEmpty {
            StepSummary.append(GitHubRenderer.stepSummary(report), to: summary)
        }
        if fix {
            // Beside a text report on standard output; apart from a machine format's.
            let line = fixes.summary(applied: true, remaining: report.findings.count)
            if output == nil, chosen == .text || chosen == .concise { printLine(line) } else { printError(line) }
        }
        try exit(report)
    }

    /// Lint's exit status for what `report` holds.
    private func exit(_ report: LintReport) throws {
        if !report.unreadable.isEmpty {
            throw ExitStatus.usage.exitCode
        }
        let threshold: Severity? =
            switch failOn {
            case .error: .error
            case .warning: .warning
            case .info: .info
            case .none: nil
            }
        if let threshold, report.findings.contains(where: { $0.finding.severity >= threshold }) {
            throw ExitStatus.failure.exitCode
        }
    }
}

extension Lint {
    /// Replaces each changed file; a file that cannot be replaced keeps its findings as they were
    /// and makes the run fail as an unreadable input does.
    private func write(_ fixes: inout LintFixRun, report: inout LintReport) throws {
        for changed in fixes.changed where changed.path != "-" {
            do {
                try FileReplacement.replace(changed.path, with: changed.after, original: changed.before)
            } catch {
                printError("error: \(error)")
                report.unreadable.append(PolicyFiles.Unreadable(path: changed.path, reason: "not fixed: \(error)"))
                // The report is of the file as it stays.
                if let index = report.files.firstIndex(where: { $0.path == changed.shown }) {
                    report.files[index].result = changed.original
                }
                fixes.changed.removeAll { $0.path == changed.path }
                fixes.unwritten += 1
            }
        }
    }

    /// `--diff`: the unified diff of every file the fixes change, on standard output.
    private func showDiff(_ fixes: LintFixRun, report: LintReport) throws {
        var out = ""
        for changed in fixes.changed {
            out += UnifiedDiff.render(old: changed.before, new: changed.after, path: changed.shown)
        }
        if let output {
            try OutputFile.write(out, to: output)
        } else {
            // On a terminal the policy's control characters are shown, not obeyed; a pipe gets
            // the bytes `patch` needs.
            printText(
                isatty(1) == 1
                    ? out.split(separator: "\n", omittingEmptySubsequences: false).map { VisibleText.escape(String($0)) }.joined(
                        separator: "\n") : out)
        }
        for (file, count) in fixes.refused {
            printError(
                "warning: \(file): \(count) fix\(count == 1 ? " is" : "es are") left out: the file would no longer read as one policy "
                    + "with \(count == 1 ? "it" : "them") (UPD110; `updatectl lint` of the file says where)")
        }
        printError(fixes.summary(applied: false, remaining: 0))
        if !report.unreadable.isEmpty { throw ExitStatus.usage.exitCode }
        if !fixes.changed.isEmpty { throw ExitStatus.failure.exitCode }
    }
}

extension LintFormat: ExpressibleByArgument {}

enum Environment {
    static func get(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
}

/// How every report names a file, in every format: relative to the working directory when it
/// lies under it, absolute otherwise, with `.` and `..` resolved; standard input is `<stdin>`.
enum DisplayPath {
    static let standardInput = "<stdin>"

    static var workingDirectory: String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "/" }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `path` made absolute and lexically normalised (links are not resolved: a report names the
    /// file as the user reaches it).
    static func absolute(_ path: String) -> String {
        let joined = path.hasPrefix("/") ? path : workingDirectory + "/" + path
        if isNormalized(joined) { return joined }
        var parts: [Substring] = []
        for part in joined.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Whether an absolute path has no empty, `.` or `..` part and no trailing slash: most have
    /// none, and this is checked without splitting.
    private static func isNormalized(_ path: String) -> Bool {
        var length = 0, onlyDots = true
        for byte in path.utf8.dropFirst() {
            if byte == UInt8(ascii: "/") {
                if length == 0 || (onlyDots && length <= 2) { return false }
                length = 0
                onlyDots = true
            } else {
                length += 1
                if byte != UInt8(ascii: ".") { onlyDots = false }
            }
        }
        return length > 0 && !(onlyDots && length <= 2)
    }

    static func relative(_ path: String) -> String {
        if path == "-" { return standardInput }
        let full = absolute(path)
        let cwd = workingDirectory
        let prefix = cwd.hasSuffix("/") ? cwd : cwd + "/"
        return full.hasPrefix(prefix) ? String(full.dropFirst(prefix.count)) : full
    }
}

/// `$GITHUB_STEP_SUMMARY`: a file the runner collects; steps append to it.
enum StepSummary {
    static func append(_ text: String, to path: String) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            printError("warning: cannot append to the job summary \(path): \(String(cString: strerror(errno)))")
            return
        }
        defer { close(fd) }
        do {
            try AtomicFile.writeAll(fd, Array(text.utf8), path: path)
        } catch {
            printError("warning: \(error)")
        }
    }
}

enum OutputFile {
    /// Writes a report through a temporary file and a rename, so a reader (a CI step, the
    /// node_exporter textfile collector) never sees half of one.
    static func write(_ text: String, to path: String) throws {
        try AtomicFile.write(Array(text.utf8), to: path, mode: 0o644)
    }
}
