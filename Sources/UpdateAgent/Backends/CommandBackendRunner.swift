public import UpdatePolicy

#if canImport(Glibc)
import Glibc
#endif

/// The operator's commands drive a real bootloader: argv templates with `${IMAGE}`, `${SLOT}`,
/// `${VERSION}` and `${FROM_VERSION}` substituted by updatectl, never through a shell, each
/// under the backend's timeout.
public struct CommandBackendRunner: UpdateBackend {
    public let config: CommandBackend
    public let dataDir: String
    public let runner: any CommandRunner

    public init(config: CommandBackend, dataDir: String, runner: any CommandRunner) {
        self.config = config
        self.dataDir = dataDir
        self.runner = runner
    }

    @discardableResult
    func run(_ operation: String, _ values: [String: String]) throws -> CommandResult? {
        guard let template = config.commands[operation]?.value else { return nil }
        let argv = template.map { CommandTemplate.substitute($0, values) }
        let result: CommandResult
        do {
            result = try runner.run(argv, timeout: config.timeout.value, environment: [:], stdout: .messages, holdingLocks: true)
        } catch {
            throw BackendError("the backend's `\(operation)` command failed: \(error)")
        }
        guard result.succeeded else {
            let tail = result.stderr.trimmingSpaces
            throw BackendError(
                "the backend's `\(operation)` command (\(argv.joined(separator: " "))) failed with "
                    + result.ending + (tail.isEmpty ? "" : ": \(String(tail.suffix(400)))"))
        }
        return result
    }

    public func bootedSlot() throws -> Slot {
        guard let result = try run("booted_slot", [:]) else { throw BackendError("the command backend has no booted_slot command") }
        let text = result.stdout.trimmingSpaces
        guard let slot = Slot(rawValue: text) else {
            throw BackendError("the backend's `booted_slot` command printed \"\(text)\", not a or b")
        }
        return slot
    }

    public func runningVersion() throws -> String {
        if let result = try run("running_version", [:]) {
            let text = result.stdout.trimmingSpaces
            guard !text.isEmpty else { throw BackendError("the backend's `running_version` command printed nothing") }
            return text
        }
        guard let bytes = try AtomicFile.read(Self.osRelease, followingLinks: true) else {
            throw BackendError("no `running_version` command and no /etc/os-release to read VERSION_ID from")
        }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("VERSION_ID=") {
            var value = line.dropFirst("VERSION_ID=".count)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = value.dropFirst().dropLast() }
            return String(value)
        }
        throw BackendError("/etc/os-release has no VERSION_ID; add a `running_version` command to the backend")
    }

    /// Where `VERSION_ID` is read without a `running_version` command.
    static var osRelease: String { (TestSwitches.value("ROOT") ?? "") + "/etc/os-release" }

    public func imageDirectory(for slot: Slot) -> String {
        (dataDir.hasSuffix("/") ? String(dataDir.dropLast()) : dataDir) + "/update"
    }

    /// `<data_dir>/update/incoming-<slot>/<name>`.
    func incoming(_ slot: Slot) -> String { imageDirectory(for: slot) + "/incoming-\(slot.rawValue)" }

    public func prepareFiles(for slot: Slot, names: [String]) throws -> [String: String] {
        try AtomicFile.makeDirectories(incoming(slot))
        return Dictionary(uniqueKeysWithValues: names.map { ($0, incoming(slot) + "/" + $0) })
    }

    /// Runs the `stage` command with `${IMAGE}` (the one image), `${VMLINUZ}` and `${INITRAMFS}`
    /// (KubeSolo OS's pair; empty for the other form) and `${FILES}` (the folder holding them),
    /// then removes the downloads: the command has copied them into the slot, or failed (and the
    /// next attempt downloads again).
    public func stage(files: [String: String], slot: Slot, version: String, fromVersion: String) throws {
        defer { invalidate(slot: slot) }
        try run(
            "stage",
            [
                "IMAGE": files["image"] ?? "", "VMLINUZ": files[ReleaseMetadata.kernelName] ?? "",
                "INITRAMFS": files[ReleaseMetadata.initramfsName] ?? "", "FILES": incoming(slot), "SLOT": slot.rawValue,
                "VERSION": version, "FROM_VERSION": fromVersion,
            ])
    }

    /// After a failed or interrupted download: the partial files are removed.
    public func invalidate(slot: Slot, keepingDownloads: Bool) {
        if !keepingDownloads, let entries = try? DirectoryListing.entries(incoming(slot)) {
            for entry in entries { unlink(incoming(slot) + "/" + entry.name) }
        }
    }

    public func activate(slot: Slot, version: String, fromVersion: String) throws {
        try run("activate", ["SLOT": slot.rawValue, "VERSION": version, "FROM_VERSION": fromVersion])
    }

    public func reboot() throws {
        guard try run("reboot", [:]) != nil else { throw BackendError("the command backend has no reboot command") }
    }

    public func rollback(to slot: Slot, version: String, fromVersion: String) throws {
        try run("rollback", ["SLOT": slot.rawValue, "VERSION": version, "FROM_VERSION": fromVersion])
    }

    public func bootID() throws -> String { try KernelBootID.read() }

    public func commit(slot: Slot, version: String) throws {
        try run("commit", ["SLOT": slot.rawValue, "VERSION": version])
    }
}

extension CommandBackend: BackendMaking {
    func makeBackend(dataDir: String, runner: any CommandRunner) -> any UpdateBackend {
        CommandBackendRunner(config: self, dataDir: dataDir, runner: runner)
    }
}
