#if canImport(Glibc)
import Glibc
#endif

/// One writer at a time: an exclusive `flock` on `state.json.lock` beside the state file.
///
/// The lock file is opened close-on-exec (probes and hooks do not inherit it) and never
/// unlinked (unlinking would let a second process lock a new inode while the first still holds
/// the old one). The holder writes its pid into it so a second process can say who holds it.
public final class StateLock: @unchecked Sendable {
    public let path: String
    private var fd: Int32

    public struct Busy: Error, Sendable, CustomStringConvertible {
        public var path: String
        public var holder: Int32?
        public var description: String {
            let who = holder.map { "process \($0)" } ?? "another process"
            return "another updatectl (\(who)) holds the state lock \(path); it is applying, checking or rolling back "
                + "an update. Wait for it to finish"
        }
    }

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    /// Takes the lock for `statePath`, or throws `Busy` at once when another process holds it.
    public static func acquire(statePath: String) throws -> StateLock {
        let path = statePath + ".lock"
        try StateStore(path: statePath).prepareDirectory()
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw SystemError("cannot open the lock file", path) }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            let code = errno
            // The holder writes its pid just after it takes the lock; give it a moment.
            var holder = readPID(fd)
            for _ in 0..<50 where holder == nil && code == EWOULDBLOCK {
                usleep(2_000)
                holder = readPID(fd)
            }
            close(fd)
            if code == EWOULDBLOCK { throw Busy(path: path, holder: holder) }
            throw SystemError("cannot lock", path, code: code)
        }
        ftruncate(fd, 0)
        let text = "\(getpid())\n"
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
        TestPause.here("lock.held")
        return StateLock(path: path, fd: fd)
    }

    private static func readPID(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = pread(fd, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        return Int32(String(decoding: buffer[0..<count], as: UTF8.self).trimmingNewline)
    }

    /// Releases the lock (also when the process exits or is killed).
    public func release() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    deinit { release() }
}

extension String {
    var trimmingNewline: String {
        var copy = self
        while copy.last == "\n" || copy.last == " " { copy.removeLast() }
        return copy
    }
}

extension StateStore {
    /// Creates the state directory and its missing parents (0755, as upstream's MkdirAll).
    func prepareDirectory() throws { try AtomicFile.makeDirectories(directory) }
}
