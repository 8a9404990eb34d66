import ArgumentParser
import Dispatch
import UpdateAgent
import UpdatePolicy
import YAMLTree
#if canImport(Glibc)
import Glibc
#endif

struct Lint: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check policies and report every problem at its line and column.",
        discussion: """
            PATH is a file, a directory (searched recursively for *.yaml and *.yml), or - for \
            standard input. Files are checked concurrently; the report lists them in order.

            Silence a finding with a comment naming its code, on its line or alone on the line \
            before it:  # updatectl: disable=UPD404

            \(ExitStatus.helpTable)
            """
    )

    enum FailOn: String, ExpressibleByArgument, CaseIterable {
        case error, warning, info, none
    }

    @Argument(help: "Policy files or directories, or - for standard input.")
    var paths: [String] = []

    @Option(help: "Output format: text, concise, json, sarif, github, gitlab. Default: text, or github when GITHUB_ACTIONS=true.")
    var format: LintFormat?

    @Option(help: "Exit 1 when a finding is at or above this severity (error, warning, info, none).")
    var failOn: FailOn = .error

    @Option(help: "Write the report to this file instead of standard output.")
    var output: String?

    @Flag(help: "Ignore `# updatectl: disable=CODE` comments.")
    var noInlineDisable = false

    @Flag(help: "Also check this machine: the commands' programs (present, not writable by others, owned by root or you), the public key file, the policy file's permissions (UPD5xx).")
    var onHost = false

    @Option(help: "Print the documentation of a rule (e.g. UPD404 or rollback-off) and exit.")
    var explain: String?

    func validate() throws {
        if explain == nil, paths.isEmpty {
            throw ValidationError("Give at least one policy file or directory, or - for standard input.")
        }
    }

    func run() throws {
        if let explain {
            guard let rule = Rules.lookup(explain) else {
                printError("error: no rule is called `\(explain)`; the rules are listed in docs/lint-rules.md")
                throw ExitStatus.usage.exitCode
            }
            print(RuleDocs.explain(rule), terminator: "")
            return
        }
        let (files, unreadable) = LintInputs.expand(paths)
        for problem in unreadable {
            printError("error: cannot read \(problem.path): \(problem.reason)")
        }
        let options = LintOptions(inlineSuppressions: !noInlineDisable)
        let results = Self.lintAll(files, options: options)
        var report = LintReport(files: [])
        for (index, outcome) in results.enumerated() {
            switch outcome {
            case .success(var result):
                if onHost, let policy = result.policy {
                    result.findings += HostChecks.findings(for: policy, policyPath: files[index])
                    result.findings.sort { ($0.start.offset, $0.rule) < ($1.start.offset, $1.rule) }
                }
                report.files.append(LintReport.File(path: DisplayPath.relative(files[index]), result: result))
            case .failure(let problem):
                printError("error: cannot read \(problem.path): \(problem.reason)")
            }
        }
        let chosen = format ?? (Environment.get("GITHUB_ACTIONS") == "true" ? .github : .text)
        let rendered = chosen.render(report)
        if let output {
            try OutputFile.write(rendered, to: output)
        } else {
            print(rendered, terminator: "")
        }
        if report.files.count < files.count || !unreadable.isEmpty {
            throw ExitStatus.usage.exitCode
        }
        let threshold: Severity? = switch failOn {
        case .error: .error
        case .warning: .warning
        case .info: .info
        case .none: nil
        }
        if let threshold, report.findings.contains(where: { $0.finding.severity >= threshold }) {
            throw ExitStatus.failure.exitCode
        }
    }

    /// Reads and lints one file; an over-size file is a finding, an unreadable one an error.
    static func lintFile(_ path: String, options: LintOptions) -> Result<LintResult, LintInputs.Unreadable> {
        let document: YAMLDocument
        do {
            let bytes = try SourceReader.read(path: path, maxBytes: options.limits.maxBytes)
            document = YAMLParser.parse(bytes, limits: options.limits)
        } catch {
            guard error.tooLarge else { return .failure(LintInputs.Unreadable(path: path, reason: error.reason)) }
            document = YAMLDocument(root: nil, problems: [error.problem], source: [])
        }
        return .success(PolicyLinter.lint(document, file: path, options: options))
    }

    /// Lints every file concurrently; results come back in input order.
    static func lintAll(_ files: [String], options: LintOptions) -> [Result<LintResult, LintInputs.Unreadable>] {
        let results = Slots<Result<LintResult, LintInputs.Unreadable>>(count: files.count)
        DispatchQueue.concurrentPerform(iterations: files.count) { index in
            results.set(index, lintFile(files[index], options: options))
        }
        return results.values
    }
}

extension LintFormat: ExpressibleByArgument {}

enum Environment {
    static func get(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
}

enum DisplayPath {
    /// `path` relative to the working directory when it lies under it; as given otherwise.
    static func relative(_ path: String) -> String {
        guard path.hasPrefix("/") else { return path.hasPrefix("./") ? String(path.dropFirst(2)) : path }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        let cwd = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let prefix = cwd.hasSuffix("/") ? cwd : cwd + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }
}

enum OutputFile {
    /// Writes a report through a temporary file and a rename, so a reader (a CI step, the
    /// node_exporter textfile collector) never sees half of one.
    static func write(_ text: String, to path: String) throws {
        try AtomicFile.write(Array(text.utf8), to: path, mode: 0o644)
    }
}
