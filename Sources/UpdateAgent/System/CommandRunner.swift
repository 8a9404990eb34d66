internal import CSupport
import JSONValue
import UpdatePolicy

#if canImport(Glibc)
import Glibc
#endif

/// How a command ended.
public struct CommandResult: Sendable {
    /// How a command ended.
    public enum Termination: Sendable, Equatable {
        /// It exited with this status.
        case exited(Int32)
        /// A signal (this one) ended it before it exited.
        case signalled(Int32)
        /// It ran past its timeout, and its process group was killed.
        case timedOut
    }

    public var termination: Termination
    /// The exit status, or nil when a signal or the timeout ended it.
    public var status: Int32? {
        if case .exited(let status) = termination { return status }
        return nil
    }
    public var timedOut: Bool { termination == .timedOut }
    /// Standard output as `OutputCapture` asked: its last bytes, or all of it up to a cap.
    public var stdout: String
    /// The last bytes of standard error (at most `ProcessRunner.outputLimit`).
    public var stderr: String
    /// The first bytes of standard error (16 KiB), for programs that log what they did before a
    /// long trace (kubectl's request log).
    public var stderrHead = ""
    /// Standard output went past a `.whole` capture's cap; `stdout` holds only its start.
    public var stdoutTruncated = false

    public init(termination: Termination, stdout: String, stderr: String, stderrHead: String = "", stdoutTruncated: Bool = false) {
        self.termination = termination
        self.stdout = stdout
        self.stderr = stderr
        self.stderrHead = stderrHead
        self.stdoutTruncated = stdoutTruncated
    }

    public var succeeded: Bool { termination == .exited(0) }

    /// "exit status 3", "killed after its timeout", "killed by a signal".
    public var ending: String {
        switch termination {
        case .timedOut: "killed after its timeout"
        case .exited(let status): "exit status \(status)"
        case .signalled: "killed by a signal"
        }
    }
}

public struct CommandError: Error, Sendable, CustomStringConvertible {
    public var argv: [String]
    public var reason: String
    public var description: String { "cannot run \(argv.first ?? "?"): \(reason)" }
}

/// How much of a command's standard output to keep.
public enum OutputCapture: Sendable, Equatable {
    /// The last bytes, for messages (the default).
    case tail(Int)
    /// Everything up to `max` bytes, for output that is parsed (kubectl's JSON); more sets
    /// `stdoutTruncated` instead of keeping a cut-off document.
    case whole(max: Int)

    public static let messages = OutputCapture.tail(8192)
}

/// Runs argv lists: no shell, no search path, its own process group, bounded output, and a
/// timeout that ends in SIGKILL of the whole group.
public protocol CommandRunner: Sendable {
    /// With `holdingLocks`, the command (and whatever it starts) inherits the locks this process
    /// holds, so they stay held while any of it runs (backend commands that write slots).
    func run(
        _ argv: [String], timeout: Duration, environment: [String: String], stdout: OutputCapture,
        holdingLocks: Bool
    ) throws -> CommandResult
}

extension CommandRunner {
    public func run(_ argv: [String], timeout: Duration, environment: [String: String]) throws -> CommandResult {
        try run(argv, timeout: timeout, environment: environment, stdout: .messages, holdingLocks: false)
    }

    public func run(
        _ argv: [String], timeout: Duration, environment: [String: String], stdout: OutputCapture
    ) throws
        -> CommandResult
    {
        try run(argv, timeout: timeout, environment: environment, stdout: stdout, holdingLocks: false)
    }
}

public struct ProcessRunner: CommandRunner {
    /// The bytes of standard error kept (its tail).
    public var outputLimit: Int
    /// Between SIGTERM to the group and SIGKILL; and how long the output of what the command left
    /// running in the background is still read after the command itself exited.
    public var grace: Duration

    public init(outputLimit: Int = 8192, grace: Duration = .milliseconds(500)) {
        self.outputLimit = outputLimit
        self.grace = grace
    }

    /// Opens the program once (`TrustedPath`: every directory on the way and the file itself
    /// checked, links followed only when root or this user owns them) and executes that same
    /// file through its descriptor, so nobody can swap it between the check and the exec.
    /// A `#!` script's interpreter is checked and executed the same way, and given the script's
    /// own path (so `$0` is what the operator wrote; the directories on the way are trusted, so
    /// only root or this user could change what that path names).
    public func run(
        _ argv: [String], timeout: Duration, environment: [String: String] = [:],
        stdout capture: OutputCapture, holdingLocks: Bool
    ) throws -> CommandResult {
        // Whatever this process inherited (a shell's pipes, a supervisor's sockets) or a library
        // opened without close-on-exec is marked close-on-exec: a command gets its standard
        // streams and what is handed to it below on purpose (dup2 onto itself clears the flag in
        // the child only), nothing else.
        _ = csupport_cloexec_from(3)
        guard let program = argv.first, program.hasPrefix("/") else {
            throw CommandError(argv: argv, reason: "the program must be an absolute path")
        }
        var executable: TrustedPath.Opened
        var arguments = argv
        do throws(TrustedPath.Problem) {
            executable = try ExecutableCheck.open(program)
            if let (interpreter, argument) = ExecutableCheck.shebang(executable) {
                executable.close()
                guard interpreter.hasPrefix("/") else {
                    throw TrustedPath.Problem(
                        path: program, reason: "names the interpreter `\(interpreter)`, which is not an absolute path",
                        missing: false)
                }
                executable = try ExecutableCheck.open(interpreter)
                arguments = [interpreter] + (argument.map { [$0] } ?? []) + argv
            }
        } catch {
            throw CommandError(argv: argv, reason: error.description)
        }
        defer { executable.close() }
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
        // dup2 onto itself clears close-on-exec in the child only: the checked file stays open
        // there, and exec goes through it.
        posix_spawn_file_actions_adddup2(&actions, executable.fd, executable.fd)
        if holdingLocks {
            for fd in HeldLocks.descriptors { posix_spawn_file_actions_adddup2(&actions, fd, fd) }
        }
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
        let path = "/proc/self/fd/\(executable.fd)"
        let spawnResult = withCStrings(arguments) { argvPointers in
            withCStrings(envStrings) { envPointers in
                posix_spawn(&pid, path, &actions, &attributes, argvPointers, envPointers)
            }
        }
        close(outPipe[1])
        close(errPipe[1])
        guard spawnResult == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            let reason = spawnResult == ENOENT ? "no such file (or /proc is not mounted)" : String(cString: strerror(spawnResult))
            throw CommandError(argv: argv, reason: reason)
        }
        return collect(pid: pid, out: outPipe[0], err: errPipe[0], timeout: timeout, capture: capture)
    }

    /// A small, fixed environment: commands do not inherit the caller's.
    static func baseEnvironment() -> [String: String] {
        var env = ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"]
        for key in ["HOME", "KUBECONFIG", "TZ"] {
            if let value = getenv(key) { env[key] = String(cString: value) }
        }
        return env
    }

    /// Kept output of one stream.
    private struct Sink {
        var capture: OutputCapture
        var bytes: [UInt8] = []
        var truncated = false

        mutating func append(_ chunk: ArraySlice<UInt8>) {
            switch capture {
            case .tail(let limit):
                bytes += chunk
                if bytes.count > 2 * limit { bytes.removeFirst(bytes.count - limit) }
            case .whole(let max):
                guard !truncated else { return }
                if bytes.count + chunk.count > max {
                    truncated = true
                    bytes += chunk.prefix(max - bytes.count)
                } else {
                    bytes += chunk
                }
            }
        }

        var text: String {
            if case .tail(let limit) = capture, bytes.count > limit { return String(decoding: bytes.suffix(limit), as: UTF8.self) }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    private func collect(pid: pid_t, out: Int32, err: Int32, timeout: Duration, capture: OutputCapture) -> CommandResult {
        var outSink = Sink(capture: capture)
        var errSink = Sink(capture: .tail(outputLimit))
        var errHead = Sink(capture: .whole(max: 16 << 10))
        var open = [out, err]
        let start = Monotonic.now()
        let deadline = start + Monotonic.nanoseconds(timeout)
        var timedOut = false
        var killAt: UInt64?
        var status: Int32 = 0
        var exited = false
        // When the command itself has ended: what it started in the background may hold the pipes
        // open for ever (`notify-send &`), so reading stops `grace` after the command's own exit.
        var exitedAt: UInt64?
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !exited || !open.isEmpty {
            let now = Monotonic.now()
            if !timedOut, !exited, now >= deadline {
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
                if waited == pid {
                    exited = true
                    exitedAt = now
                }
            }
            if let at = exitedAt, !timedOut, now >= at + Monotonic.nanoseconds(grace) {
                for fd in open { close(fd) }
                open = []
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
                    if entry.fd == out {
                        outSink.append(buffer[0..<count])
                    } else {
                        errSink.append(buffer[0..<count])
                        errHead.append(buffer[0..<count])
                    }
                } else if count == 0 || (count < 0 && errno != EINTR && errno != EAGAIN) {
                    close(entry.fd)
                    open.removeAll { $0 == entry.fd }
                }
            }
        }
        if timedOut { kill(-pid, SIGKILL) }
        let termination: CommandResult.Termination =
            timedOut
            ? .timedOut
            : (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signalled(status & 0x7f)
        return CommandResult(
            termination: termination, stdout: outSink.text, stderr: errSink.text,
            stderrHead: errHead.text, stdoutTruncated: outSink.truncated)
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

/// Whether a program is safe to run as this user: a regular executable file that is not writable
/// by group or others, belongs to root or to the user running updatectl, and lies in directories
/// that are just as safe (`TrustedPath`) — otherwise anyone who can change it, or swap a
/// directory on its way, runs code with updatectl's rights.
public enum ExecutableCheck {
    /// The program opened for execution, or why it may not run.
    public static func open(_ path: String) throws(TrustedPath.Problem) -> TrustedPath.Opened {
        let opened: TrustedPath.Opened
        do {
            opened = try TrustedPath.open(path, as: .regularFile)
        } catch {
            if error.missing { throw TrustedPath.Problem(path: path, reason: "does not exist", missing: true) }
            throw TrustedPath.Problem(
                path: error.path, reason: error.reason + (error.path == path ? "" : " (on the way to \(path))"),
                missing: false)
        }
        let mode = opened.info.st_mode
        let user = getuid()
        let executable = user == 0 ? mode & 0o111 != 0 : (opened.info.st_uid == user ? mode & 0o100 != 0 : mode & 0o001 != 0)
        guard executable else {
            opened.close()
            throw TrustedPath.Problem(path: path, reason: "is not executable", missing: false)
        }
        return opened
    }

    /// The interpreter and its optional argument when the file starts with `#!`, read as the
    /// kernel reads it (the first line, at most 256 bytes).
    static func shebang(_ opened: TrustedPath.Opened) -> (String, String?)? {
        let fd = Glibc.open("/proc/self/fd/\(opened.fd)", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = read(fd, &buffer, buffer.count)
        guard count > 2, buffer[0] == UInt8(ascii: "#"), buffer[1] == UInt8(ascii: "!") else { return nil }
        let line = buffer[2..<count].prefix { $0 != UInt8(ascii: "\n") }
        let text = String(decoding: line, as: UTF8.self)
        let words = text.split(maxSplits: 1, whereSeparator: { $0 == " " || $0 == "\t" })
        guard let interpreter = words.first else { return nil }
        let rest = words.count > 1 ? words[1].trimmingSpaces : ""
        return (String(interpreter), rest.isEmpty ? nil : rest)
    }

    /// Why `path` may not run, or nil.
    public static func problem(_ path: String) -> String? {
        do {
            try open(path).close()
            return nil
        } catch {
            return error.description
        }
    }
}
