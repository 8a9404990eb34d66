import JSONValue
import UpdatePolicy

#if canImport(Glibc)
import Glibc
#endif

/// What updatectl remembers beside `state.json`, in `updatectl.json` in the same directory: facts
/// that decide safety and must survive the upstream Go agent rewriting `state.json` (its `Save`
/// drops every key it does not know): the versions that were rolled back, so the next timer run
/// does not install the same bad release again; the last activation (which slot, in which boot);
/// how often attempts at a version were interrupted; and the newest signed metadata accepted.
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

    /// The last activation updatectl made: `version` was made to boot next from `slot`, during
    /// the boot `bootID`. A cross-check of the state's slot keys, which the Go agent erases.
    public struct Activation: Sendable, Equatable {
        public var version: String
        public var slot: String
        public var bootID: String
    }

    public var activation: Activation?

    /// Attempts at `version` that were interrupted (killed, power lost); the state's own counter
    /// is erased by the Go agent, so without this one a loop of interruptions would never stop.
    public struct Interruptions: Sendable, Equatable {
        public var version: String
        public var count: Int
    }

    public var interruptions: Interruptions?

    /// A fleet reboot slot this node took (`fleet_lock`), until it gave it back: what `status` and
    /// `fleet status` say. Not what decides a release: a node gives back its slot whenever it is
    /// steady, recorded or not (a crash may fall between the grant and this record).
    public struct Held: Sendable, Equatable {
        public var gate: String
        /// What the engine said when it granted the slot.
        public var detail: String
        public var at: Timestamp

        public init(gate: String, detail: String, at: Timestamp) {
            self.gate = gate
            self.detail = detail
            self.at = at
        }
    }

    public var held: [Held] = []

    /// The newest signed metadata accepted: what later metadata may not be older than (a replay
    /// of an older signed document, a mirror frozen on one), and what `status` shows.
    public struct NewestMetadata: Sendable, Equatable {
        public var version: String
        /// The metadata's signed `release_date`, as written.
        public var releaseDate: String?
        /// When it was accepted.
        public var at: Timestamp
        /// SHA-256 of its exact bytes.
        public var sha256: String

        public init(version: String, releaseDate: String?, at: Timestamp, sha256: String) {
            self.version = version
            self.releaseDate = releaseDate
            self.at = at
            self.sha256 = sha256
        }
    }

    public var newestMetadata: NewestMetadata?

    /// Interruptions of attempts at `version`.
    public func interrupted(_ version: String?) -> Int {
        guard let version, let interruptions, interruptions.version == version else { return 0 }
        return interruptions.count
    }

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
        var pairs: [(String, JSON)] = [
            ("sidecar_version", .int(1)),
            (
                "rolled_back",
                .array(
                    rolledBack.map { entry in
                        .object([
                            ("version", .string(entry.version)), ("at", .string(entry.at.description)),
                            ("reason", .string(entry.reason)),
                        ])
                    })
            ),
        ]
        if let activation {
            pairs.append(
                (
                    "activation",
                    .object([
                        ("version", .string(activation.version)), ("slot", .string(activation.slot)),
                        ("boot_id", .string(activation.bootID)),
                    ])
                ))
        }
        if let interruptions {
            pairs.append(
                (
                    "interruptions",
                    .object([
                        ("version", .string(interruptions.version)),
                        ("count", .int(interruptions.count)),
                    ])
                ))
        }
        if !held.isEmpty {
            pairs.append(
                (
                    "held",
                    .array(
                        held.map { entry in
                            .object([
                                ("gate", .string(entry.gate)), ("detail", .string(entry.detail)), ("at", .string(entry.at.description)),
                            ])
                        })
                ))
        }
        if let newestMetadata {
            var fields: [(String, JSON)] = [("version", .string(newestMetadata.version))]
            if let date = newestMetadata.releaseDate { fields.append(("release_date", .string(date))) }
            fields += [("at", .string(newestMetadata.at.description)), ("sha256", .string(newestMetadata.sha256))]
            pairs.append(("newest_metadata", .object(fields)))
        }
        return .object(pairs)
    }

    /// Reads the file's bytes; entries it cannot read are skipped (a damaged sidecar must not
    /// stop updates, and the worst it loses is a hold on a bad version).
    static func decode(_ bytes: [UInt8]) -> Sidecar {
        var sidecar = Sidecar()
        guard let json = try? JSON.parse(bytes) else { return sidecar }
        if let activation = json["activation"], let version = activation["version"]?.stringValue,
            let slot = activation["slot"]?.stringValue, let boot = activation["boot_id"]?.stringValue
        {
            sidecar.activation = Activation(version: version, slot: slot, bootID: boot)
        }
        if let interruptions = json["interruptions"], let version = interruptions["version"]?.stringValue,
            let count = interruptions["count"]?.intValue
        {
            sidecar.interruptions = Interruptions(version: version, count: count)
        }
        if let newest = json["newest_metadata"], let version = newest["version"]?.stringValue,
            let at = newest["at"]?.stringValue.flatMap(Timestamp.parse)
        {
            sidecar.newestMetadata = NewestMetadata(
                version: version, releaseDate: newest["release_date"]?.stringValue, at: at,
                sha256: newest["sha256"]?.stringValue ?? "")
        }
        if case .array(let entries)? = json["held"] {
            for entry in entries {
                guard let gate = entry["gate"]?.stringValue, let at = entry["at"]?.stringValue.flatMap(Timestamp.parse) else { continue }
                sidecar.held.append(Held(gate: gate, detail: entry["detail"]?.stringValue ?? "", at: at))
            }
        }
        guard case .array(let entries)? = json["rolled_back"] else { return sidecar }
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

    /// Changes the sidecar under the state lock (read, change, write durably).
    public func updateSidecar(holding lock: StateLock, _ change: (inout Sidecar) -> Void) throws {
        var sidecar = try readSidecar()
        let before = sidecar
        change(&sidecar)
        if sidecar != before { try saveSidecar(sidecar, holding: lock) }
    }

    /// Writes the sidecar durably; the caller holds the state lock.
    public func saveSidecar(_ sidecar: Sidecar, holding lock: StateLock) throws {
        let directory = try StateDirectory(self.directory, create: true)
        try directory.write(Array((sidecar.json.render() + "\n").utf8), to: Sidecar.fileName, mode: 0o600)
    }
}
