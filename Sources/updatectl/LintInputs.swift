#if canImport(Glibc)
import Glibc
#endif

/// Turns the paths given to `lint` into files: a file as it is, a directory searched recursively
/// for `*.yaml` and `*.yml` (sorted, hidden entries skipped), `-` for standard input.
enum LintInputs {
    struct Unreadable: Error {
        var path: String
        var reason: String
    }

    static func expand(_ paths: [String]) -> (files: [String], errors: [Unreadable]) {
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
            guard let handle = opendir(directory) else {
                errors.append(Unreadable(path: directory, reason: String(cString: strerror(errno))))
                continue
            }
            defer { closedir(handle) }
            while let entry = readdir(handle) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                guard !name.hasPrefix(".") else { continue }
                let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
                var type = entry.pointee.d_type
                if type == UInt8(DT_UNKNOWN) || type == UInt8(DT_LNK) {
                    var info = stat()
                    guard stat(path, &info) == 0 else { continue }
                    let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
                    // Links to directories are not followed, so a link loop cannot trap the walk.
                    if isDirectory, entry.pointee.d_type == UInt8(DT_LNK) { continue }
                    type = isDirectory ? UInt8(DT_DIR) : UInt8(DT_REG)
                }
                if type == UInt8(DT_DIR) {
                    pending.append(path)
                } else if name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
                    found.append(path)
                }
            }
        }
        files += found.sorted()
    }
}
