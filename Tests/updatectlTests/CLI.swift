import Foundation
import Testing

/// Runs the real `updatectl` binary that `swift build` put next to the test bundle.
enum CLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var binary: URL {
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
        // Read both pipes concurrently so a full pipe never blocks the child; a child that runs
        // past the deadline is killed, and a grandchild left holding a pipe cannot hang the test.
        let outData = LockedData()
        let errData = LockedData()
        let readers = DispatchGroup()
        for (pipe, sink) in [(out, outData), (err, errData)] {
            readers.enter()
            DispatchQueue.global().async {
                sink.set(pipe.fileHandleForReading.readDataToEndOfFile())
                readers.leave()
            }
        }
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning, Date() < deadline { usleep(2_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            Issue.record("\(program) \(arguments.joined(separator: " ")) ran past 120 s and was killed")
        }
        process.waitUntilExit()
        _ = readers.wait(timeout: .now() + 10)
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: outData.get(), as: UTF8.self),
            stderr: String(decoding: errData.get(), as: UTF8.self))
    }
}

/// What a started program sees: a fixed, small environment plus what the test gives, never the
/// developer's (no KUBECONFIG, HOME, GITHUB_ACTIONS or proxy settings of theirs leak in).
func controlledEnvironment(_ extra: [String: String]) -> [String: String] {
    var env = ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
               "HOME": FileManager.default.temporaryDirectory.path]
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
    /// `run` on a Dispatch thread, so that a test awaiting it never blocks the cooperative pool
    /// that an in-process test server answers on.
    static func runAsync(_ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:],
                         directory: URL? = nil) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Swift.Result { try run(arguments, stdin: stdin, environment: environment, directory: directory) })
            }
        }
    }
}
