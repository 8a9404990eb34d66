#if canImport(Glibc)
import Glibc
#endif
import UpdatePolicy

/// What updatectl remembers beside `state.json`, in `updatectl.json` in the same directory: facts
/// that decide safety and must survive the upstream Go agent rewriting `state.json` (its `Save`
/// drops every key it does not know). Today: the versions that were rolled back, so the next
/// timer run does not install the same bad release again.
public struct Sidecar: Sendable, Equatable {
    public struct RolledBack: Sendable, Equatable {
        public var version: String
        public var at: Timestamp
        public var reason: String

        public init(version: String, at: Timestamp, reason: String) {
            self.version = version
            self.at = at
            self.reason = reason
        }
    }

    /// Newest last; at most `limit` kept.
    public var rolledBack: [RolledBack] = []

    public static let fileName = "updatectl.json"
    static let limit = 32

    public init() {}

    /// The record for `version`, when it was rolled back.
    public func rollback(of version: String) -> RolledBack? { rolledBack.last { $0.version == version } }

    public mutating func recordRollback(_ version: String, at: Timestamp, reason: String) {
        rolledBack.removeAll { $0.version == version }
        rolledBack.append(RolledBack(version: version, at: at, reason: reason))
        if rolledBack.count > Self.limit { rolledBack.removeFirst(rolledBack.count - Self.limit) }
    }

    /// A version that was verified after all (installed with `--force`) is no longer held back.
    public mutating func forget(_ version: String) { rolledBack.removeAll { $0.version == version } }

    var json: JSON {
        .object([
            ("sidecar_version", .int(1)),
            ("rolled_back", .array(rolledBack.map { entry in
                .object([("version", .string(entry.version)), ("at", .string(entry.at.description)),
                         ("reason", .string(entry.reason))])
            })),
        ])
    }

    /// Reads the file's bytes; entries it cannot read are skipped (a damaged sidecar must not
    /// stop updates, and the worst it loses is a hold on a bad version).
    static func decode(_ bytes: [UInt8]) -> Sidecar {
        var sidecar = Sidecar()
        guard let json = try? JSON.parse(bytes), case .array(let entries)? = json["rolled_back"] else { return sidecar }
        for entry in entries {
            guard let version = entry["version"]?.stringValue, let at = entry["at"]?.stringValue.flatMap(Timestamp.parse) else {
                continue
            }
            sidecar.rolledBack.append(RolledBack(version: version, at: at, reason: entry["reason"]?.stringValue ?? ""))
        }
        return sidecar
    }
}

extension StateStore {
    /// The sidecar beside the state file; an empty one when there is none.
    public func readSidecar() throws -> Sidecar {
        let directory: StateDirectory
        do {
            directory = try StateDirectory(self.directory, create: false)
        } catch {
            if case .missingDirectory = error { return Sidecar() }
            throw error
        }
        guard let fd = try directory.openForReading(Sidecar.fileName) else { return Sidecar() }
        defer { close(fd) }
        return Sidecar.decode(try Self.readAll(fd, path: self.directory + "/" + Sidecar.fileName))
    }

    /// Adds `version` to the rolled-back versions.
    public func rememberRollback(of version: String?, reason: String, at: Timestamp, holding lock: StateLock) throws {
        guard let version, !version.isEmpty else { return }
        var sidecar = try readSidecar()
        sidecar.recordRollback(version, at: at, reason: reason)
        try saveSidecar(sidecar, holding: lock)
    }

    /// Writes the sidecar durably; the caller holds the state lock.
    public func saveSidecar(_ sidecar: Sidecar, holding lock: StateLock) throws {
        let directory = try StateDirectory(self.directory, create: true)
        try directory.write(Array((sidecar.json.render() + "\n").utf8), to: Sidecar.fileName, mode: 0o600)
    }
}
