public import UpdatePolicy

#if canImport(Glibc)
import Glibc
#endif

/// A KubeSolo OS node as its bootloader sees it (docs/bootloaders.md): slots A and B are
/// partitions found by their file system labels, each holding `vmlinuz`, `kubesolo-os.gz` and a
/// version file; GRUB's environment block says which slot boots (`active_slot`), how many
/// unverified tries are left (`boot_counter`) and whether the booted slot was verified
/// (`boot_success`). After `boot_tries` unverified boots GRUB swaps `active_slot` by itself.
public struct KubeSoloBackendRunner: UpdateBackend {
    public let config: KubeSoloBackend
    public let dataDir: String
    public let runner: any CommandRunner

    public init(config: KubeSoloBackend, dataDir: String, runner: any CommandRunner) {
        self.config = config
        self.dataDir = dataDir
        self.runner = runner
    }

    /// `UPDATECTL_TEST_ROOT` (debug builds) moves /proc/cmdline and /etc/os-release, for tests.
    var root: String { TestSwitches.value("ROOT") ?? "" }

    func label(_ slot: Slot) -> String { slot == .a ? config.labelA.value : config.labelB.value }
    static func grubName(_ slot: Slot) -> String { slot == .a ? "A" : "B" }
    static func slot(grubName: String) -> Slot? {
        switch grubName.uppercased() {
        case "A": .a
        case "B": .b
        default: nil
        }
    }

    // MARK: GRUB's environment

    func readEnvironment() throws -> GrubEnvironment {
        let path = config.grubenv.value
        guard let bytes = try AtomicFile.read(path, limit: 4096, followingLinks: true) else {
            throw BackendError("GRUB's environment block \(path) does not exist: `grub-editenv \(path) create` makes one")
        }
        do {
            return try GrubEnvironment(bytes: bytes)
        } catch {
            throw BackendError("GRUB's environment block \(path) cannot be read: \(error)")
        }
    }

    /// Sets variables: a new 1024-byte block (every byte written, never sparse) is written beside
    /// the old one, synced, renamed over it and the directory synced, so that a power cut leaves
    /// the old block or the new one, never a truncated file. `grub-editenv set` rewrites the file
    /// in place (`O_TRUNC`) and is not used; the bytes are the ones it would write. A link is
    /// followed: the file it names is replaced and the link stays.
    func writeEnvironment(_ values: [(String, String)]) throws {
        let path = Self.resolved(config.grubenv.value)
        var environment = try readEnvironment()
        for (name, value) in values {
            do {
                try environment.set(name, value)
            } catch {
                throw BackendError("\(error)")
            }
        }
        Self.removeTemporaries(in: Paths.directory(of: path), of: [Paths.fileName(of: path)])
        try AtomicFile.write(environment.bytes, to: path, mode: 0o644)
    }

    /// `path` with every link resolved, when it exists.
    static func resolved(_ path: String) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard realpath(path, &buffer) != nil else { return path }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether `name` is a temporary name updatectl gives a file before renaming it over `target`:
    /// `TARGET.updatectl-new` (a copy into a slot) or `TARGET.tmp-PID` (an atomic write).
    static func isTemporary(_ name: String, of target: String) -> Bool {
        if name == target + ".updatectl-new" { return true }
        let prefix = target + ".tmp-"
        guard name.hasPrefix(prefix) else { return false }
        let pid = name.dropFirst(prefix.count)
        return !pid.isEmpty && pid.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// The temporary names of `targets` left in `directory` by a run that was killed or lost
    /// power, removed; returns their names.
    @discardableResult
    static func removeTemporaries(in directory: String, of targets: [String]) -> [String] {
        guard let entries = try? DirectoryListing.entries(directory) else { return [] }
        let names = entries.map(\.name).filter { name in targets.contains { isTemporary(name, of: $0) } }.sorted()
        for name in names { unlink(directory + "/" + name) }
        return names
    }

    /// A program on PATH, or in the system directories.
    static func program(_ name: String) -> String? {
        let path = getenv("PATH").map { String(cString: $0) } ?? ""
        for directory in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
            let candidate = directory + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    // MARK: Partitions

    /// The block device whose file system carries `label`: every device is probed (blkid, without
    /// its cache), and two devices with the label are an error, not a guess; without blkid,
    /// /dev/disk/by-label.
    func device(label: String) throws -> String {
        if let blkid = Self.program("blkid") {
            let result = try runner.run(
                [blkid, "-c", "/dev/null", "-t", "LABEL=\(label)", "-o", "device"], timeout: .seconds(30),
                environment: [:])
            let devices = result.stdout.split(separator: "\n").map { $0.trimmingSpaces }.filter { $0.hasPrefix("/") }
            if devices.count > 1 {
                throw BackendError(
                    "\(devices.count) partitions carry the label \(label) (\(devices.joined(separator: ", "))): "
                        + "refusing to guess which is the slot")
            }
            if let device = devices.first { return device }
            // busybox's blkid takes no options: it lists every device as
            // `/dev/sda2: LABEL="KSOLOA" UUID="…" TYPE="ext4"`.
            let listed = try runner.run([blkid], timeout: .seconds(30), environment: [:])
            let labelled = listed.stdout.split(separator: "\n").compactMap { line -> String? in
                guard let colon = line.firstIndex(of: ":"), line[line.index(after: colon)...].contains("LABEL=\"\(label)\"")
                else { return nil }
                let fields = line[line.index(after: colon)...].split(separator: " ")
                guard fields.contains(where: { $0 == "LABEL=\"\(label)\"" }) else { return nil }
                return String(line[..<colon])
            }
            if labelled.count > 1 {
                throw BackendError(
                    "\(labelled.count) partitions carry the label \(label) (\(labelled.joined(separator: ", "))): "
                        + "refusing to guess which is the slot")
            }
            if let device = labelled.first { return device }
        }
        let link = "/dev/disk/by-label/" + label
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        if realpath(link, &buffer) != nil {
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        throw BackendError("no partition carries the label \(label) (blkid found none)")
    }

    /// The device of `slot`, checked: the two slots are two partitions, and neither is the data partition.
    func device(_ slot: Slot) throws -> String {
        let mine = try device(label: label(slot))
        let other = try device(label: label(slot.other))
        guard mine != other else {
            throw BackendError("the labels \(config.labelA.value) and \(config.labelB.value) name the same partition \(mine)")
        }
        if let data = try? device(label: config.dataLabel.value), data == mine {
            throw BackendError(
                "slot \(Self.grubName(slot)) (\(label(slot))) is the data partition \(config.dataLabel.value) (\(data)); "
                    + "refusing to use it as a slot")
        }
        return mine
    }

    /// Where `device` is mounted, from /proc/self/mountinfo (its mount point, and whether read-write).
    static func mountPoint(of device: String) -> (path: String, writable: Bool)? {
        guard let bytes = try? AtomicFile.read("/proc/self/mountinfo", limit: 1 << 20, followingLinks: true) else { return nil }
        var resolved = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let wanted =
            realpath(device, &resolved) != nil
            ? String(decoding: resolved.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : device
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            // id parent major:minor root mountpoint options … - fstype source superoptions
            let fields = line.split(separator: " ").map(String.init)
            guard let dash = fields.firstIndex(of: "-"), dash + 2 < fields.count, fields.count > 5 else { continue }
            if fields[dash + 2] == wanted {
                let point = fields[4].split(separator: "\\040", omittingEmptySubsequences: false).joined(separator: " ")
                return (point, fields[5].split(separator: ",").contains("rw"))
            }
        }
        return nil
    }

    /// Runs `body` with `slot`'s file system mounted: where it already is (it must be writable
    /// when `writable`), else mounted under `mount_dir` for the call and unmounted after.
    func withSlot<T>(_ slot: Slot, writable: Bool, _ body: (String) throws -> T) throws -> T {
        let device = try device(slot)
        let point = config.mountDir.value + "/" + Self.grubName(slot).lowercased()
        if let existing = Self.mountPoint(of: device), existing.path == point, let umount = Self.program("umount") {
            // updatectl's own mount, left by a run that was killed: unmounted first, then mounted
            // as this call needs it (never left behind).
            _ = try? runner.run([umount, point], timeout: .seconds(60), environment: [:])
        }
        if let existing = Self.mountPoint(of: device) {
            guard existing.writable || !writable else {
                throw BackendError("slot \(Self.grubName(slot)) (\(device)) is mounted read-only at \(existing.path)")
            }
            return try body(existing.path)
        }
        try AtomicFile.makeDirectories(point)
        guard let mount = Self.program("mount"), let umount = Self.program("umount") else {
            throw BackendError("mount and umount are not installed")
        }
        // Read-only mounts do not replay an ext4 journal (noload): reading a slot changes nothing.
        let options = writable ? "rw,nodev,nosuid,noexec" : "ro,noload,nodev,nosuid,noexec"
        let mounted = try runner.run([mount, "-o", options, device, point], timeout: .seconds(60), environment: [:])
        guard mounted.succeeded else {
            throw BackendError("cannot mount slot \(Self.grubName(slot)) (\(device)) at \(point): \(mounted.stderr.trimmingSpaces)")
        }
        defer { _ = try? runner.run([umount, point], timeout: .seconds(60), environment: [:]) }
        return try body(point)
    }

    /// The version file of `slot`, when it has one.
    public func version(of slot: Slot) throws -> String? {
        try withSlot(slot, writable: false) { point in
            try AtomicFile.read(point + "/" + config.versionFile.value, limit: 4096).map {
                String(decoding: $0, as: UTF8.self).trimmingSpaces
            }
        }
    }

    // MARK: What the node runs

    /// The boot updatectl last activated a slot in, and the slot that ran then: within that boot
    /// GRUB's `active_slot` already names the next slot.
    var activationRecord: String { dataDir + "/update/kubesolo-activation" }

    /// From the boot mechanism, in this order: the kernel command line's `slot_param` (GRUB
    /// passes it), the record of an activation made in this very boot, the slot whose version is
    /// the running system's (when the two slots differ), and GRUB's `active_slot`.
    public func bootedSlot() throws -> Slot {
        if let bytes = try? AtomicFile.read(root + "/proc/cmdline", limit: 1 << 16, followingLinks: true) {
            for word in String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" }) {
                if word.hasPrefix(config.slotParam.value + "="),
                    let slot = Self.slot(grubName: String(word.dropFirst(config.slotParam.value.count + 1)))
                {
                    return slot
                }
            }
        }
        if let bytes = try AtomicFile.read(activationRecord, limit: 4096) {
            let words = String(decoding: bytes, as: UTF8.self).split(separator: " ").map { $0.trimmingSpaces }
            if words.count == 2, words[0] == (try? bootID()), let slot = Self.slot(grubName: words[1]) { return slot }
        }
        if let running = try? osReleaseVersion(), let a = try? version(of: .a), let b = try? version(of: .b), a != b {
            if running == a { return .a }
            if running == b { return .b }
        }
        guard let active = try readEnvironment()["active_slot"], let slot = Self.slot(grubName: active) else {
            throw BackendError("GRUB's environment \(config.grubenv.value) has no active_slot A or B")
        }
        return slot
    }

    /// VERSION_ID of the running system's /etc/os-release.
    func osReleaseVersion() throws -> String? {
        guard let bytes = try AtomicFile.read(root + "/etc/os-release", limit: 1 << 16, followingLinks: true) else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("VERSION_ID=") {
            var value = line.dropFirst("VERSION_ID=".count)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = value.dropFirst().dropLast() }
            return String(value)
        }
        return nil
    }

    /// The running system's version (its /etc/os-release), else the booted slot's version file.
    public func runningVersion() throws -> String {
        if let version = try osReleaseVersion() { return version }
        let booted = try bootedSlot()
        guard let version = try version(of: booted) else {
            throw BackendError(
                "neither /etc/os-release nor slot \(Self.grubName(booted))'s \(config.versionFile.value) says "
                    + "which version runs")
        }
        return version
    }

    public func committedVersion() throws -> String? {
        let environment = try readEnvironment()
        guard environment["boot_success"] == "1", let active = environment["active_slot"].flatMap(Self.slot(grubName:))
        else { return nil }
        return try version(of: active)
    }

    public func nextSlot() throws -> Slot? { try readEnvironment()["active_slot"].flatMap(Self.slot(grubName:)) }

    public func bootID() throws -> String {
        if let override = TestSwitches.value("BOOT_ID") { return override }
        return try KernelBootID.read()
    }

    // MARK: Changing the node

    /// The release is downloaded to the data partition, then copied into the slot by `stage`.
    public func imageDirectory(for slot: Slot) -> String { dataDir + "/update/incoming-" + Self.grubName(slot).lowercased() }

    public func prepareFiles(for slot: Slot, names: [String]) throws -> [String: String] {
        let directory = imageDirectory(for: slot)
        try AtomicFile.makeDirectories(directory)
        return Dictionary(uniqueKeysWithValues: names.map { ($0, directory + "/" + $0) })
    }

    /// Free bytes on the slot's own file system (mounted read-only to ask), and what staging frees
    /// there first: the files the release replaces, the version file and leftover temporary names.
    public func slotSpace(for slot: Slot, replacing names: [String]) throws -> SlotSpace? {
        try withSlot(slot, writable: false) { point in
            var info = statvfs()
            guard statvfs(point, &info) == 0 else { throw SystemError("cannot statfs", point) }
            let replaced = Set(names + [config.versionFile.value] + slotTemporaries(point))
            let reclaimable = replaced.reduce(UInt64(0)) { total, name in
                var file = stat()
                guard lstat(point + "/" + name, &file) == 0, file.st_mode & S_IFMT == S_IFREG else { return total }
                return total + UInt64(file.st_blocks) * 512
            }
            return SlotSpace(free: UInt64(info.f_bavail) * UInt64(info.f_frsize), reclaimable: reclaimable)
        }
    }

    /// updatectl's temporary names in a slot mounted at `point`, relative to it: copies not yet
    /// renamed (`NAME.updatectl-new`) and a version file's atomic write (`VERSION.tmp-PID`).
    func slotTemporaries(_ point: String) -> [String] {
        var names = ((try? DirectoryListing.entries(point)) ?? []).map(\.name).filter { $0.hasSuffix(".updatectl-new") }
        let versionFile = config.versionFile.value
        let directory = versionFile.contains("/") ? Paths.directory(of: versionFile) + "/" : ""
        for entry in (try? DirectoryListing.entries(point + "/" + directory)) ?? []
        where Self.isTemporary(entry.name, of: Paths.fileName(of: versionFile)) {
            names.append(directory + entry.name)
        }
        return names.sorted()
    }

    /// Removes updatectl's temporary names from `slot` (a run killed while staging leaves one as
    /// large as a release file): looked for read-only, and the slot is mounted writable only when
    /// there is one.
    public func removeLeftovers(slot: Slot) throws -> [String] {
        let found = try withSlot(slot, writable: false) { slotTemporaries($0) }
        guard !found.isEmpty else { return [] }
        return try withSlot(slot, writable: true) { point in
            let names = slotTemporaries(point)
            for name in names where unlink(point + "/" + name) != 0 && errno != ENOENT {
                throw SystemError("cannot remove", point + "/" + name)
            }
            try AtomicFile.syncDirectory(point)
            return names.map { "slot \(Self.grubName(slot)): \($0)" }
        }
    }

    /// Writes the release into the passive slot's file system. The slot does not boot until it is
    /// activated, so its old release goes first, making room: the version file (synced, so the
    /// slot never claims a version it does not hold), leftover temporary names and the files the
    /// release replaces. Then each file under a temporary name, synced, renamed; the version file
    /// last and the directory synced. The downloads are removed afterwards.
    public func stage(files: [String: String], slot: Slot, version: String, fromVersion: String) throws {
        defer { invalidate(slot: slot) }
        try withSlot(slot, writable: true) { point in
            let versionPath = point + "/" + config.versionFile.value
            if unlink(versionPath) == 0 { try AtomicFile.syncDirectory(Paths.directory(of: versionPath)) }
            for name in slotTemporaries(point) + files.keys.sorted() where unlink(point + "/" + name) != 0 && errno != ENOENT {
                throw SystemError("cannot remove", point + "/" + name)
            }
            try AtomicFile.syncDirectory(point)
            for (name, source) in files.sorted(by: { $0.key < $1.key }) {
                try Self.copy(source, to: point + "/" + name)
            }
            try AtomicFile.write(Array((version + "\n").utf8), to: versionPath, mode: 0o644)
            try AtomicFile.syncDirectory(point)
        }
    }

    /// Copies `source` to `target` through `target.updatectl-new`, synced before the rename.
    static func copy(_ source: String, to target: String) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw SystemError("cannot open", source) }
        defer { close(input) }
        let temporary = target + ".updatectl-new"
        let output = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard output >= 0 else { throw SystemError("cannot create", temporary) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = read(input, &buffer, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                close(output)
                throw SystemError("cannot read", source)
            }
            if count == 0 { break }
            do {
                try buffer.withUnsafeBytes { bytes in
                    try AtomicFile.writeAll(output, UnsafeRawBufferPointer(rebasing: bytes[0..<count]), path: temporary)
                }
            } catch {
                close(output)
                throw error
            }
        }
        TestPause.here("kubesolo.copied-unrenamed")
        guard fsync(output) == 0 else {
            close(output)
            throw SystemError("cannot fsync", temporary)
        }
        close(output)
        guard rename(temporary, target) == 0 else { throw SystemError("cannot rename \(temporary) to", target) }
    }

    public func invalidate(slot: Slot, keepingDownloads: Bool) {
        let directory = imageDirectory(for: slot)
        if !keepingDownloads, let entries = try? DirectoryListing.entries(directory) {
            for entry in entries { unlink(directory + "/" + entry.name) }
        }
    }

    /// `active_slot` = the slot, a fresh `boot_counter`, `boot_success=0`; the running slot is
    /// recorded for the rest of this boot first (GRUB's `active_slot` names the next one now).
    public func activate(slot: Slot, version: String, fromVersion: String) throws {
        try AtomicFile.makeDirectories(Paths.directory(of: activationRecord))
        try AtomicFile.write(Array("\(try bootID()) \(Self.grubName(slot.other))\n".utf8), to: activationRecord, mode: 0o644)
        try writeEnvironment([
            ("active_slot", Self.grubName(slot)), ("boot_counter", String(config.bootTries.value)),
            ("boot_success", "0"),
        ])
    }

    /// Back to the previous slot, which was verified: `active_slot` = it, a fresh counter,
    /// `boot_success=1`.
    public func rollback(to slot: Slot, version: String, fromVersion: String) throws {
        let booted = try bootedSlot()
        if booted != slot {
            try AtomicFile.makeDirectories(Paths.directory(of: activationRecord))
            try AtomicFile.write(Array("\(try bootID()) \(Self.grubName(booted))\n".utf8), to: activationRecord, mode: 0o644)
        }
        try writeEnvironment([
            ("active_slot", Self.grubName(slot)), ("boot_counter", String(config.bootTries.value)),
            ("boot_success", "1"),
        ])
    }

    /// The booted slot passed verification: `boot_success=1` and a fresh `boot_counter`, so GRUB
    /// neither falls back from it nor runs out of tries on later boots, whichever way its script
    /// treats a verified slot.
    public func commit(slot: Slot, version: String) throws {
        let environment = try readEnvironment()
        guard environment["active_slot"].flatMap(Self.slot(grubName:)) == slot else {
            throw BackendError(
                "GRUB's active_slot is \(environment["active_slot"] ?? "unset"), not the verified slot "
                    + "\(Self.grubName(slot)): not committing")
        }
        try writeEnvironment(good)
    }

    var good: [(String, String)] { [("boot_success", "1"), ("boot_counter", String(config.bootTries.value))] }

    /// A healthy boot of the slot GRUB boots next, with no update in flight: marked good again
    /// when GRUB's script cleared `boot_success` or spent a try at this boot.
    public func confirmBoot() throws -> String? {
        let environment = try readEnvironment()
        let booted = try bootedSlot()
        guard environment["active_slot"].flatMap(Self.slot(grubName:)) == booted else { return nil }
        guard environment["boot_success"] != "1" || environment["boot_counter"] != String(config.bootTries.value) else { return nil }
        try writeEnvironment(good)
        return "GRUB: slot \(Self.grubName(booted)) marked good (boot_success=1, boot_counter=\(config.bootTries.value))"
    }

    public func reboot() throws {
        let result = try runner.run(config.reboot.value, timeout: .seconds(120), environment: [:])
        guard result.succeeded else {
            throw BackendError(
                "\(config.reboot.value.joined(separator: " ")) failed with \(result.ending): \(result.stderr.trimmingSpaces)")
        }
    }
}

extension KubeSoloBackend: BackendMaking {
    func makeBackend(dataDir: String, runner: any CommandRunner) -> any UpdateBackend {
        KubeSoloBackendRunner(config: self, dataDir: dataDir, runner: runner)
    }
}
