#if canImport(Glibc)
import Glibc
#endif
public import UpdatePlan

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

    /// Reads the state: a fresh idle state when there is no file. Removes stale temporary files
    /// from interrupted saves. A file that does not parse is moved aside and reported.
    public func load(clock: any WallClock = SystemWallClock()) throws -> UpdateState {
        sweepTemporaryFiles()
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 {
            if errno == ENOENT { return UpdateState() }
            if errno == ELOOP { throw SystemError("refusing to follow a symbolic link at", path) }
            throw SystemError("cannot open", path)
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = read(fd, &chunk, chunk.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError("cannot read", path)
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
            if bytes.count > 16 << 20 { break }
        }
        do {
            return try UpdateState.decode(bytes)
        } catch {
            let problem = bytes.isEmpty ? "it is empty" : error.message
            let target = directory + "/" + brokenPrefix + clock.now().description
            guard rename(path, target) == 0 else { throw SystemError("cannot move the broken state file aside to", target) }
            syncDirectoryQuietly()
            throw BrokenState(path: path, movedTo: target, problem: problem)
        }
    }

    /// Broken state files moved aside earlier and not yet cleared by `state reset`.
    public func brokenFiles() -> [String] {
        listDirectory().filter { $0.hasPrefix(brokenPrefix) && !$0.hasSuffix(".cleared") }.sorted()
            .map { directory + "/" + $0 }
    }

    /// Writes `state` durably, with `updated_at` set to now; returns what was written.
    @discardableResult
    public func save(_ state: UpdateState, clock: any WallClock = SystemWallClock()) throws -> UpdateState {
        guard StateMachine.allowed[state.phase] != nil else { throw SystemError("invalid phase for", path, code: EINVAL) }
        var stamped = state
        stamped.updatedAt = clock.now()
        try prepareDirectory()
        try AtomicFile.write(stamped.fileBytes, to: path, mode: 0o600, pausePrefix: "save")
        return stamped
    }

    /// Moves the state to `next` by the transition table and counting rules, and saves it.
    /// An illegal transition throws and writes nothing.
    @discardableResult
    public func transition(_ state: UpdateState, to next: Phase, event: StateMachine.Event = StateMachine.Event(),
                           clock: any WallClock = SystemWallClock()) throws -> UpdateState {
        let saved = try save(try StateMachine.apply(next, to: state, event: event, now: clock.now()), clock: clock)
        TestPause.here("state.\(next.rawValue)")
        return saved
    }

    /// `state reset --yes`: a fresh idle state, and broken files marked `.cleared`.
    public func reset(clock: any WallClock = SystemWallClock()) throws -> [String] {
        let broken = brokenFiles()
        try save(UpdateState(), clock: clock)
        for file in broken { rename(file, file + ".cleared") }
        if !broken.isEmpty { syncDirectoryQuietly() }
        return broken
    }

    // MARK: Helpers

    private func syncDirectoryQuietly() { _ = try? AtomicFile.syncDirectory(directory) }

    private func listDirectory() -> [String] {
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            names.append(name)
        }
        return names
    }

    /// Removes temporary files left by saves that were interrupted.
    private func sweepTemporaryFiles() {
        for name in listDirectory() where name.hasPrefix(temporaryPrefix) {
            unlink(directory + "/" + name)
        }
    }
}
