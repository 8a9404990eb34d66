internal import CSupport
#if canImport(Glibc)
import Glibc
#endif

/// How a command ended.
public struct CommandResult: Sendable {
    /// The exit status, or nil when a signal ended it.
    public var status: Int32?
    public var timedOut: Bool
    /// The last bytes of standard output and standard error (at most `outputLimit` each).
    public var stdout: String
    public var stderr: String

    public var succeeded: Bool { status == 0 && !timedOut }

    /// "exit status 3", "killed after its 5s timeout", "killed by signal 9".
    public var ending: String {
        if timedOut { return "killed after its timeout" }
        if let status { return "exit status \(status)" }
        return "killed by a signal"
    }
}

public struct CommandError: Error, Sendable, CustomStringConvertible {
    public var argv: [String]
    public var reason: String
    public var description: String { "cannot run \(argv.first ?? "?"): \(reason)" }
}

/// Runs argv lists: no shell, no search path, its own process group, bounded output, and a
/// timeout that ends in SIGKILL of the whole group.
public protocol CommandRunner: Sendable {
    func run(_ argv: [String], timeout: Duration, environment: [String: String]) throws -> CommandResult
}

public struct ProcessRunner: CommandRunner {
    public var outputLimit: Int
    /// Between SIGTERM to the group and SIGKILL.
    public var grace: Duration

    public init(outputLimit: Int = 8192, grace: Duration = .milliseconds(500)) {
        self.outputLimit = outputLimit
        self.grace = grace
    }

    public func run(_ argv: [String], timeout: Duration, environment: [String: String] = [:]) throws -> CommandResult {
        guard let program = argv.first, program.hasPrefix("/") else {
            throw CommandError(argv: argv, reason: "the program must be an absolute path")
        }
        if let problem = ExecutableCheck.problem(program) { throw CommandError(argv: argv, reason: problem) }
        var outPipe: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        guard csupport_pipe_cloexec(&outPipe) == 0, csupport_pipe_cloexec(&errPipe) == 0 else {
            throw CommandError(argv: argv, reason: String(cString: strerror(errno)))
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        sigaddset(&defaults, SIGTERM)
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        var env = Self.baseEnvironment()
        for (key, value) in environment { env[key] = value }
        let envStrings = env.map { "\($0)=\($1)" }.sorted()
        var pid: pid_t = 0
        let spawnResult = withCStrings(argv) { argvPointers in
            withCStrings(envStrings) { envPointers in
                posix_spawn(&pid, program, &actions, &attributes, argvPointers, envPointers)
            }
        }
        close(outPipe[1])
        close(errPipe[1])
        guard spawnResult == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            let reason = spawnResult == ENOENT ? "no such file" : String(cString: strerror(spawnResult))
            throw CommandError(argv: argv, reason: reason)
        }
        return collect(pid: pid, out: outPipe[0], err: errPipe[0], timeout: timeout)
    }

    /// A small, fixed environment: commands do not inherit the caller's.
    static func baseEnvironment() -> [String: String] {
        var env = ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"]
        for key in ["HOME", "KUBECONFIG", "TZ"] {
            if let value = getenv(key) { env[key] = String(cString: value) }
        }
        return env
    }

    private func collect(pid: pid_t, out: Int32, err: Int32, timeout: Duration) -> CommandResult {
        var outTail: [UInt8] = []
        var errTail: [UInt8] = []
        var open = [out, err]
        let start = Monotonic.now()
        let deadline = start + Monotonic.nanoseconds(timeout)
        var timedOut = false
        var killAt: UInt64?
        var status: Int32 = 0
        var exited = false
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !exited || !open.isEmpty {
            let now = Monotonic.now()
            if !timedOut, now >= deadline {
                timedOut = true
                kill(-pid, SIGTERM)
                killAt = now + Monotonic.nanoseconds(grace)
            }
            if let at = killAt, now >= at {
                kill(-pid, SIGKILL)
                killAt = nil
                // Descendants may hold the pipes open; stop reading once the group is killed.
                for fd in open { close(fd) }
                open = []
            }
            if !exited {
                let waited = waitpid(pid, &status, WNOHANG)
                if waited == pid { exited = true }
            }
            if open.isEmpty {
                if !exited { usleep(1_000) }
                continue
            }
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            _ = poll(&fds, nfds_t(fds.count), 10)
            for entry in fds where entry.revents != 0 {
                let count = read(entry.fd, &buffer, buffer.count)
                if count > 0 {
                    if entry.fd == out { append(&outTail, buffer[0..<count]) } else { append(&errTail, buffer[0..<count]) }
                } else if count == 0 || (count < 0 && errno != EINTR && errno != EAGAIN) {
                    close(entry.fd)
                    open.removeAll { $0 == entry.fd }
                }
            }
            if exited, timedOut == false {
                // The leader is gone; collect what is left in the pipes, then stop.
                continue
            }
        }
        if timedOut { kill(-pid, SIGKILL) }
        let exitStatus: Int32? = (status & 0x7f) == 0 ? (status >> 8) & 0xff : nil
        return CommandResult(
            status: exitStatus, timedOut: timedOut,
            stdout: String(decoding: outTail, as: UTF8.self), stderr: String(decoding: errTail, as: UTF8.self))
    }

    private func append(_ tail: inout [UInt8], _ bytes: ArraySlice<UInt8>) {
        tail += bytes
        if tail.count > outputLimit { tail.removeFirst(tail.count - outputLimit) }
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
enum Monotonic {
    static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        return UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds / 1_000_000_000))
    }
}

/// Calls `body` with a NULL-terminated array of C strings.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Whether a program is safe to run as this user: it exists, is a regular executable file, is
/// not writable by group or others, and belongs to root or to the user running updatectl —
/// otherwise anyone who can change it runs code with updatectl's rights.
public enum ExecutableCheck {
    public static func problem(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return errno == ENOENT ? "\(path) does not exist" : "cannot stat \(path): \(String(cString: strerror(errno)))"
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return "\(path) is not a regular file" }
        guard access(path, X_OK) == 0 else { return "\(path) is not executable" }
        if info.st_mode & 0o022 != 0 {
            let mode = String(info.st_mode & 0o7777, radix: 8)
            return "refusing to run \(path): it is writable by group or others (mode 0\(mode)); make it 0755 or stricter"
        }
        let user = getuid()
        if info.st_uid != 0 && info.st_uid != user {
            return "refusing to run \(path): it belongs to uid \(info.st_uid), neither root nor the user running updatectl (\(user))"
        }
        return nil
    }
}
