import ArgumentParser
import JSONValue
import UpdateAgent
import UpdatePlan
import UpdatePolicy

/// `updatectl fleet`: the policy's fleet locks (docs/fleet.md).
struct FleetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "The fleet lock: the group's reboot slots and their holders; giving back a stuck one.",
        subcommands: [FleetStatusCommand.self, FleetUnlockCommand.self]
    )
}

struct FleetStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each fleet-lock gate's group, slots and holders, this node's identity, and (etcd) one row per node.",
        discussion: """
            etcd: the semaphore as stored (Airlock's layout), and one row per node that reports \
            its status (/updatectl/v1/nodes/GROUP/ID): version, phase, offered version, age of \
            its last report, deferral or last error. A row is flagged stale (a holder of a slot \
            without a report, or a report older than --stale-after), rolled_back (still behind a \
            version it rolled back), stuck (an update in flight for longer than --stuck-after), \
            unreadable (a value that is no report), clock_ahead (a report dated in the future) or \
            id_mismatch (a report naming another id than its key). A FleetLock server has no request \
            that lists holders; for it, what this node recorded when it took a slot is shown. \
            Exit 1 when an engine or the reports cannot be read, or a node is flagged.

            \(ExitStatus.helpTable(for: [.success, .failure, .usage]))
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @OptionGroup var node: NodeArguments

    @Option(help: "Output format: text or json.")
    var format: Format = .text

    @Flag(help: "The same as --format json.")
    var json = false

    @Option(
        help: ArgumentHelp(
            "Flag a node whose last report is older than this (default: two run intervals, agent.check_every plus agent.jitter).",
            valueName: "duration"),
        transform: FleetStatusCommand.duration)
    var staleAfter: Duration?

    @Option(
        help: ArgumentHelp(
            "Flag a node whose update stays in one phase (checking to verifying) for longer than this (default: 6h).",
            valueName: "duration"),
        transform: FleetStatusCommand.duration)
    var stuckAfter: Duration?

    static func duration(_ text: String) throws -> Duration {
        guard let value = DurationText.parse(text) else { throw ValidationError("`\(text)` is not a duration (30s, 15m, 2h)") }
        return value
    }

    func run() throws {
        let (policy, _, statePath) = try node.prepare()
        let environment = AgentEnvironment.live(policy: policy, statePath: statePath, reporter: ConsoleReporter())
        let reports = HeldGates.reports(policy, environment.checks)
        guard !reports.isEmpty else {
            printError("error: \(policy.file) has no fleet-lock gate")
            throw ExitStatus.failure.exitCode
        }
        let held = (try? environment.store.readSidecar().held) ?? []
        let now = environment.checks.clock.now()
        let staleAfter = self.staleAfter ?? policy.agent.runInterval * 2
        let nodes = reports.map { report -> FleetNodeRows? in
            let read: Result<[NodeReportEntry], FleetError>?
            do throws(FleetError) {
                read = try NodeReports.read(gate: report.gate, policy, environment.checks).map { .success($0) }
            } catch {
                read = .failure(error)
            }
            return read.map {
                FleetNodeRows(
                    reading: $0, holders: report.snapshot?.holders ?? [], now: now, staleAfter: staleAfter,
                    stuckAfter: stuckAfter ?? .seconds(6 * 3600))
            }
        }
        if json || format == .json {
            print(JSON.array(zip(reports, nodes).map { Self.json($0, held: held, nodes: $1) }).render())
        } else {
            printText(zip(reports, nodes).map { Self.text($0, held: held) + ($1?.text ?? "") }.joined(separator: "\n"))
        }
        if reports.contains(where: { $0.problem != nil }) || nodes.contains(where: { $0?.problem != nil || ($0?.flagged ?? 0) > 0 }) {
            throw ExitStatus.failure.exitCode
        }
    }

    static func text(_ report: HeldReport, held: [Sidecar.Held]) -> String {
        var rows: [(String, String)] = [("engine", "\(report.engine) \(report.address)"), ("group", report.group)]
        let id: String?
        switch report.id {
        case .success(let value):
            id = value
            rows.append(("this node", value))
        case .failure(let error):
            id = nil
            rows.append(("this node", "unknown: \(error)"))
        }
        if let snapshot = report.snapshot {
            if snapshot.exists {
                rows.append(("slots", "\(snapshot.holders.count) of \(snapshot.totalSlots) held"))
                rows.append(
                    (
                        "holders",
                        snapshot.holders.isEmpty
                            ? "none"
                            : snapshot.holders.map { $0 == id ? "\($0) (this node)" : $0 }.joined(separator: ", ")
                    ))
            } else {
                rows.append(("slots", "the semaphore does not exist yet; the first node to ask creates it with \(snapshot.totalSlots)"))
            }
        } else if let problem = report.problem {
            rows.append(("error", problem))
        } else {
            rows.append(("holders", "a FleetLock server does not list them; ask the server (Airlock keeps them in etcd)"))
        }
        if let record = held.first(where: { $0.gate == report.gate }) {
            rows.append(("recorded", "this node took a slot at \(record.at.wholeSeconds): \(record.detail)"))
        } else {
            rows.append(("recorded", "this node holds no slot, as far as updatectl recorded"))
        }
        return "fleet-lock gate `\(report.gate)`\n"
            + rows.map { "  " + $0.0.padding(10) + " " + VisibleText.escape($0.1) }
            .joined(separator: "\n") + "\n"
    }

    static func json(_ report: HeldReport, held: [Sidecar.Held], nodes: FleetNodeRows?) -> JSON {
        var pairs: [(String, JSON)] = [
            ("gate", .string(report.gate)), ("engine", .string(report.engine)), ("address", .string(report.address)),
            ("group", .string(report.group)),
        ]
        switch report.id {
        case .success(let value): pairs.append(("id", .string(value)))
        case .failure(let error): pairs += [("id", .null), ("id_error", .string(error.description))]
        }
        if let snapshot = report.snapshot {
            pairs.append(
                (
                    "semaphore",
                    .object([
                        ("exists", .bool(snapshot.exists)), ("total_slots", .int(snapshot.totalSlots)),
                        ("holders", .array(snapshot.holders.map { .string($0) })),
                    ])
                ))
        } else {
            pairs.append(("semaphore", .null))
        }
        pairs.append(("error", JSON.optional(report.problem)))
        let record = held.first { $0.gate == report.gate }
        pairs.append(("recorded", record.map { .object([("at", .string($0.at.description)), ("detail", .string($0.detail))]) } ?? .null))
        pairs += nodes?.json ?? FleetNodeRows.noReports
        return .object(pairs)
    }
}

struct FleetUnlockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlock",
        abstract: "Give back the reboot slot a node holds (a node that died holding one, say).",
        discussion: """
            etcd: ID is removed from the semaphore by compare-and-swap (nothing changes if it holds \
            no slot). FleetLock: `POST /v1/steady-state` on ID's behalf. Giving back the slot of a \
            node that is still rebooting into an update lets another node reboot at the same time: \
            for this node, mid-update (or rolled back and not yet rebooted out of the update), it \
            needs --force.

            \(ExitStatus.helpTable(for: [.success, .failure, .usage]))
            """
    )

    @Argument(help: "The holder's id, as `updatectl fleet status` shows it.")
    var id: String

    @Option(help: "Only this fleet-lock gate (by name), when the policy has more than one.")
    var gate: String?

    @Flag(help: "Give back this node's own slot even while its update is in flight.")
    var force = false

    @OptionGroup var node: NodeArguments

    func run() throws {
        let (policy, _, statePath) = try node.prepare()
        let environment = AgentEnvironment.live(policy: policy, statePath: statePath, reporter: ConsoleReporter())
        if let gate, !HeldGates.names(policy).contains(gate) {
            printError(
                "error: \(policy.file) has no fleet-lock gate named `\(gate)` (it has: "
                    + HeldGates.names(policy).joined(separator: ", ") + ")")
            throw ExitStatus.usage.exitCode
        }
        let mine = HeldGates.reports(policy, environment.checks).contains { (try? $0.id.get()) == id }
        if mine, !force, case .state(let state)? = try? environment.store.read() {
            let version = state.toVersion ?? "a new version"
            if [.staged, .activated, .verifying].contains(state.phase) {
                printError(
                    "error: \(id) is this node, and its update to \(version) is \(state.phase.rawValue): "
                        + "it holds the slot until it is verified; --force gives it back anyway")
                throw ExitStatus.failure.exitCode
            }
            if state.phase == .rolledBack, !HeldGates.isSteady(state, environment) {
                printError(
                    "error: \(id) is this node, and it rolled back \(version) but still runs it: it holds the slot until it "
                        + "has rebooted into the previous slot; --force gives it back anyway")
                throw ExitStatus.failure.exitCode
            }
        }
        let results = HeldGates.release(holder: id, gate: gate, policy, environment.checks)
        guard !results.isEmpty else {
            printError("error: \(policy.file) has no fleet-lock gate")
            throw ExitStatus.failure.exitCode
        }
        var failed = false
        for (name, answer) in results {
            switch answer {
            case .done(let detail):
                printLine("\(name): \(detail)")
            case .refused(let reason), .unreachable(let reason):
                failed = true
                printError("error: \(name): \(reason)")
            }
        }
        if mine, !failed, let lock = try? StateLock.acquire(statePath: statePath) {
            defer { lock.release() }
            try? environment.store.updateSidecar(holding: lock) { sidecar in
                sidecar.held.removeAll { held in results.contains { $0.gate == held.gate } }
            }
        }
        if failed { throw ExitStatus.failure.exitCode }
    }
}
