import JSONValue
import UpdateAgent
import UpdatePlan
import UpdatePolicy

/// The rows `updatectl fleet status` shows under an etcd fleet lock: one per node that reports
/// (docs/fleet.md, "Node reports"), and one per holder of a slot that does not.
struct FleetNodeRows {
    struct Row {
        var id: String
        /// Nil: a holder of a slot without a report.
        var report: NodeReport?
        var holder: Bool
        var flags: [NodeFlag]
    }

    var rows: [Row] = []
    /// Why the reports could not be read.
    var problem: String?
    let now: Timestamp
    let staleAfter: Duration
    let stuckAfter: Duration

    var flagged: Int { rows.filter { !$0.flags.isEmpty }.count }

    init(
        reading reports: Result<[NodeReport], FleetError>, holders: [String], now: Timestamp, staleAfter: Duration,
        stuckAfter: Duration
    ) {
        self.now = now
        self.staleAfter = staleAfter
        self.stuckAfter = stuckAfter
        switch reports {
        case .success(let reports):
            rows = reports.map { report in
                Row(
                    id: report.id, report: report, holder: holders.contains(report.id),
                    flags: report.flags(now: now, staleAfter: staleAfter, stuckAfter: stuckAfter))
            }
            for holder in holders where !reports.contains(where: { $0.id == holder }) {
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
        guard let report = row.report else { return "stale: holds a reboot slot and has no report (not running, or not updatectl)" }
        var parts: [String] = []
        for flag in row.flags {
            switch flag {
            case .stale: parts.append("stale: no report for \(Self.age(now - report.at)) (over \(Self.age(staleAfter)))")
            case .rolledBack: parts.append("rolled back" + (report.offered.map { " from \($0)" } ?? ""))
            case .stuck:
                parts.append(
                    "stuck: \(report.phase.rawValue) for \(Self.age(now - report.phaseSince)) (over \(Self.age(stuckAfter)))")
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
            guard let report = row.report else { return [id, "-", "-", "-", "never", note(row)] }
            return [
                id, report.version ?? "-", report.phase.rawValue, report.offered ?? "-",
                "\(Self.age(now - report.at)) ago", note(row),
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
        let summary =
            "\(rows.count) node\(rows.count == 1 ? "" : "s")" + (flagged == 0 ? "" : ", \(flagged) flagged") + " (* holds a slot)"
        return "  nodes      \(summary)\n" + ([line(header)] + cells.map(line)).joined(separator: "\n") + "\n"
    }

    var json: [(String, JSON)] {
        let nodes: JSON =
            problem != nil
            ? .null
            : .array(
                rows.map { row in
                    var pairs: [(String, JSON)] = [("id", .string(row.id)), ("holder", .bool(row.holder))]
                    if let report = row.report {
                        pairs += [
                            ("version", JSON.optional(report.version)), ("phase", .string(report.phase.rawValue)),
                            ("offered", JSON.optional(report.offered)), ("phase_since", .string(report.phaseSince.description)),
                            ("reported_at", .string(report.at.description)),
                            ("age_seconds", .int(Int((now - report.at).components.seconds))),
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
                        ]
                    } else {
                        pairs += [
                            "version", "phase", "offered", "phase_since", "reported_at", "age_seconds", "run", "outcome", "deferral",
                            "last_error",
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
