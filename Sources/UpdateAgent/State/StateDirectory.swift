#if canImport(Glibc)
import Glibc
#endif

/// The directory that holds `state.json`, opened once and checked as sshd's StrictModes checks
/// its files (`TrustedPath`): every directory up to `/` belongs to root or to the user running
/// updatectl and nobody else can write to it, and no link planted by another user is followed.
/// Every file in it is then reached relative to that descriptor with `O_NOFOLLOW`, so a name
/// swapped for a link after the check is refused, not followed.
struct StateDirectory: ~Copyable {
    let path: String
    /// An `O_PATH` descriptor of the checked directory.
    let fd: Int32

    /// Opens the directory; with `create`, missing directories are made (0755) on the way.
    init(_ path: String, create: Bool) throws(StateFileProblem) {
        do {
            let opened = try TrustedPath.open(path, as: .directory, create: create)
            self.path = path
            fd = opened.fd
        } catch {
            throw error.missing ? .missingDirectory(path) : .untrusted(error)
        }
    }

    deinit { close(fd) }

    /// Opens `name` for reading without following a link and without blocking on a FIFO; only a
    /// regular file owned by root or this user is accepted. Nil when it does not exist.
    func openForReading(_ name: String) throws(StateFileProblem) -> Int32? {
        try open(name, flags: O_RDONLY, missingIsNil: true)
    }

    /// Opens (creating when missing, mode 0600) a file to lock or write in place.
    func openForUpdate(_ name: String) throws(StateFileProblem) -> Int32 {
        try open(name, flags: O_RDWR | O_CREAT, missingIsNil: false)!
    }

    private func open(_ name: String, flags: Int32, missingIsNil: Bool) throws(StateFileProblem) -> Int32? {
        let shown = path + "/" + name
        let fd = openat(self.fd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o600)
        if fd < 0 {
            if errno == ENOENT, missingIsNil { return nil }
            if errno == ELOOP { throw .notARegularFile(shown, "a symbolic link") }
            throw .system(SystemError("cannot open", shown))
        }
        do {
            try Self.checkRegular(fd, shown)
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    static func checkRegular(_ fd: Int32, _ shown: String) throws(StateFileProblem) {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .system(SystemError("cannot stat", shown)) }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFIFO: throw .notARegularFile(shown, "a FIFO")
        case S_IFDIR: throw .notARegularFile(shown, "a directory")
        case S_IFCHR, S_IFBLK: throw .notARegularFile(shown, "a device")
        case S_IFSOCK: throw .notARegularFile(shown, "a socket")
        default: throw .notARegularFile(shown, "not a regular file")
        }
        let user = getuid()
        guard info.st_uid == 0 || info.st_uid == user else {
            throw .untrusted(
                TrustedPath.Problem(
                    path: shown,
                    reason: "belongs to uid \(info.st_uid), neither root nor the user "
                        + "running updatectl (\(user))", missing: false))
        }
    }

    /// The names in the directory (none when it cannot be read).
    func list() -> [String] {
        ((try? DirectoryListing.entries(of: fd, path: path)) ?? []).map(\.name)
    }

    /// Replaces `name` atomically with `bytes` (see `AtomicFile`).
    func write(_ bytes: [UInt8], to name: String, mode: UInt32, pausePrefix: String? = nil) throws {
        try AtomicFile.write(bytes, directory: fd, directoryPath: path, name: name, mode: mode, pausePrefix: pausePrefix)
    }

    func rename(_ from: String, _ to: String) throws {
        guard renameat(fd, from, fd, to) == 0 else { throw SystemError("cannot rename \(path)/\(from) to", "\(path)/\(to)") }
    }

    func unlink(_ name: String) { unlinkat(fd, name, 0) }

    func sync() throws { try AtomicFile.syncDirectory(fd, path: path) }
}

/// Why the state file cannot be read or written.
public enum StateFileProblem: Error, Sendable, CustomStringConvertible {
    /// The state directory does not exist (nothing was ever written: an idle node).
    case missingDirectory(String)
    /// A directory on the way, the state file or the lock file fails the StrictModes checks.
    case untrusted(TrustedPath.Problem)
    /// The state path (or its lock file) is a FIFO, a device, a directory or a link.
    case notARegularFile(String, String)
    case system(SystemError)

    public var description: String {
        switch self {
        case .missingDirectory(let path): "the state directory \(path) does not exist"
        case .untrusted(let problem):
            "refusing the state directory: \(problem) (a directory others can write to, or a link they planted, "
                + "would let them choose what updatectl writes as root)"
        case .notARegularFile(let path, let what): "refusing \(path): it is \(what), not a regular file"
        case .system(let error): error.description
        }
    }
}
