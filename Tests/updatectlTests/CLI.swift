import Foundation
import Testing

/// Runs the real `updatectl` binary that `swift build` put next to the test bundle, or the one
/// `UPDATECTL_TEST_BINARY` names (the release build: `scripts/test-release-binary.sh`).
enum CLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var binary: URL {
        if let chosen = ProcessInfo.processInfo.environment["UPDATECTL_TEST_BINARY"], !chosen.isEmpty {
            return URL(fileURLWithPath: chosen)
        }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // On Linux the test runner is `<products>/updatectlPackageTests.xctest`.
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("updatectl").path),
            directory.path != "/"
        {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("updatectl")
    }

    static func run(
        _ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:], directory: URL? = nil
    ) throws -> Result {
        try runProgram(binary.path, arguments, stdin: stdin, environment: environment, directory: directory)
    }

    static func runProgram(
        _ program: String, _ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:],
        directory: URL? = nil
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        if let directory { process.currentDirectoryURL = directory }
        process.arguments = arguments
        process.environment = controlledEnvironment(environment)
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        // Both pipes are read on this thread with poll(2), so a full pipe never blocks the child and
        // no Dispatch thread is held per pipe (many tests run at once; Dispatch has few threads).
        // A child that runs past the deadline is killed; a grandchild left holding a pipe cannot
        // hang the test: reading stops shortly after the child is gone.
        var streams = [
            (fd: out.fileHandleForReading.fileDescriptor, data: Data()),
            (fd: err.fileHandleForReading.fileDescriptor, data: Data()),
        ]
        var open = [true, true]
        let deadline = Date().addingTimeInterval(120)
        var exitedAt: Date?
        var buffer = [UInt8](repeating: 0, count: 65536)
        while open.contains(true) {
            if exitedAt == nil, !process.isRunning { exitedAt = Date() }
            if let exitedAt, Date().timeIntervalSince(exitedAt) > 5 { break }
            if Date() > deadline {
                kill(process.processIdentifier, SIGKILL)
                Issue.record("\(program) \(arguments.joined(separator: " ")) ran past 120 s and was killed")
                break
            }
            var fds = streams.indices.filter { open[$0] }.map { pollfd(fd: streams[$0].fd, events: Int16(POLLIN), revents: 0) }
            guard poll(&fds, nfds_t(fds.count), 50) > 0 else { continue }
            for entry in fds where entry.revents != 0 {
                let index = streams.firstIndex { $0.fd == entry.fd }!
                let count = read(entry.fd, &buffer, buffer.count)
                if count > 0 { streams[index].data.append(contentsOf: buffer[0..<count]) } else { open[index] = false }
            }
        }
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: streams[0].data, as: UTF8.self),
            stderr: String(decoding: streams[1].data, as: UTF8.self))
    }
}

/// What a started program sees: a fixed, small environment plus what the test gives, never the
/// developer's (no KUBECONFIG, HOME, GITHUB_ACTIONS or proxy settings of theirs leak in).
func controlledEnvironment(_ extra: [String: String]) -> [String: String] {
    var env = [
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
        "HOME": FileManager.default.temporaryDirectory.path,
    ]
    if let tmp = ProcessInfo.processInfo.environment["TMPDIR"] { env["TMPDIR"] = tmp }
    for (key, value) in extra { env[key] = value }
    return env
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ value: Data) { lock.withLock { data = value } }
    func get() -> Data { lock.withLock { data } }
}

/// A fresh directory under the system temporary directory, removed when the value is dropped.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("updatectl-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func write(_ name: String, _ text: String) throws {
        let file = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: file)
    }
}

extension CLI {
    /// `run` on a thread of its own, so that a test awaiting it never blocks the cooperative
    /// pool (or Dispatch's few threads) that an in-process test server answers on.
    static func runAsync(
        _ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:],
        directory: URL? = nil
    ) async throws -> Result {
        try await onOwnThread { try run(arguments, stdin: stdin, environment: environment, directory: directory) }
    }
}

/// Runs blocking work on a new thread and awaits it: neither the cooperative pool nor Dispatch's
/// limited worker threads are held while a test waits for a process or a socket.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.stackSize = 1 << 20
        thread.start()
    }
}
