import Foundation

/// A real `updatectl` started in the background, whose standard error the test can wait on.
final class BackgroundProcess: @unchecked Sendable {
    let process = Process()
    private let stderrPipe = Pipe()
    private let lock = NSLock()
    private var stderrText = ""
    private let reader = DispatchGroup()

    /// Starts `program` (default: `updatectl`); any other program comes from `TestComponents`.
    /// With `withStandardOutput`, standard output is read with standard error, as one text.
    init(
        _ arguments: [String], program: String? = nil, environment: [String: String] = [:], withStandardOutput: Bool = false
    ) throws {
        process.executableURL = program.map { URL(fileURLWithPath: $0) } ?? CLI.binary
        process.arguments = arguments
        process.environment = controlledEnvironment(environment)
        process.standardError = stderrPipe
        process.standardOutput = withStandardOutput ? stderrPipe : FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let handle = stderrPipe.fileHandleForReading
        reader.enter()
        Thread { [self] in
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                lock.withLock { stderrText += String(decoding: data, as: UTF8.self) }
            }
            reader.leave()
        }.start()
    }

    var stderr: String { lock.withLock { stderrText } }

    /// Waits up to `seconds` for `text` on standard error, or for the process to end.
    func waitFor(_ text: String, seconds: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if stderr.contains(text) { return true }
            if !process.isRunning { return stderr.contains(text) }
            usleep(2_000)
        }
        return false
    }

    func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        reader.wait()
    }

    func wait() -> Int32 {
        process.waitUntilExit()
        reader.wait()
        return process.terminationStatus
    }
}

extension BackgroundProcess {
    /// `waitFor` on a thread of its own, for async tests.
    func reached(_ text: String, seconds: Double = 30) async -> Bool {
        (try? await onOwnThread { self.waitFor(text, seconds: seconds) }) ?? false
    }
}
