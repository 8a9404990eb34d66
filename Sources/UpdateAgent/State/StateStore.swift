public import UpdatePlan

#if canImport(Glibc)
import Glibc
#endif

/// `state.json` on disk: crash-safe saves, stale temporary files swept on load, broken files
/// moved aside as evidence.
///
/// A save writes a new file beside the target (`O_CREAT|O_EXCL|O_CLOEXEC|O_NOFOLLOW`, mode 0600),
/// writes every byte, fsyncs it, renames it over the target and fsyncs the directory, so after a
/// crash at any point the file is the old version or the new one, never empty or partial.
public struct StateStore: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// The default when no policy says: the upstream agent's path.
    public static let defaultPath = "/var/lib/kubesolo/update/state.json"

    /// `<data_dir>/update/state.json`.
    public static func path(dataDir: String) -> String {
        (dataDir.hasSuffix("/") ? String(dataDir.dropLast()) : dataDir) + "/update/state.json"
    }

    var directory: String { Paths.directory(of: path) }
    var fileName: String { Paths.fileName(of: path) }

    private var temporaryPrefix: String { fileName + ".tmp-" }
    private var brokenPrefix: String { fileName + ".broken-" }

    /// The state file could not be parsed; it was moved aside.
    public struct BrokenState: Error, Sendable, CustomStringConvertible {
        public var path: String
        public var movedTo: String
        public var problem: String
        public var description: String {
            "the state file \(path) is broken (\(problem)); it was moved to \(movedTo). An update may have been in "
                + "flight: check the node, then run `updatectl state reset --yes` to start from idle"
        }
    }

    /// Earlier broken state files are still there, so an update may be in flight.
    public struct UnresolvedBrokenState: Error, Sendable, CustomStringConvertible {
        public var files: [String]
        public var description: String {
            "an earlier state file was broken and moved aside (\(files.joined(separator: ", "))), so an update may "
                + "have been in flight; check the node, then run `updatectl state reset --yes`"
        }
    }

    /// What a read-only look at the state found.
    public enum Reading: Sendable {
        /// There is no state file (a node that never ran an update, or a wrong `--state`).
        case missing
        case state(UpdateState)
        /// The file does not parse; it was left where it is.
        case broken(problem: String)
    }

    /// Reads the state without changing anything on disk: no directory is created, no temporary
    /// file swept, a broken file is reported and left in place (the upstream Go agent may still
    /// read it). For `status`, `plan --state` and `apply --dry-run`.
    public func read() throws(StateFileProblem) -> Reading {
        let directory: StateDirectory
        do {
            directory = try StateDirectory(self.directory, create: false)
        } catch {
            if case .missingDirectory = error { return .missing }
            throw error
        }
        guard let fd = try directory.openForReading(fileName) else { return .missing }
        defer { close(fd) }
        let bytes: [UInt8]
        do {
            bytes = try Self.readAll(fd, path: path)
        } catch {
            throw .system(error)
        }
        do {
            return .state(try UpdateState.decode(bytes))
        } catch {
            return .broken(problem: bytes.isEmpty ? "it is empty" : error.message)
        }
    }

    /// Reads the state for a writer holding `lock`: a fresh idle state when there is no file.
    /// Removes temporary files left by interrupted saves; a file that does not parse is moved
    /// aside as evidence and reported.
    public func load(holding lock: StateLock, clock: any WallClock = SystemWallClock()) throws -> UpdateState {
        let directory = try StateDirectory(self.directory, create: true)
        for name in directory.list() where name.hasPrefix(temporaryPrefix) { directory.unlink(name) }
        guard let fd = try directory.openForReading(fileName) else { return UpdateState() }
        defer { close(fd) }
        let bytes = try Self.readAll(fd, path: path)
        do {
            return try UpdateState.decode(bytes)
        } catch {
            let problem = bytes.isEmpty ? "it is empty" : error.message
            let target = brokenPrefix + clock.now().description
            try directory.rename(fileName, target)
            try? directory.sync()
            throw BrokenState(path: path, movedTo: self.directory + "/" + target, problem: problem)
        }
    }

    static func readAll(_ fd: Int32, path: String) throws(SystemError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = Glibc.read(fd, &chunk, chunk.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError("cannot read", path)
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
            if bytes.count > 16 << 20 { break }
        }
        return bytes
    }

    /// Broken state files moved aside earlier and not yet cleared by `state reset`.
    public func brokenFiles() -> [String] {
        guard let directory = try? StateDirectory(self.directory, create: false) else { return [] }
        return directory.list().filter { $0.hasPrefix(brokenPrefix) && !$0.hasSuffix(".cleared") }.sorted()
            .map { self.directory + "/" + $0 }
    }

    /// Writes `state` durably, with `updated_at` set to now; returns what was written.
    @discardableResult
    public func save(_ state: UpdateState, clock: any WallClock = SystemWallClock()) throws -> UpdateState {
        guard StateMachine.allowed[state.phase] != nil else { throw SystemError("invalid phase for", path, code: EINVAL) }
        var stamped = state
        stamped.updatedAt = clock.now()
        let directory = try StateDirectory(self.directory, create: true)
        try directory.write(stamped.fileBytes, to: fileName, mode: 0o600, pausePrefix: "save")
        return stamped
    }

    /// Moves the state to `next` by the transition table and counting rules, and saves it.
    /// An illegal transition throws and writes nothing.
    @discardableResult
    public func transition(
        _ state: UpdateState, to next: Phase, event: StateMachine.Event = StateMachine.Event(),
        clock: any WallClock = SystemWallClock()
    ) throws -> UpdateState {
        let saved = try save(try StateMachine.apply(next, to: state, event: event, now: clock.now()), clock: clock)
        TestPause.here("state.\(next.rawValue)")
        return saved
    }

    /// Whether `reset` would find nothing to clear: no state file (parsed or not), no broken one
    /// moved aside, no interruption or activation in the sidecar. Only reads: creates nothing.
    public func holdsNothingToReset() throws -> Bool {
        guard case .missing = try read() else { return false }
        let sidecar = try readSidecar()
        return brokenFiles().isEmpty && sidecar.interruptions == nil && sidecar.activation == nil
    }

    /// `state reset --yes`: a fresh idle state, the sidecar's interruption count and activation
    /// record cleared, and broken files marked `.cleared` (a state file that does not parse is
    /// first moved aside like any writer moves it, so it is kept too).
    public func reset(holding lock: StateLock, clock: any WallClock = SystemWallClock()) throws -> [String] {
        do {
            _ = try load(holding: lock, clock: clock)
        } catch is BrokenState {
            // Moved aside: cleared below with the others.
        }
        let broken = brokenFiles()
        try save(UpdateState(), clock: clock)
        // Someone looked: interruptions start counting again; rolled-back versions stay held back.
        try updateSidecar(holding: lock) { sidecar in
            sidecar.interruptions = nil
            sidecar.activation = nil
        }
        let directory = try StateDirectory(self.directory, create: true)
        for file in broken {
            let name = Paths.fileName(of: file)
            try directory.rename(name, name + ".cleared")
        }
        if !broken.isEmpty { try? directory.sync() }
        return broken
    }
}
