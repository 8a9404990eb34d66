public import UpdatePolicy

#if canImport(Glibc)
import Glibc
#endif

/// The host's IANA time zone database (`TZDIR`, else /usr/share/zoneinfo), for lint. Where there
/// is no database, names are accepted unchecked.
public struct ZoneInfo: TimeZoneDatabase {
    public init() {}

    var directory: String {
        if let dir = getenv("TZDIR") { return String(cString: dir) }
        return "/usr/share/zoneinfo"
    }

    /// Answers so far, by database directory and name: lint asks for the same few zones in every
    /// file, and each answer costs a stat, an open and a read.
    private static let answers = Answers()

    /// `@unchecked Sendable`: `byKey` is read and written under `lock` only.
    private final class Answers: @unchecked Sendable {
        let lock = Mutex()
        /// Guarded by `lock`.
        var byKey: [String: Bool?] = [:]
    }

    /// Whether `name` is a zone: `UTC`, or a TZif file in the database.
    public func isKnown(_ name: String) -> Bool? {
        if name == "UTC" { return true }
        let key = directory + "\u{0}" + name
        let answers = Self.answers
        if let known = answers.lock.withLock({ answers.byKey[key] }) { return known }
        let answer = look(up: name)
        answers.lock.withLock { answers.byKey[key] = .some(answer) }
        return answer
    }

    private func look(up name: String) -> Bool? {
        guard !name.isEmpty, !name.hasPrefix("/"), !name.contains(".."), !name.hasPrefix("posix/"),
            !name.hasPrefix("right/")
        else { return false }
        var info = stat()
        guard stat(directory, &info) == 0 else { return nil }
        let path = directory + "/" + name
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return false }
        // A TZif file starts with its magic; zone.tab and friends do not.
        guard let file = fopen(path, "rb") else { return false }
        defer { fclose(file) }
        var magic = [UInt8](repeating: 0, count: 4)
        return fread(&magic, 1, 4, file) == 4 && magic == Array("TZif".utf8)
    }

    /// The zone names in the database.
    public func names() -> [String] {
        var out: [String] = ["UTC"]
        var pending = [""]
        while let relative = pending.popLast() {
            guard let entries = try? DirectoryListing.entries(relative.isEmpty ? directory : directory + "/" + relative) else {
                continue
            }
            for entry in entries {
                let name = entry.name
                guard !name.hasPrefix("."), name != "posix", name != "right" else { continue }
                let path = relative.isEmpty ? name : relative + "/" + name
                if entry.type == .directory || (entry.type == .unknown && DirectoryListing.isDirectory(directory + "/" + path)) {
                    pending.append(path)
                } else if name.first?.isUppercase == true, !name.contains(".") {
                    out.append(path)
                }
            }
        }
        return out.sorted()
    }
}
