import UpdateAgent
import UpdatePolicy
import YAMLTree

#if canImport(Glibc)
import Glibc
#endif

/// `lint --fix` and `--diff`: the fixes of every file, applied in place or shown as a diff.
struct LintFixRun {
    /// One file the fixes changed (or would change).
    struct Changed {
        var path: String
        var shown: String
        var before: [UInt8]
        var after: [UInt8]
        var fixed: Int
        /// The lint of the file as it was, for the report when it cannot be replaced.
        var original: LintResult
    }

    var changed: [Changed] = []
    /// Files with fixes left out because they would have broken them, and how many.
    var refused: [(file: String, count: Int)] = []

    /// Files whose fixes could not be written.
    var unwritten = 0

    var fixed: Int { changed.reduce(0) { $0 + $1.fixed } }

    /// Fixes `result` (the lint of `path`, shown as `shown`) and returns the lint of what is left.
    mutating func fix(_ result: LintResult, path: String, shown: String, safety: Fix.Safety, options: LintOptions) -> LintResult {
        let outcome = Fixer.fix(result.source, safety: safety, linted: result) {
            PolicyLinter.lint($0, path: path, options: options)
        }
        if outcome.refused > 0 { refused.append((shown, outcome.refused)) }
        if outcome.changed {
            changed.append(
                Changed(path: path, shown: shown, before: result.source, after: outcome.source, fixed: outcome.fixed, original: result))
        }
        return outcome.result
    }

    /// "fixed 3 findings in 2 files" (or "would fix", for `--diff`).
    func summary(applied: Bool, remaining: Int) -> String {
        let files = Set(changed.map(\.path)).count
        let verb = applied ? "fixed" : "would fix"
        var line =
            fixed == 0
            ? (applied ? (unwritten > 0 ? "nothing fixed" : "nothing to fix") : "nothing would change")
            : "\(verb) \(fixed) finding\(fixed == 1 ? "" : "s") in \(files) file\(files == 1 ? "" : "s")"
        if unwritten > 0 {
            line +=
                "; \(unwritten) file\(unwritten == 1 ? "" : "s") could not be written, and keep\(unwritten == 1 ? "s" : "") its findings"
        }
        if applied { line += "; \(remaining) finding\(remaining == 1 ? "" : "s") remain\(remaining == 1 ? "s" : "")" }
        return line
    }
}

/// Replacing a policy file with its fixed bytes: whole or not at all, its mode and owner kept.
enum FileReplacement {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Replaces the file at `path` (the file a symbolic link names, not the link) with `bytes`
    /// through a temporary file beside it and a rename, with the mode, owner and group it has.
    /// Refused when the file no longer holds `original` (an editor saved it meanwhile), or has
    /// other hard links (a rename would part them).
    static func replace(_ path: String, with bytes: [UInt8], original: [UInt8]) throws(Failure) {
        guard let target = realPath(path) else { throw Failure(description: "cannot resolve \(path): \(errorText())") }
        var status = stat()
        guard stat(target, &status) == 0 else { throw Failure(description: "cannot stat \(path): \(errorText())") }
        guard status.st_mode & S_IFMT == S_IFREG else { throw Failure(description: "\(path) is not a regular file") }
        guard status.st_nlink <= 1 else {
            throw Failure(
                description: "\(path) has \(status.st_nlink) hard links, which replacing it would part; write the fixed "
                    + "policy elsewhere (`updatectl lint --fix - < \(path) > fixed.yaml`), read it, then copy it over the "
                    + "file's bytes (`cat fixed.yaml > \(path)` keeps the links)")
        }
        // Read-only is how some keep a file from being changed; replacing it would overrule that.
        guard status.st_mode & 0o222 != 0 else {
            throw Failure(description: "\(path) is read-only (mode \(String(status.st_mode & 0o7777, radix: 8))); it is left as it is")
        }
        let slash = target.lastIndex(of: "/") ?? target.startIndex
        let directory = slash == target.startIndex ? "/" : String(target[..<slash])
        let name = String(target[target.index(after: slash)...])
        let temporary = directory + "/." + name + ".updatectl-fix-" + String(getpid())
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw Failure(description: "cannot create \(temporary): \(errorText())") }
        var kept = false
        defer { if !kept { unlink(temporary) } }
        do {
            defer { close(fd) }
            do {
                try AtomicFile.writeAll(fd, bytes, path: temporary)
            } catch {
                throw Failure(description: "\(error)")
            }
            if status.st_uid != geteuid() || status.st_gid != getegid() {
                guard fchown(fd, status.st_uid, status.st_gid) == 0 else {
                    throw Failure(
                        description:
                            "cannot keep the owner \(status.st_uid):\(status.st_gid) of \(path) (\(errorText())); it is left as it was")
                }
            }
            guard fchmod(fd, status.st_mode & 0o7777) == 0 else {
                throw Failure(description: "cannot set the mode of \(temporary): \(errorText())")
            }
            guard fsync(fd) == 0 else { throw Failure(description: "cannot fsync \(temporary): \(errorText())") }
        }
        guard (try? SourceReader.read(path: target, maxBytes: original.count + 1)) == original else {
            throw Failure(description: "\(path) changed while it was being fixed; it is left as it is now")
        }
        guard rename(temporary, target) == 0 else { throw Failure(description: "cannot replace \(path): \(errorText())") }
        kept = true
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }

    private static func errorText() -> String { String(cString: strerror(errno)) }

    /// The file `path` names with every symbolic link resolved, or nil when it cannot be.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
