#if canImport(Glibc)
import Glibc
#endif

/// A private directory for one run's throwaway files, under `$TMPDIR` (else /tmp), removed with
/// everything in it when the run is over.
public struct ScratchDirectory: Sendable {
    public let path: String

    /// Makes `<TMPDIR>/<prefix>-XXXXXX`, mode 0700.
    public init(prefix: String) throws(SystemError) {
        let base = Self.temporaryDirectory
        var template = Array("\(base)/\(prefix)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemError("cannot make a scratch directory in", base) }
        path = String(cString: made)
    }

    /// `$TMPDIR` without a trailing slash, else /tmp.
    static var temporaryDirectory: String {
        guard let value = getenv("TMPDIR").map({ String(cString: $0) }), value.hasPrefix("/") else { return "/tmp" }
        let trimmed = String(value.reversed().drop { $0 == "/" }.reversed())
        return trimmed.isEmpty ? "/" : trimmed
    }

    public func remove() { DirectoryListing.removeTree(path) }

    /// Runs `body` with a fresh scratch directory, removed afterwards whatever happens.
    public static func with<T>(prefix: String, _ body: (ScratchDirectory) throws -> T) throws -> T {
        let scratch = try ScratchDirectory(prefix: prefix)
        defer { scratch.remove() }
        return try body(scratch)
    }
}
