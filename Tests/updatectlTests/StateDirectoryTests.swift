import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The state path and its directories are refused, at once and with a clear message, when they
/// are not what updatectl may safely read and write as root.
@Suite struct StateDirectoryTests {
    static let isRoot = getuid() == 0

    /// A FIFO, a directory or a device where the state file should be: refused immediately,
    /// never waited on (a FIFO would block a plain open forever).
    @Test(arguments: ["fifo", "directory", "device"])
    func aStatePathThatIsNotAFileIsRefusedAtOnce(kind: String) async throws {
        let directory = try TemporaryDirectory()
        var state = directory.url.appendingPathComponent("state.json").path
        switch kind {
        case "fifo": #expect(mkfifo(state, 0o600) == 0)
        case "directory": try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false)
        default: state = "/dev/null"
        }
        let status = try await CLI.runAsync(["status", "--state", state])
        #expect(status.status == 1)
        let expected = ["fifo": "it is a FIFO", "directory": "it is a directory", "device": "it is a device"][kind]!
        #expect(status.stderr.contains("refusing \(state): \(expected), not a regular file"), "\(status.stderr)")
        let plan = try await CLI.runAsync(["plan", Paths.root.appendingPathComponent("policies/default.yaml").path, "--state", state])
        #expect(plan.status == 2)
        #expect(plan.stderr.contains(expected))
    }

    @Test func anApplyWhoseStateIsAFIFOFailsAtOnceAndLeavesNoLockHeld() async throws {
        let (server, _, node) = try await TestNode.offered()
        defer { Task { await server.stop() } }
        try FileManager.default.createDirectory(atPath: node.data + "/update", withIntermediateDirectories: true)
        #expect(mkfifo(node.statePath, 0o600) == 0)
        let result = try await node.apply()
        #expect(result.status == 1)
        #expect(result.stderr.contains("refusing \(node.statePath): it is a FIFO, not a regular file"))
        // The lock was released with the run: the next writer is not told to wait.
        unlink(node.statePath)
        #expect(try await node.apply().status == 0)
    }

    @Test func aLockFileThatIsAFIFOIsRefused() async throws {
        let directory = try TemporaryDirectory()
        let state = directory.url.appendingPathComponent("state.json").path
        try directory.write("state.json", #"{"phase": "failed", "started_at": "0001-01-01T00:00:00Z", "attempt_count": 1}"#)
        #expect(mkfifo(state + ".lock", 0o600) == 0)
        let result = try await CLI.runAsync(["state", "reset", "--yes", "--state", state])
        #expect(result.status == 1)
        #expect(result.stderr.contains("refusing \(state).lock: it is a FIFO, not a regular file"))
    }

    /// With no state file there is nothing to reset: said, and nothing is written (no file, no
    /// lock, no directory).
    @Test func resettingWithoutAStateFileSaysSoAndWritesNothing() async throws {
        let directory = try TemporaryDirectory()
        let data = directory.url.appendingPathComponent("data").path
        let missing = try await CLI.runAsync(["state", "reset", "--yes", "--state", data + "/update/state.json"])
        #expect(missing.status == 0, "\(missing.stderr)")
        #expect(missing.stdout == "no state file at \(data)/update/state.json: nothing to reset\n")
        #expect(!FileManager.default.fileExists(atPath: data))
        try FileManager.default.createDirectory(atPath: data + "/update", withIntermediateDirectories: true)
        let empty = try await CLI.runAsync(["state", "reset", "--yes", "--state", data + "/update/state.json"])
        #expect(empty.status == 0, "\(empty.stderr)")
        #expect(empty.stdout.hasPrefix("no state file at "))
        #expect(try FileManager.default.contentsOfDirectory(atPath: data + "/update").isEmpty)
    }

    @Test(.enabled(if: isRoot, "needs root to give files to another user"))
    func aStateDirectoryOthersCanWriteIsRefused() async throws {
        let directory = try TemporaryDirectory()
        let data = directory.url.appendingPathComponent("data").path
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        #expect(chmod(data, 0o777) == 0)
        let result = try await CLI.runAsync(["state", "reset", "--yes", "--state", data + "/update/state.json"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(data) is writable by group or others (mode 0777)"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: data + "/update"))
    }

    /// Another user plants `update -> victim/` in a data directory; root's writer must refuse
    /// to follow it, and nothing lands in the victim.
    @Test(.enabled(if: isRoot, "needs root to act as two users"))
    func aLinkPlantedByAnotherUserIsNotFollowed() async throws {
        let directory = try TemporaryDirectory()
        let data = directory.url.appendingPathComponent("data").path
        let victim = directory.url.appendingPathComponent("victim").path
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: victim, withIntermediateDirectories: true)
        #expect(symlink(victim, data + "/update") == 0)
        #expect(lchown(data + "/update", 65534, 65534) == 0)
        let result = try await CLI.runAsync(["state", "reset", "--yes", "--state", data + "/update/state.json"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(data)/update is a symbolic link owned by uid 65534"), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: victim).isEmpty)
        // A directory on the way that belongs to another user is refused the same way.
        unlink(data + "/update")
        #expect(chown(data, 65534, 65534) == 0)
        let owned = try await CLI.runAsync(["status", "--state", data + "/update/state.json"])
        #expect(owned.status == 1)
        #expect(owned.stderr.contains("\(data) belongs to uid 65534"))
    }

    @Test(.enabled(if: isRoot, "needs root to give a file to another user"))
    func aStateFileOfAnotherUserIsRefused() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("state.json", "{\"phase\": \"idle\"}\n")
        let state = directory.url.appendingPathComponent("state.json").path
        #expect(chown(state, 65534, 65534) == 0)
        let result = try await CLI.runAsync(["status", "--state", state])
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(state) belongs to uid 65534"))
    }
}
