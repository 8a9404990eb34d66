import UpdatePolicy

#if canImport(Glibc)
import Glibc
#endif

/// Slot images and boot markers in a directory: what the demo and the end-to-end tests run on,
/// needing no root and no real disk.
///
/// Layout under `root`: `a/` and `b/` each hold the release's files (`vmlinuz` and
/// `kubesolo-os.gz`, or `image`), `files` (their names) and `version` (and `invalid` after a
/// failed download); `booted` names the slot the node runs, `next` the slot that boots next,
/// `committed` the last slot marked good. A new root starts with slot `a` booted at
/// `initialVersion` (read as such before anything is written: asking creates nothing). Every
/// write is atomic. Its "reboot" makes `next` the booted slot.
public struct DirectoryBackend: UpdateBackend {
    public let root: String
    public let initialVersion: String

    public init(root: String, initialVersion: String) {
        self.root = root
        self.initialVersion = initialVersion
    }

    private func path(_ parts: String...) -> String { ([root] + parts).joined(separator: "/") }

    public var lockPath: String? { path(".updatectl.lock") }

    private func readMarker(_ name: String) throws -> String? {
        guard let bytes = try AtomicFile.read(path(name), limit: 4096) else { return nil }
        return String(decoding: bytes, as: UTF8.self).trimmingSpaces
    }

    private func writeMarker(_ name: String, _ value: String) throws {
        try AtomicFile.write(Array((value + "\n").utf8), to: path(name), mode: 0o644)
    }

    /// Creates the layout when the root is new.
    func prepare() throws {
        if try readMarker("booted") != nil { return }
        try AtomicFile.makeDirectories(path("a"))
        try AtomicFile.makeDirectories(path("b"))
        try writeMarker("a/version", initialVersion)
        try writeMarker("committed", "a")
        try writeMarker("next", "a")
        try writeMarker("booted", "a")
    }

    /// Whether nothing was written yet: then slot `a` runs `initialVersion`.
    private func isFresh() throws -> Bool { try readMarker("booted") == nil }

    private func slot(_ marker: String) throws -> Slot {
        if try isFresh() { return .a }
        guard let text = try readMarker(marker), let slot = Slot(rawValue: text) else {
            throw BackendError("the directory backend's \(path(marker)) does not name slot a or b")
        }
        return slot
    }

    public func bootedSlot() throws -> Slot { try slot("booted") }
    public func committedVersion() throws -> String? { try version(of: try slot("committed")) }
    public func nextSlot() throws -> Slot? { try slot("next") }

    public func version(of slot: Slot) throws -> String? {
        if try isFresh() { return slot == .a ? initialVersion : nil }
        return try readMarker("\(slot.rawValue)/version")
    }

    public func runningVersion() throws -> String {
        let booted = try bootedSlot()
        guard let version = try version(of: booted) else {
            throw BackendError("slot \(booted.rawValue) is booted but \(path(booted.rawValue, "version")) is missing")
        }
        return version
    }

    public func imageDirectory(for slot: Slot) -> String { path(slot.rawValue) }

    public func prepareFiles(for slot: Slot, names: [String]) throws -> [String: String] {
        try prepare()
        try AtomicFile.makeDirectories(path(slot.rawValue, "incoming"))
        return Dictionary(uniqueKeysWithValues: names.map { ($0, path(slot.rawValue, "incoming", $0)) })
    }

    /// The slot is marked invalid first and valid last: a crash in between leaves a slot that
    /// `activate` refuses, never one with half a release.
    public func stage(files: [String: String], slot: Slot, version: String, fromVersion: String) throws {
        try writeMarker("\(slot.rawValue)/invalid", "staging")
        for old in (try readMarker("\(slot.rawValue)/files"))?.split(separator: " ") ?? ["image"] {
            unlink(path(slot.rawValue, String(old)))
        }
        for (name, file) in files.sorted(by: { $0.key < $1.key }) {
            let target = path(slot.rawValue, name)
            guard rename(file, target) == 0 else { throw SystemError("cannot move \(name) to", target) }
        }
        try writeMarker("\(slot.rawValue)/files", files.keys.sorted().joined(separator: " "))
        try writeMarker("\(slot.rawValue)/version", version)
        unlink(path(slot.rawValue, "invalid"))
    }

    public func invalidate(slot: Slot, keepingDownloads: Bool) {
        if !keepingDownloads, let entries = try? DirectoryListing.entries(path(slot.rawValue, "incoming")) {
            for entry in entries { unlink(path(slot.rawValue, "incoming", entry.name)) }
        }
        try? writeMarker("\(slot.rawValue)/invalid", "download failed or interrupted")
    }

    /// The names of the files staged in `slot`.
    public func stagedFiles(_ slot: Slot) -> [String] {
        ((try? readMarker("\(slot.rawValue)/files")) ?? nil).map { $0.split(separator: " ").map(String.init) } ?? ["image"]
    }

    public func isInvalid(_ slot: Slot) -> Bool { access(path(slot.rawValue, "invalid"), F_OK) == 0 }

    public func activate(slot: Slot, version: String, fromVersion: String) throws {
        try prepare()
        guard stagedFiles(slot).allSatisfy({ access(path(slot.rawValue, $0), F_OK) == 0 }), !isInvalid(slot) else {
            throw BackendError("slot \(slot.rawValue) holds no valid release to activate")
        }
        try writeMarker("next", slot.rawValue)
    }

    public func reboot() throws {
        try prepare()
        let boots = Int(try readMarker("boots") ?? "0") ?? 0
        try writeMarker("boots", String(boots + 1))
        try writeMarker("booted", try slot("next").rawValue)
    }

    /// Its "reboots" are counted in `boots`.
    public func bootID() throws -> String { "directory-boot-" + (try readMarker("boots") ?? "0") }

    public func rollback(to slot: Slot, version: String, fromVersion: String) throws {
        try prepare()
        try writeMarker("next", slot.rawValue)
    }

    public func commit(slot: Slot, version: String) throws {
        try prepare()
        try writeMarker("committed", slot.rawValue)
    }
}

extension DirectoryBackendConfig: BackendMaking {
    func makeBackend(dataDir: String, runner: any CommandRunner) -> any UpdateBackend {
        DirectoryBackend(root: root.value, initialVersion: initialVersion.value)
    }
}
