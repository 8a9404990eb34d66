internal import CSupport

#if canImport(Glibc)
import Glibc
#endif

// swift-format-ignore: AlwaysUseLowerCamelCase
// The name the C library gives the flag.
let O_PATH = csupport_o_path()

/// Opens a path the way sshd's StrictModes judges it: every directory from `/` down must belong
/// to root or to the user running updatectl and be writable by no one else (a world-writable
/// directory with the sticky bit, like `/tmp`, may be passed through, since others cannot rename
/// or remove what is in it), and a symbolic link is followed only when root or this user owns
/// it. The walk goes one component at a time with `openat(O_PATH|O_NOFOLLOW)`, so a link planted
/// between a check and a use is never followed: the descriptor returned is the checked file.
public enum TrustedPath {
    public struct Problem: Error, Sendable, CustomStringConvertible, Equatable {
        /// The component the problem is about.
        public var path: String
        public var reason: String
        /// The component does not exist (the walk reached a missing name).
        public var missing: Bool
        /// Someone other than root and the user running updatectl could change what the path
        /// reaches: the component, or a link on the way, belongs to another user, or is writable
        /// by group or others. (Otherwise the walk failed for another reason: not a directory,
        /// cannot be opened.)
        public var untrusted = false

        public var description: String { "\(path) \(reason)" }
    }

    /// What the last component must be.
    public enum Kind: Sendable {
        case directory
        case regularFile
    }

    /// An open `O_PATH` descriptor of the checked file and its path with links resolved.
    public struct Opened: Sendable {
        public var fd: Int32
        public var resolved: String
        var info: stat

        public func close() { _ = Glibc.close(fd) }

        /// The file's bytes (at most `maxBytes`), read through this descriptor, so they are the
        /// checked file's whatever its path points at by now; nil when it cannot be read.
        public func read(maxBytes: Int) -> [UInt8]? {
            let file = Glibc.open("/proc/self/fd/\(fd)", O_RDONLY | O_CLOEXEC)
            guard file >= 0 else { return nil }
            defer { _ = Glibc.close(file) }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while bytes.count <= maxBytes {
                let count = Glibc.read(file, &buffer, buffer.count)
                if count < 0, errno == EINTR { continue }
                guard count >= 0 else { return nil }
                if count == 0 { return bytes }
                bytes += buffer[0..<count]
            }
            return nil
        }
    }

    /// Opens `path` (absolute, or relative to the working directory), checking every component.
    /// A final directory must not be writable by others even with the sticky bit (updatectl
    /// creates files in it); a final file must not be writable by group or others.
    /// With `create`, missing directories are made (mode 0755) as the walk goes.
    public static func open(_ path: String, as kind: Kind, create: Bool = false) throws(Problem) -> Opened {
        var absolute = path
        if !path.hasPrefix("/") {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            guard getcwd(&buffer, buffer.count) != nil else {
                throw Problem(path: path, reason: "cannot be resolved: the working directory is unknown", missing: false)
            }
            absolute = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + "/" + path
        }
        let user = getuid()
        var fd = Glibc.open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Problem(path: "/", reason: "cannot be opened: \(errnoText())", missing: false) }
        var resolved: [String] = []
        var pending = components(absolute)
        var info = stat()
        _ = fstat(fd, &info)
        try check(info, path: "/", user: user, final: pending.isEmpty, kind: kind)
        var links = 0
        while !pending.isEmpty {
            let name = pending.removeFirst()
            let shown = "/" + (resolved + [name]).joined(separator: "/")
            if name == ".." {
                if !resolved.isEmpty { resolved.removeLast() }
                let parent = Glibc.open("/" + resolved.joined(separator: "/"), O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
                Glibc.close(fd)
                guard parent >= 0 else { throw Problem(path: shown, reason: "cannot be opened: \(errnoText())", missing: false) }
                fd = parent
                continue
            }
            let isLast = pending.isEmpty
            var entry = stat()
            if fstatat(fd, name, &entry, AT_SYMLINK_NOFOLLOW) != 0 {
                let code = errno
                if code == ENOENT, create, !isLast || kind == .directory {
                    guard mkdirat(fd, name, 0o755) == 0 || errno == EEXIST else {
                        Glibc.close(fd)
                        throw Problem(path: shown, reason: "cannot be created: \(errnoText())", missing: false)
                    }
                    pending.insert(name, at: 0)
                    continue
                }
                Glibc.close(fd)
                throw Problem(
                    path: shown, reason: code == ENOENT ? "does not exist" : "cannot be examined: \(errnoText(code))",
                    missing: code == ENOENT)
            }
            if (entry.st_mode & S_IFMT) == S_IFLNK {
                links += 1
                guard links <= 40 else {
                    Glibc.close(fd)
                    throw Problem(path: shown, reason: "has too many symbolic links on the way", missing: false)
                }
                guard entry.st_uid == 0 || entry.st_uid == user else {
                    Glibc.close(fd)
                    throw Problem(
                        path: shown,
                        reason: "is a symbolic link owned by uid \(entry.st_uid), neither root nor the user "
                            + "running updatectl (\(user)); refusing to follow it", missing: false, untrusted: true)
                }
                var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let length = readlinkat(fd, name, &target, target.count - 1)
                guard length > 0 else {
                    Glibc.close(fd)
                    throw Problem(path: shown, reason: "is a symbolic link that cannot be read: \(errnoText())", missing: false)
                }
                let text = String(decoding: target[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                pending = components(text) + pending
                if text.hasPrefix("/") {
                    Glibc.close(fd)
                    fd = Glibc.open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)
                    resolved = []
                }
                continue
            }
            let next = openat(fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC)
            Glibc.close(fd)
            guard next >= 0 else { throw Problem(path: shown, reason: "cannot be opened: \(errnoText())", missing: false) }
            fd = next
            guard fstat(fd, &info) == 0, info.st_dev == entry.st_dev, info.st_ino == entry.st_ino else {
                Glibc.close(fd)
                throw Problem(path: shown, reason: "changed while it was being checked", missing: false)
            }
            resolved.append(name)
            do {
                try check(info, path: shown, user: user, final: isLast, kind: kind)
            } catch {
                Glibc.close(fd)
                throw error
            }
        }
        return Opened(fd: fd, resolved: "/" + resolved.joined(separator: "/"), info: info)
    }

    /// Why `path` may not be trusted, or nil when it may.
    public static func problem(_ path: String, as kind: Kind) -> Problem? {
        do {
            try open(path, as: kind).close()
            return nil
        } catch {
            return error
        }
    }

    private static func check(_ info: stat, path: String, user: uid_t, final: Bool, kind: Kind) throws(Problem) {
        let type = info.st_mode & S_IFMT
        if final {
            switch kind {
            case .directory where type != S_IFDIR:
                throw Problem(path: path, reason: "is not a directory", missing: false)
            case .regularFile where type != S_IFREG:
                throw Problem(
                    path: path, reason: type == S_IFDIR ? "is a directory, not a file" : "is not a regular file",
                    missing: false)
            default: break
            }
        } else if type != S_IFDIR {
            throw Problem(path: path, reason: "is not a directory", missing: false)
        }
        guard info.st_uid == 0 || info.st_uid == user else {
            throw Problem(
                path: path, reason: "belongs to uid \(info.st_uid), neither root nor the user running updatectl (\(user))",
                missing: false, untrusted: true)
        }
        let sticky = info.st_mode & S_ISVTX != 0
        if let writable = writableByOthers(info.st_mode), final || !sticky {
            throw Problem(path: path, reason: "is \(writable); chmod go-w it", missing: false, untrusted: true)
        }
    }

    /// "writable by group or others (mode 0664)" when the mode lets anyone but the owner write
    /// (the one place that decides it); nil when it does not.
    static func writableByOthers(_ mode: mode_t) -> String? {
        mode & 0o022 != 0 ? "writable by group or others (mode 0\(String(mode & 0o7777, radix: 8)))" : nil
    }

    /// The same for the file at `path` (links followed); nil when it is not, or cannot be stat'ed.
    static func writableByOthers(path: String) -> String? {
        var info = stat()
        return stat(path, &info) == 0 ? writableByOthers(info.st_mode) : nil
    }

    private static func components(_ path: String) -> [String] {
        path.split(separator: "/").map(String.init).filter { $0 != "." }
    }

    static func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }
}
