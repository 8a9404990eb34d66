import Foundation
import Testing
import UpdateAgent
import UpdatePlan

final class ScratchDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("updatectl-state-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func files() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path).sorted() }
}

@Suite struct StateStoreTests {
    let clock = FixedWallClock(Timestamp(seconds: 1_800_000_000, nanoseconds: 500))

    @Test func aMissingFileIsAFreshIdleState() throws {
        let dir = try ScratchDirectory()
        let state = try StateStore(path: dir.path + "/update/state.json").load()
        #expect(state.phase == .idle && state.attemptCount == 0)
    }

    @Test func saveWritesTheGoShapeWithMode0600AndLoadReadsItBack() throws {
        let dir = try ScratchDirectory()
        let store = StateStore(path: dir.path + "/update/state.json")
        var state = UpdateState(phase: .failed)
        state.toVersion = "1.1.0"
        state.lastError = "sha256 mismatch"
        state.attemptCount = 2
        try store.save(state, clock: clock)
        let attributes = try FileManager.default.attributesOfItem(atPath: store.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let text = try String(contentsOfFile: store.path, encoding: .utf8)
        #expect(
            text == """
                {
                  "phase": "failed",
                  "to_version": "1.1.0",
                  "started_at": "0001-01-01T00:00:00Z",
                  "updated_at": "2027-01-15T08:00:00.0000005Z",
                  "last_error": "sha256 mismatch",
                  "attempt_count": 2
                }

                """)
        let loaded = try store.load()
        #expect(loaded.phase == .failed && loaded.lastError == "sha256 mismatch" && loaded.attemptCount == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/update").sorted() == ["state.json", "state.json.lock"])
    }

    @Test func anIllegalTransitionLeavesTheFileUntouched() throws {
        let dir = try ScratchDirectory()
        let store = StateStore(path: dir.path + "/state.json")
        try store.save(UpdateState(phase: .staged), clock: clock)
        let before = try Data(contentsOf: URL(fileURLWithPath: store.path))
        #expect(throws: StateMachine.IllegalTransition.self) {
            try store.transition(try store.load(), to: .success, clock: clock)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: store.path)) == before)
    }

    @Test func staleTemporaryFilesAreSweptOnLoad() throws {
        let dir = try ScratchDirectory()
        let store = StateStore(path: dir.path + "/state.json")
        try store.save(UpdateState(phase: .idle), clock: clock)
        _ = FileManager.default.createFile(atPath: dir.path + "/state.json.tmp-99999", contents: Data("{".utf8))
        _ = try store.read()
        #expect(try dir.files() == ["state.json", "state.json.tmp-99999"], "a reader sweeps nothing")
        _ = try store.load()
        #expect(try dir.files() == ["state.json", "state.json.lock"])
    }

    @Test(arguments: ["", "{\"phase\": ", "{\"phase\": \"nope\"}", "\u{0}\u{0}\u{0}"])
    func aBrokenFileIsMovedAsideAndBlocksUntilReset(content: String) throws {
        let dir = try ScratchDirectory()
        let store = StateStore(path: dir.path + "/state.json")
        _ = FileManager.default.createFile(atPath: store.path, contents: Data(content.utf8))
        var moved = ""
        do {
            _ = try store.load(clock: clock)
            Issue.record("a broken file loaded")
        } catch let error as StateStore.BrokenState {
            moved = error.movedTo
            #expect(error.description.contains("updatectl state reset --yes"))
        }
        #expect(moved == dir.path + "/state.json.broken-2027-01-15T08:00:00.0000005Z")
        #expect(try Data(contentsOf: URL(fileURLWithPath: moved)) == Data(content.utf8))
        #expect(store.brokenFiles() == [moved])
        // The next load starts fresh, but the evidence stays until a reset clears it.
        #expect(try store.load().phase == .idle)
        #expect(store.brokenFiles() == [moved])
        #expect(try store.reset(clock: clock) == [moved])
        #expect(store.brokenFiles().isEmpty)
        #expect(FileManager.default.fileExists(atPath: moved + ".cleared"))
    }

    @Test func symbolicLinksAreNotFollowed() throws {
        let dir = try ScratchDirectory()
        let elsewhere = dir.path + "/elsewhere.json"
        _ = FileManager.default.createFile(atPath: elsewhere, contents: Data("{\"phase\": \"success\"}".utf8))
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/state.json", withDestinationPath: elsewhere)
        let store = StateStore(path: dir.path + "/state.json")
        #expect {
            _ = try store.load()
        } throws: { error in
            "\(error)" == "refusing \(dir.path)/state.json: it is a symbolic link, not a regular file"
        }
        // A save replaces the link itself and never writes through it.
        try store.save(UpdateState(phase: .idle), clock: clock)
        #expect(try String(contentsOfFile: elsewhere, encoding: .utf8) == "{\"phase\": \"success\"}")
        let type = try FileManager.default.attributesOfItem(atPath: store.path)[.type] as? FileAttributeType
        #expect(type == .typeRegular)
    }

    @Test func theLockIsExclusiveAndNamesItsHolder() throws {
        let dir = try ScratchDirectory()
        let statePath = dir.path + "/state.json"
        let first = try StateLock.acquire(statePath: statePath)
        #expect {
            _ = try StateLock.acquire(statePath: statePath)
        } throws: { error in
            guard let busy = error as? StateLock.Busy else { return false }
            return busy.holder == getpid() && busy.description.contains("process \(getpid())")
        }
        first.release()
        let second = try StateLock.acquire(statePath: statePath)
        second.release()
        #expect(FileManager.default.fileExists(atPath: statePath + ".lock"))
    }
}

extension StateStore {
    /// A writer's load: takes the lock for the call, as `apply` and `healthcheck` hold it.
    func load(clock: any WallClock = SystemWallClock()) throws -> UpdateState {
        let lock = try StateLock.acquire(statePath: path)
        defer { lock.release() }
        return try load(holding: lock, clock: clock)
    }

    func reset(clock: any WallClock = SystemWallClock()) throws -> [String] {
        let lock = try StateLock.acquire(statePath: path)
        defer { lock.release() }
        return try reset(holding: lock, clock: clock)
    }
}
