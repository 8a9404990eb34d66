import Dispatch
public import UpdatePolicy
import YAMLTree

#if canImport(Glibc)
import Glibc
#endif

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
    /// `*.yaml`, `*.yml` and `update.conf` (sorted, hidden entries skipped, links to directories
    /// not followed), `-` for standard input.
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
                    errors.append(Unreadable(path: path, reason: "the directory holds no *.yaml, *.yml or update.conf file"))
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
                } else if entry.name.hasSuffix(".yaml") || entry.name.hasSuffix(".yml") || entry.name == "update.conf" {
                    found.append(path)
                }
            }
        }
        files += found.sorted()
    }

    /// Whether a file's name makes it a policy whatever it holds: updatectl's own `policy.yaml`
    /// (`policy.yml`) and KubeSolo OS's `update.conf`, the files the search order reads as
    /// policies. cloud-init's user-data is not among them: one without `updates:` is a node
    /// without a policy (policy-discovery.md).
    public static func isNamedPolicy(_ path: String) -> Bool {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return name == "policy.yaml" || name == "policy.yml" || name == "update.conf"
    }

    /// Reads and lints one file (`-` is standard input; a `.conf` file is KubeSolo OS's
    /// update.conf); an over-size file is a finding, an unreadable one an error. `layers` (update.conf,
    /// flags) go into the policy a YAML file makes.
    public static func lint(_ path: String, options: LintOptions, layers: [PolicyLayer] = []) -> Result<LintResult, Unreadable> {
        let bytes: [UInt8]
        do {
            bytes = try SourceReader.read(path: path, maxBytes: options.limits.maxBytes)
        } catch {
            guard error.tooLarge else { return .failure(Unreadable(path: path, reason: error.reason)) }
            return .success(
                PolicyLinter.lint(
                    YAMLDocument(root: nil, problems: [error.problem], source: []), file: path,
                    options: options))
        }
        if UpdateConf.isConf(path) { return .success(PolicyLinter.lintConf(bytes, file: path, options: options)) }
        return .success(
            PolicyLinter.lint(
                YAMLParser.parse(bytes, limits: options.limits), file: path, options: options,
                layers: layers))
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
        /// A policy with no errors, and the SHA-256 of the policy file's bytes (recorded in the
        /// state; update.conf's when it is the only file).
        case policy(Policy, sha256: String)
        case unreadable(Unreadable)
        /// Lint errors (or no policy at all), by file, and the flags' own: nothing may act on it.
        case errors([LintResult], flags: [Finding])
        /// A file the search order found (cloud-init's user-data) without an `updates:` section,
        /// and no update.conf: this node has no update policy.
        case noPolicy
    }

    /// Lints and decodes the policy of a node command: the YAML policy at `path` (nil: none),
    /// update.conf at `conf` under it and `flags` over it. With `discovered` (found by the search
    /// order, not named), a YAML file without `updates:` and no update.conf is `.noPolicy`.
    public static func load(
        _ path: String?, discovered: Bool = false, conf: String? = nil,
        flags: [(key: String, text: String)] = []
    ) -> Loaded {
        let options = options()
        var layers: [PolicyLayer] = []
        var results: [LintResult] = []
        var confBytes: [UInt8] = []
        if let conf {
            do {
                confBytes = try SourceReader.read(path: conf, maxBytes: 1 << 20)
            } catch {
                return .unreadable(Unreadable(path: conf, reason: error.reason))
            }
            let layer = UpdateConf.layer(confBytes, file: conf, timeZones: options.timeZones)
            layers.append(layer)
            if layer.findings.contains(where: { $0.severity == .error }) {
                results.append(LintResult(file: conf, findings: layer.findings, policy: nil, source: confBytes))
            }
        }
        let flagLayer = PolicyLayer.flags(flags, timeZones: options.timeZones)
        layers.append(flagLayer)
        let lintResult: LintResult
        let sha256: String
        if let path {
            switch lint(path, options: options, layers: layers) {
            case .failure(let problem):
                return .unreadable(problem)
            case .success(let result):
                if discovered, conf == nil, result.policy == nil, result.findings.contains(where: { $0.rule == .missingUpdates }) {
                    return .noPolicy
                }
                lintResult = result
                sha256 = SHA256Stream.hex(result.source)
            }
        } else {
            // update.conf alone: its values over the defaults, findings at the conf file's start.
            var alone = PolicyLinter.lint(
                YAMLParser.parse(Array("updates: {}\n".utf8)), file: conf ?? "<command line>",
                options: options, layers: layers)
            alone.source = confBytes
            for index in alone.findings.indices where alone.findings[index].rule == .missingServer {
                alone.findings[index].message = "no `server` (and no `registry`): `apply` has nowhere to look for updates"
                alone.findings[index].help =
                    conf == nil ? "give `--server URL`" : "add `server=https://…` to \(conf!), or give `--server URL`"
            }
            lintResult = alone
            sha256 = SHA256Stream.hex(confBytes)
        }
        if lintResult.errorCount > 0 || lintResult.policy == nil { results.insert(lintResult, at: 0) }
        guard results.isEmpty, flagLayer.findings.isEmpty, let policy = lintResult.policy else {
            return .errors(results, flags: flagLayer.findings)
        }
        return .policy(policy, sha256: sha256)
    }
}
