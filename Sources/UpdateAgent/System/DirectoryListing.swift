#if canImport(Glibc)
import Glibc
#endif

/// The one readdir loop: a directory's entries, `.` and `..` left out, in the order the file
/// system gives them.
public enum DirectoryListing {
    public enum EntryType: Sendable, Equatable {
        case directory, regular, symbolicLink, other
        /// The file system does not say (`DT_UNKNOWN`): stat the entry to know.
        case unknown
    }

    public struct Entry: Sendable, Equatable {
        public var name: String
        public var type: EntryType
    }

    /// The entries of the directory at `path`.
    public static func entries(_ path: String) throws(SystemError) -> [Entry] {
        guard let handle = opendir(path) else { throw SystemError("cannot read the directory", path) }
        return read(handle)
    }

    /// The entries of the directory `fd` refers to, read through a descriptor of their own (`fd`
    /// stays open and unmoved).
    static func entries(of fd: Int32, path: String) throws(SystemError) -> [Entry] {
        let listing = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard listing >= 0 else { throw SystemError("cannot read the directory", path) }
        guard let handle = fdopendir(listing) else {
            let error = SystemError("cannot read the directory", path)
            close(listing)
            throw error
        }
        return read(handle)
    }

    private static func read(_ handle: OpaquePointer) -> [Entry] {
        defer { closedir(handle) }
        var entries: [Entry] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard name != ".", name != ".." else { continue }
            let type: EntryType =
                switch Int32(entry.pointee.d_type) {
                case Int32(DT_DIR): .directory
                case Int32(DT_REG): .regular
                case Int32(DT_LNK): .symbolicLink
                case Int32(DT_UNKNOWN): .unknown
                default: .other
                }
            entries.append(Entry(name: name, type: type))
        }
        return entries
    }

    /// Removes `path` and everything under it (links are removed, not followed). Best effort: what
    /// cannot be removed stays.
    public static func removeTree(_ path: String) {
        if let entries = try? entries(path) {
            for entry in entries {
                let child = path + "/" + entry.name
                if entry.type == .directory || (entry.type == .unknown && isDirectory(child)) {
                    removeTree(child)
                } else {
                    unlink(child)
                }
            }
        }
        rmdir(path)
    }

    /// Whether `path` is a directory itself (a link to one is not).
    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}
