#if canImport(Glibc)
import Glibc
#endif
import Dispatch
public import UpdatePolicy
import YAMLTree

/// Policy files on this host: the paths given to `lint` turned into files, each read and linted
/// (concurrently), and the one policy a node command acts on, loaded.
public enum PolicyFiles {
    /// A path that cannot be read, and why.
    public struct Unreadable: Error, Sendable {
        public var path: String
        public var reason: String

        public init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }
    }

    /// Lint options for files on this host: zones checked against its zoneinfo database.
    public static func options(inlineSuppressions: Bool = true) -> LintOptions {
        LintOptions(timeZones: ZoneInfo(), inlineSuppressions: inlineSuppressions)
    }

    /// The paths given to `lint` as files: a file as it is, a directory searched recursively for
    /// `*.yaml` and `*.yml` (sorted, hidden entries skipped, links to directories not followed),
    /// `-` for standard input.
    public static func expand(_ paths: [String]) -> (files: [String], errors: [Unreadable]) {
        var files: [String] = []
        var errors: [Unreadable] = []
        for path in paths {
            if path == "-" {
                files.append(path)
                continue
            }
            var info = stat()
            guard stat(path, &info) == 0 else {
                errors.append(Unreadable(path: path, reason: String(cString: strerror(errno))))
                continue
            }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                let before = files.count
                walk(path, into: &files, errors: &errors)
                if files.count == before {
                    errors.append(Unreadable(path: path, reason: "the directory holds no *.yaml or *.yml file"))
                }
            } else {
                files.append(path)
            }
        }
        return (files, errors)
    }

    private static func walk(_ root: String, into files: inout [String], errors: inout [Unreadable]) {
        var pending = [root]
        var found: [String] = []
        while let directory = pending.popLast() {
            let entries: [DirectoryListing.Entry]
            do {
                entries = try DirectoryListing.entries(directory)
            } catch {
                errors.append(Unreadable(path: directory, reason: String(cString: strerror(error.code))))
                continue
            }
            for entry in entries where !entry.name.hasPrefix(".") {
                let path = directory.hasSuffix("/") ? directory + entry.name : directory + "/" + entry.name
                var isDirectory = entry.type == .directory
                if entry.type == .unknown || entry.type == .symbolicLink {
                    var info = stat()
                    guard stat(path, &info) == 0 else { continue }
                    // Links to directories are not followed, so a link loop cannot trap the walk.
                    if (info.st_mode & S_IFMT) == S_IFDIR, entry.type == .symbolicLink { continue }
                    isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
                }
                if isDirectory {
                    pending.append(path)
                } else if entry.name.hasSuffix(".yaml") || entry.name.hasSuffix(".yml") {
                    found.append(path)
                }
            }
        }
        files += found.sorted()
    }

    /// Reads and lints one file (`-` is standard input); an over-size file is a finding, an
    /// unreadable one an error.
    public static func lint(_ path: String, options: LintOptions) -> Result<LintResult, Unreadable> {
        let document: YAMLDocument
        do {
            let bytes = try SourceReader.read(path: path, maxBytes: options.limits.maxBytes)
            document = YAMLParser.parse(bytes, limits: options.limits)
        } catch {
            guard error.tooLarge else { return .failure(Unreadable(path: path, reason: error.reason)) }
            document = YAMLDocument(root: nil, problems: [error.problem], source: [])
        }
        return .success(PolicyLinter.lint(document, file: path, options: options))
    }

    /// Lints every file concurrently; results come back in input order.
    public static func lint(all files: [String], options: LintOptions) -> [Result<LintResult, Unreadable>] {
        let results = Slots<Result<LintResult, Unreadable>>(count: files.count)
        DispatchQueue.concurrentPerform(iterations: files.count) { index in
            results.set(index, lint(files[index], options: options))
        }
        return results.values
    }

    /// What loading the policy of a node command found.
    public enum Loaded {
        /// A policy with no errors, and the SHA-256 of its bytes (recorded in the state).
        case policy(Policy, sha256: String)
        case unreadable(Unreadable)
        /// Lint errors (or no policy at all): nothing may act on it.
        case errors(LintResult)
        /// A file the search order found (cloud-init's user-data) without an `updates:` section:
        /// this node has no update policy.
        case noPolicy
    }

    /// Lints and decodes the policy at `path` for a command that acts on it. With `discovered`
    /// (found by the search order, not named), a file without `updates:` is `.noPolicy`.
    public static func load(_ path: String, discovered: Bool = false) -> Loaded {
        switch lint(path, options: options()) {
        case .failure(let problem):
            return .unreadable(problem)
        case .success(let result):
            if discovered, result.policy == nil, result.findings.contains(where: { $0.rule == .missingUpdates }) {
                return .noPolicy
            }
            guard result.errorCount == 0, let policy = result.policy else { return .errors(result) }
            return .policy(policy, sha256: SHA256Stream.hex(result.source))
        }
    }
}
