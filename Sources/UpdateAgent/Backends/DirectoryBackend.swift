#if canImport(Glibc)
import Glibc
#endif

/// Slot images and boot markers in a directory: what the demo and the end-to-end tests run on,
/// needing no root and no real disk.
///
/// Layout under `root`: `a/` and `b/` each hold `image` and `version` (and `invalid` after a
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
    public func nextSlot() throws -> Slot { try slot("next") }

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

    public func prepareImage(for slot: Slot) throws -> String {
        try prepare()
        return path(slot.rawValue, "image.partial")
    }

    public func stage(image: String, slot: Slot, version: String, fromVersion: String) throws {
        let target = path(slot.rawValue, "image")
        guard rename(image, target) == 0 else { throw SystemError("cannot move the image to", target) }
        unlink(path(slot.rawValue, "invalid"))
        try writeMarker("\(slot.rawValue)/version", version)
    }

    public func invalidate(slot: Slot) {
        unlink(path(slot.rawValue, "image.partial"))
        try? writeMarker("\(slot.rawValue)/invalid", "download failed or interrupted")
    }

    public func isInvalid(_ slot: Slot) -> Bool { access(path(slot.rawValue, "invalid"), F_OK) == 0 }

    public func activate(slot: Slot, version: String, fromVersion: String) throws {
        try prepare()
        guard access(path(slot.rawValue, "image"), F_OK) == 0, !isInvalid(slot) else {
            throw BackendError("slot \(slot.rawValue) holds no valid image to activate")
        }
        try writeMarker("next", slot.rawValue)
    }

    public func reboot() throws {
        try prepare()
        let boots = Int(try readMarker("boots") ?? "0") ?? 0
        try writeMarker("boots", String(boots + 1))
        try writeMarker("booted", try nextSlot().rawValue)
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
