import UpdatePolicy

/// An A/B slot.
public enum Slot: String, Sendable, Hashable, CaseIterable {
    case a, b

    public var other: Slot { self == .a ? .b : .a }
}

public struct BackendError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// How actions touch the system. Every call is one effect the executor can name in its output.
public protocol UpdateBackend: Sendable {
    /// The slot the node runs now.
    func bootedSlot() throws -> Slot
    /// The version the node runs now.
    func runningVersion() throws -> String
    /// The directory an image for `slot` is downloaded into (for the free-space gate); asking
    /// creates nothing.
    func imageDirectory(for slot: Slot) -> String
    /// Creates what the download needs and returns where each file (`vmlinuz`,
    /// `kubesolo-os.gz`, or `image`) for `slot` is written, by name.
    func prepareFiles(for slot: Slot, names: [String]) throws -> [String: String]
    /// Makes the downloaded, verified files the content of `slot`, all of them or none.
    func stage(files: [String: String], slot: Slot, version: String, fromVersion: String) throws
    /// After a failed or interrupted download: the slot must not be booted. Best effort. With
    /// `keepingDownloads`, the files downloaded for it so far stay, for the next run to resume.
    func invalidate(slot: Slot, keepingDownloads: Bool)
    /// Makes `slot` boot next.
    func activate(slot: Slot, version: String, fromVersion: String) throws
    /// Reboots into the slot that boots next.
    func reboot() throws
    /// Makes `slot` (the previous one) boot next.
    func rollback(to slot: Slot, version: String, fromVersion: String) throws
    /// Marks the booted slot good.
    func commit(slot: Slot, version: String) throws
    /// Changes with every boot, so a healthcheck can tell "not rebooted yet" from "booted the
    /// old slot".
    func bootID() throws -> String
    /// A lock file that every writer of these slots holds besides the state lock, so two policies
    /// that share the slots but not the state cannot run at once; nil when the slots are the
    /// machine's own (the state lock covers them).
    var lockPath: String? { get }
    /// The version last marked good, when the backend records it (nil: it does not).
    func committedVersion() throws -> String?
    /// The slot the bootloader boots next, when the backend can tell (nil: it cannot).
    func nextSlot() throws -> Slot?
    /// Room where `slot`'s files go, when that is not what `imageDirectory` measures (a partition
    /// that is not mounted), counting the files named `names` there as free when staging replaces
    /// them; nil: measure `imageDirectory`.
    func slotSpace(for slot: Slot, replacing names: [String]) throws -> SlotSpace?
    /// Removes what an interrupted staging left in `slot` under updatectl's temporary names;
    /// returns what it removed. Every run does it before measuring or staging, `state reset` too.
    func removeLeftovers(slot: Slot) throws -> [String]
    /// After a passing healthcheck with no update in flight: tells a bootloader that counts
    /// unverified boots that this boot of the booted slot is good, when it is the slot that boots
    /// next. Returns what it changed (nil: nothing).
    func confirmBoot() throws -> String?
}

extension UpdateBackend {
    public var lockPath: String? { nil }
    public func committedVersion() throws -> String? { nil }
    public func nextSlot() throws -> Slot? { nil }
    public func slotSpace(for slot: Slot, replacing names: [String]) throws -> SlotSpace? { nil }
    public func removeLeftovers(slot: Slot) throws -> [String] { [] }
    public func confirmBoot() throws -> String? { nil }
}

/// The kernel's id of this boot.
public enum KernelBootID {
    public static func read() throws -> String {
        guard let bytes = try AtomicFile.read("/proc/sys/kernel/random/boot_id", limit: 256) else {
            throw BackendError("cannot read /proc/sys/kernel/random/boot_id")
        }
        return String(decoding: bytes, as: UTF8.self).trimmingSpaces
    }
}

extension UpdateBackend {
    /// After a failed download or stage: the slot must not be booted, and its downloads go.
    public func invalidate(slot: Slot) { invalidate(slot: slot, keepingDownloads: false) }
}

/// The agent side of a backend description (`UpdatePolicy/Backends`): the runner that carries out
/// its operations on this node. Each backend's file here adds it to its description.
protocol BackendMaking: BackendDescription {
    func makeBackend(dataDir: String, runner: any CommandRunner) -> any UpdateBackend
}

/// Room in a slot's file system for a new release: what is free now, and what staging frees
/// before it writes (the old release's files it replaces, leftover temporary names).
public struct SlotSpace: Sendable, Equatable {
    public var free: UInt64
    public var reclaimable: UInt64
    public var available: UInt64 { free + reclaimable }

    public init(free: UInt64, reclaimable: UInt64) {
        self.free = free
        self.reclaimable = reclaimable
    }
}
