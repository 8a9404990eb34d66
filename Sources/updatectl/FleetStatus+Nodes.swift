import JSONValue
import UpdateAgent
import UpdatePlan
import UpdatePolicy

/// The rows `updatectl fleet status` shows under an etcd fleet lock: one per node that reports
/// (docs/fleet.md, "Node reports"), one per key whose value is no report it reads, and one per
/// holder of a slot that does not report.
struct FleetNodeRows {
    struct Row {
        /// The id the key names.
        var id: String
        /// Nil: a holder of a slot without a report, or an unreadable value.
        var report: NodeReport?
        var holder: Bool
        var flags: [NodeFlag]
        var key: String? = nil
        /// Why the key's value is no report.
        var unreadable: String? = nil
        /// The id the report names, when it is not the key's.
        var reportedID: String? = nil
    }

    var rows: [Row] = []
    /// Why the reports could not be read.
    var problem: String?
    let now: Timestamp
    let staleAfter: Duration
    let stuckAfter: Duration

    var flagged: Int { rows.filter { !$0.flags.isEmpty }.count }

    init(
        reading entries: Result<[NodeReportEntry], FleetError>, holders: [String], now: Timestamp, staleAfter: Duration,
        stuckAfter: Duration
    ) {
        self.now = now
        self.staleAfter = staleAfter
        self.stuckAfter = stuckAfter
        switch entries {
        case .success(let entries):
            rows = entries.map { entry in
                switch entry.report {
                case .success(let report):
                    return Row(
                        id: entry.id, report: report, holder: holders.contains(entry.id),
                        flags: report.flags(now: now, staleAfter: staleAfter, stuckAfter: stuckAfter)
                            + (entry.reportedID == nil ? [] : [.idMismatch]),
                        key: entry.key, reportedID: entry.reportedID)
                case .failure(let error):
                    return Row(
                        id: entry.id, report: nil, holder: holders.contains(entry.id), flags: [.unreadable], key: entry.key,
                        unreadable: error.description)
                }
            }
            for holder in holders where !entries.contains(where: { $0.id == holder }) {
                rows.append(Row(id: holder, report: nil, holder: true, flags: [.stale]))
            }
        case .failure(let error):
            problem = error.description
        }
    }

    /// An age in whole seconds, and past an hour in whole minutes: the nodes' runs take seconds.
    static func age(_ duration: Duration) -> String {
        let seconds = max(0, duration.components.seconds)
        return DurationText.format(.seconds(seconds >= 3600 ? (seconds + 30) / 60 * 60 : seconds))
    }

    /// What the row's last column says: why it is flagged, then the deferral or the last error.
    func note(_ row: Row) -> String {
        if let unreadable = row.unreadable { return "unreadable: \(unreadable) (key \(row.key ?? ""))" }
        guard let report = row.report else { return "stale: holds a reboot slot and has no report (not running, or not updatectl)" }
        var parts: [String] = []
        for flag in row.flags {
            switch flag {
            case .stale: parts.append("stale: no report for \(Self.age(now - report.at)) (over \(Self.age(staleAfter)))")
            case .rolledBack:
                if report.phase == .rolledBack {
                    parts.append("rolled back" + ((report.offered ?? report.lastRollback?.version).map { " from \($0)" } ?? ""))
                } else if let rollback = report.lastRollback {
                    parts.append("rolled back from \(rollback.version) at \(rollback.at), still behind it")
                }
            case .stuck:
                parts.append(
                    "stuck: \(report.phase.rawValue) for \(Self.age(now - report.phaseSince)) (over \(Self.age(stuckAfter)))")
            case .clockAhead:
                parts.append("clock ahead by \(Self.age(report.at - now)): the report is dated \(report.at), after this machine's clock")
            case .idMismatch: parts.append("the report names itself `\(row.reportedID ?? "")`, not the key's id")
            case .unreadable: break
            }
        }
        if let deferral = report.deferral {
            parts.append("deferred by \(deferral.gate): \(deferral.reason)")
        } else if let error = report.lastError {
            parts.append("last error: \(error)")
        }
        return parts.joined(separator: "; ")
    }

    /// The table, indented under the gate's rows.
    var text: String {
        if let problem { return "  nodes      cannot be read: \(VisibleText.escape(problem))\n" }
        guard !rows.isEmpty else { return "  nodes      none has reported yet\n" }
        let header = ["ID", "VERSION", "PHASE", "OFFERED", "REPORTED", "NOTE"]
        let cells = rows.map { row -> [String] in
            let id = row.id + (row.holder ? " *" : "")
            guard let report = row.report else {
                return [id, "-", "-", "-", row.unreadable == nil ? "never" : "?", note(row)].map { VisibleText.escape($0) }
            }
            let reported = report.at > now ? "in \(Self.age(report.at - now))" : "\(Self.age(now - report.at)) ago"
            return [
                id, report.version ?? "-", report.phase.rawValue, report.offered ?? "-", reported, note(row),
            ].map { VisibleText.escape($0) }
        }
        let widths = (0..<header.count - 1).map { column in ([header] + cells).map { $0[column].count }.max() ?? 0 }
        func line(_ fields: [String]) -> String {
            var out = "    "
            for (column, field) in fields.enumerated() {
                out += column < widths.count ? field.padding(widths[column]) + "  " : field
            }
            return String(out.reversed().drop { $0 == " " }.reversed())
        }
        let unreadable = rows.filter { $0.unreadable != nil }.count
        let summary =
            "\(rows.count) node\(rows.count == 1 ? "" : "s")" + (flagged == 0 ? "" : ", \(flagged) flagged")
            + (unreadable == 0 ? "" : ", \(unreadable) unreadable report\(unreadable == 1 ? "" : "s")") + " (* holds a slot)"
        return "  nodes      \(summary)\n" + ([line(header)] + cells.map(line)).joined(separator: "\n") + "\n"
    }

    var json: [(String, JSON)] {
        let nodes: JSON =
            problem != nil
            ? .null
            : .array(
                rows.map { row in
                    var pairs: [(String, JSON)] = [
                        ("id", .string(row.id)), ("key", JSON.optional(row.key)), ("holder", .bool(row.holder)),
                    ]
                    if let report = row.report {
                        pairs += [
                            ("version", JSON.optional(report.version)), ("phase", .string(report.phase.rawValue)),
                            ("offered", JSON.optional(report.offered)), ("phase_since", .string(report.phaseSince.description)),
                            ("reported_at", .string(report.at.description)),
                            ("age_seconds", .int(max(0, Int((now - report.at).components.seconds)))),
                            ("run", .string(report.run)), ("outcome", .string(report.outcome)),
                            (
                                "deferral",
                                report.deferral.map {
                                    JSON.object([
                                        ("gate", .string($0.gate)), ("reason", .string($0.reason)), ("at", .string($0.at.description)),
                                    ])
                                } ?? .null
                            ),
                            ("last_error", JSON.optional(report.lastError)),
                            (
                                "last_rollback",
                                report.lastRollback.map {
                                    JSON.object([("version", .string($0.version)), ("at", .string($0.at.description))])
                                } ?? .null
                            ),
                        ]
                    } else {
                        pairs += [
                            "version", "phase", "offered", "phase_since", "reported_at", "age_seconds", "run", "outcome", "deferral",
                            "last_error", "last_rollback",
                        ]
                        .map { ($0, JSON.null) }
                    }
                    pairs += [("flags", .array(row.flags.map { .string($0.rawValue) })), ("note", .string(note(row)))]
                    return .object(pairs)
                })
        return [
            ("nodes", nodes), ("nodes_error", JSON.optional(problem)),
            ("stale_after_seconds", .int(Int(staleAfter.components.seconds))),
            ("stuck_after_seconds", .int(Int(stuckAfter.components.seconds))),
        ]
    }
}

extension FleetNodeRows {
    /// The node keys of a gate whose engine keeps no reports (FleetLock): the same keys, null.
    static let noReports: [(String, JSON)] = ["nodes", "nodes_error", "stale_after_seconds", "stuck_after_seconds"].map { ($0, .null) }
}
