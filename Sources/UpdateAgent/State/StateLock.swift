#if canImport(Glibc)
import Glibc
#endif

/// One writer at a time: an exclusive `flock` on `state.json.lock` beside the state file, and on
/// the backend's own lock file (its slot root), so two policies with different `data_dir` but the
/// same slots cannot run at once either.
///
/// A lock file is opened close-on-exec (probes and hooks do not inherit it), non-blocking (a FIFO
/// planted in its place is refused, never waited on), in a directory checked like the state's,
/// and never unlinked (unlinking would let a second process lock a new inode while the first
/// still holds the old one). The holder writes its pid into it so a second process can say who
/// holds it.
///
/// `@unchecked Sendable`: `fds` is set when the lock is taken and read once by `release`, which
/// the holder calls on the thread that took it; `path` is a constant.
public final class StateLock: @unchecked Sendable {
    public let path: String
    private var fds: [Int32]

    public struct Busy: Error, Sendable, CustomStringConvertible {
        public var path: String
        public var holder: Int32?
        public var description: String {
            if let holder, kill(holder, 0) != 0, errno == ESRCH {
                return "the lock \(path) is held by a backend command that updatectl (process \(holder), now gone) started; "
                    + "it is still writing or switching a slot. Wait for it to finish"
            }
            let who = holder.map { "process \($0)" } ?? "another process"
            return "another updatectl (\(who)) holds the lock \(path); it is checking for, applying, verifying or "
                + "rolling back an update (an `updatectl agent` holds it only while it runs one). Wait for it to finish"
        }
    }

    private init(path: String, fds: [Int32]) {
        self.path = path
        self.fds = fds
    }

    /// Takes the lock for `statePath` and, when given, `extraLock` (a backend's), or throws `Busy`
    /// at once when another process holds either.
    public static func acquire(statePath: String, extraLock: String? = nil) throws -> StateLock {
        var fds: [Int32] = []
        do {
            for path in [statePath + ".lock", extraLock].compactMap({ $0 }) {
                fds.append(try lock(path))
            }
        } catch {
            for fd in fds { close(fd) }
            throw error
        }
        HeldLocks.add(fds)
        TestPause.here("lock.held")
        return StateLock(path: statePath + ".lock", fds: fds)
    }

    private static func lock(_ path: String) throws -> Int32 {
        let directory = try StateDirectory(Paths.directory(of: path), create: true)
        let fd = try directory.openForUpdate(Paths.fileName(of: path))
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
        return fd
    }

    private static func readPID(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = pread(fd, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        return Int32(String(decoding: buffer[0..<count], as: UTF8.self).trimmingNewline)
    }

    /// Releases the locks (also when the process exits or is killed).
    public func release() {
        HeldLocks.remove(fds)
        for fd in fds { close(fd) }
        fds = []
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

/// The lock descriptors this process holds. Backend commands inherit them (they are close-on-exec
/// for everything else): a stage command left running after updatectl is killed keeps the lock
/// until it exits, so the next run waits instead of writing the same slot at the same time.
enum HeldLocks {
    private static let lock = Mutex()
    nonisolated(unsafe) private static var held: [Int32] = []

    static func add(_ fds: [Int32]) { lock.withLock { held += fds } }
    static func remove(_ fds: [Int32]) { lock.withLock { held.removeAll { fds.contains($0) } } }
    static var descriptors: [Int32] { lock.withLock { held } }
}
