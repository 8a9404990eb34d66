#if canImport(Glibc)
import Glibc
#endif

/// Crash-safe replacement of a file: a new file beside it (`O_CREAT|O_EXCL|O_CLOEXEC|O_NOFOLLOW`),
/// every byte written, fsync, rename over the target, fsync of the directory.
public enum AtomicFile {
    /// Writes `bytes` to `path`. With `pausePrefix`, the test-only pauses `<prefix>.created`,
    /// `.written`, `.synced`, `.renamed` and `.done` are honoured.
    public static func write(_ bytes: [UInt8], to path: String, mode: UInt32 = 0o600, pausePrefix: String? = nil) throws {
        let directory = Paths.directory(of: path)
        let fd = open(directory, O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("cannot open the directory", directory) }
        defer { close(fd) }
        try write(
            bytes, directory: fd, directoryPath: directory, name: Paths.fileName(of: path), mode: mode,
            pausePrefix: pausePrefix)
    }

    /// Writes `bytes` to `name` in the directory open as `directory`, all relative to it.
    static func write(
        _ bytes: [UInt8], directory: Int32, directoryPath: String, name: String, mode: UInt32,
        pausePrefix: String?
    ) throws {
        func pause(_ point: String) { if let pausePrefix { TestPause.here("\(pausePrefix).\(point)") } }
        let temporary = name + ".tmp-" + String(getpid())
        let shown = directoryPath + "/" + temporary
        unlinkat(directory, temporary, 0)
        let fd = openat(directory, temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode_t(mode))
        guard fd >= 0 else { throw SystemError("cannot create", shown) }
        pause("created")
        var closed = false
        defer { if !closed { close(fd) } }
        do {
            try writeAll(fd, bytes, path: shown)
            pause("written")
            // A failed fsync is final: the page cache may have dropped the bytes, and retrying on
            // the same descriptor would report success for data that never reached the disk.
            guard fsync(fd) == 0 else { throw SystemError("cannot fsync", shown) }
            pause("synced")
            closed = true
            guard close(fd) == 0 else { throw SystemError("cannot close", shown) }
            guard renameat(directory, temporary, directory, name) == 0 else {
                throw SystemError("cannot rename \(shown) over", directoryPath + "/" + name)
            }
        } catch {
            unlinkat(directory, temporary, 0)
            throw error
        }
        pause("renamed")
        try syncDirectory(directory, path: directoryPath)
        pause("done")
    }

    /// Writes `bytes` in full, retrying short writes and EINTR.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        try bytes.withUnsafeBytes { try writeAll(fd, $0, path: path) }
    }

    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw SystemError("cannot write", path)
            }
            offset += written
        }
    }

    public static func syncDirectory(_ directory: String) throws {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("cannot open the directory", directory) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw SystemError("cannot fsync the directory", directory) }
    }

    /// fsyncs the directory open as `directory` (an `O_PATH` descriptor cannot be synced itself).
    static func syncDirectory(_ directory: Int32, path: String) throws {
        let fd = openat(directory, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("cannot open the directory", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw SystemError("cannot fsync the directory", path) }
    }

    /// Creates `directory` and its missing parents (0755).
    public static func makeDirectories(_ directory: String) throws {
        var info = stat()
        if stat(directory, &info) == 0 { return }
        var current = directory.hasPrefix("/") ? "" : "."
        for component in directory.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw SystemError("cannot create the directory", current) }
        }
    }

    /// The whole file, or nil when it does not exist. Files updatectl writes are read without
    /// following a link; system files it only reads (`/etc/os-release`, a symbolic link on Debian,
    /// Ubuntu and Fedora; `/etc/machine-id`) are read with `followingLinks`.
    public static func read(_ path: String, limit: Int = 1 << 20, followingLinks: Bool = false) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (followingLinks ? 0 : O_NOFOLLOW))
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw SystemError("cannot open", path)
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while bytes.count <= limit {
            let count = Glibc.read(fd, &chunk, chunk.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError("cannot read", path)
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        return bytes
    }
}

enum Paths {
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func fileName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}
