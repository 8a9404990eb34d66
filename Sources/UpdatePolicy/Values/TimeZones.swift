#if canImport(Glibc)
import Glibc
#endif

/// IANA time zone names, checked against the system's zoneinfo database (`TZDIR`, else
/// /usr/share/zoneinfo). Where there is no database, names are accepted unchecked.
public enum TimeZones {
    static var directory: String {
        if let dir = getenv("TZDIR") { return String(cString: dir) }
        return "/usr/share/zoneinfo"
    }

    /// Whether `name` is a zone: `UTC`, or a TZif file in the database.
    public static func isKnown(_ name: String) -> Bool? {
        if name == "UTC" { return true }
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

    /// The zone names in the database, for "did you mean" hints.
    public static func names() -> [String] {
        var out: [String] = ["UTC"]
        var pending = [""]
        while let relative = pending.popLast() {
            guard let dir = opendir(relative.isEmpty ? directory : directory + "/" + relative) else { continue }
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                guard !name.hasPrefix("."), name != "posix", name != "right" else { continue }
                let path = relative.isEmpty ? name : relative + "/" + name
                if entry.pointee.d_type == UInt8(DT_DIR) {
                    pending.append(path)
                } else if name.first?.isUppercase == true, !name.contains(".") {
                    out.append(path)
                }
            }
        }
        return out.sorted()
    }
}
