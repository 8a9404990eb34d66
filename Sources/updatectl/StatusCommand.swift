import ArgumentParser
import JSONValue
import UpdateAgent
import UpdatePlan
import UpdatePolicy

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show where the update lifecycle is: phase, versions, attempts, failures, errors, deferral.",
        discussion: """
            --format json prints one object, {"status_version": 1, ...}: the state file read and \
            whether it is there or broken, broken files moved aside, the state object as it is \
            (unknown keys included; null when missing or broken), the fleet slots held and the \
            newest signed metadata accepted (docs/state.md). --format \
            prometheus prints node_exporter textfile metrics, so a stuck update can raise an alert:
              updatectl status --format prometheus --output /var/lib/node_exporter/updatectl.prom

            \(ExitStatus.helpTable(for: [.success, .failure, .usage]))
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, prometheus
    }

    @Argument(help: "The policy, for its data_dir (optional).", completion: .file())
    var policy: String?

    @OptionGroup var stateOptions: StateOptions

    @Option(help: "Output format: text, json or prometheus.")
    var format: Format = .text

    @Flag(help: "The same as --format json (KubeSolo OS's flag).")
    var json = false

    @Option(help: "Write to this file (atomically) instead of standard output.", completion: .file())
    var output: String?

    func run() throws {
        let loaded = try policy.map { try PolicyLoader.load($0) }
        let path = stateOptions.path(policy: loaded)
        let store = StateStore(path: path)
        let clock = Clocks.wall
        let reading: StateStore.Reading
        do {
            reading = try store.read()
        } catch {
            printError("error: \(error)")
            throw ExitStatus.failure.exitCode
        }
        var report = StatusReport(path: path, reading: reading, broken: store.brokenFiles())
        let sidecar = try? store.readSidecar()
        report.held = sidecar?.held ?? []
        report.newestMetadata = sidecar?.newestMetadata
        report.rolledBack = sidecar?.rolledBack ?? []
        let rendered: String
        switch json ? .json : format {
        case .text: rendered = StatusText.render(report, now: clock.now())
        case .json: rendered = report.json.render() + "\n"
        case .prometheus: rendered = StatusMetrics.render(report)
        }
        if let output {
            try OutputFile.write(rendered, to: output)
        } else {
            printText(rendered)
        }
        if case .broken(let problem) = reading {
            printError(
                "error: the state file \(path) cannot be parsed (\(problem)); it was left in place. "
                    + "The next apply, healthcheck or rollback moves it aside and stops until `updatectl state reset --yes`")
            throw ExitStatus.failure.exitCode
        }
    }
}

/// What `status` found: the state (or that there is none, or that it is broken) and the
/// evidence of earlier broken files.
struct StatusReport {
    var path: String
    var reading: StateStore.Reading
    var broken: [String]
    /// Fleet reboot slots this node took and has not given back (the sidecar's record).
    var held: [Sidecar.Held] = []
    /// The newest signed metadata accepted (the sidecar's record).
    var newestMetadata: Sidecar.NewestMetadata?
    /// The versions rolled back and held back, newest last (the sidecar's record).
    var rolledBack: [Sidecar.RolledBack] = []

    /// The state the lifecycle is in; a missing file is an idle node.
    var state: UpdateState? {
        switch reading {
        case .state(let state): state
        case .missing: UpdateState()
        case .broken: nil
        }
    }

    var isMissing: Bool { if case .missing = reading { true } else { false } }
    var brokenNow: String? { if case .broken(let problem) = reading { problem } else { nil } }

    /// `status --format json`: `status_version` 1 (docs/state.md).
    var json: JSON {
        var fields: [(String, JSON)] = [
            ("status_version", .int(1)), ("state_file", .string(path)), ("state_file_present", .bool(!isMissing)),
        ]
        fields.append(("state_broken", brokenNow.map { .object([("problem", .string($0))]) } ?? .null))
        fields.append(("broken_files", .array(broken.map { .string($0) })))
        if case .state(let state) = reading {
            fields.append(("state", state.json))
        } else {
            fields.append(("state", .null))
        }
        fields.append(
            (
                "fleet_slots",
                .array(
                    held.map {
                        .object([
                            ("gate", .string($0.gate)), ("at", .string($0.at.description)),
                            ("detail", .string($0.detail)),
                        ])
                    })
            ))
        fields.append(
            (
                "newest_metadata",
                newestMetadata.map { newest in
                    .object([
                        ("version", .string(newest.version)), ("release_date", newest.releaseDate.map(JSON.string) ?? .null),
                        ("accepted_at", .string(newest.at.description)), ("sha256", .string(newest.sha256)),
                    ])
                } ?? .null
            ))
        return .object(fields)
    }
}

enum StatusText {
    static func render(_ report: StatusReport, now: Timestamp) -> String {
        var out = ""
        if report.isMissing {
            out +=
                "state file       \(report.path) does not exist: no update has run on this node yet, or --state "
                + "(or the policy's data_dir) names another file\n"
        } else if let problem = report.brokenNow {
            out += "state file       \(report.path) cannot be parsed: \(VisibleText.escape(problem))\n"
        } else if let state = report.state {
            out += render(state, path: report.path, now: now)
        }
        for held in report.held {
            out +=
                "fleet slot".padding(16) + " "
                + VisibleText.escape("held since \(held.at.wholeSeconds) (gate \(held.gate)): \(held.detail)")
                + "\n"
        }
        if let newest = report.newestMetadata {
            var text = "\(newest.version)"
            if let date = newest.releaseDate {
                let released = ReleaseMetadata.time(ofReleaseDate: date)
                text += ", release_date \(date)" + (released.map { " (\(age($0, now)))" } ?? "")
            }
            text += ", accepted \(newest.at.wholeSeconds) (\(age(newest.at, now)))"
            out += "signed metadata".padding(16) + " " + VisibleText.escape(text) + "\n"
        }
        for file in report.broken {
            out +=
                "warning: a broken state file was moved aside to \(file); no update starts until "
                + "`updatectl state reset --yes`\n"
        }
        return out
    }

    static func render(_ state: UpdateState, path: String, now: Timestamp) -> String {
        var rows: [(String, String)] = [("phase", "\(state.phase.rawValue): \(meaning(state))")]
        if let from = state.fromVersion { rows.append(("from version", from)) }
        if let to = state.toVersion { rows.append(("to version", to)) }
        rows.append(("attempts", "\(state.attemptCount)" + (state.toVersion.map { " at \($0)" } ?? "")))
        rows.append(("health failures", "\(state.healthCheckFailures) in a row"))
        if let error = state.lastError { rows.append(("last error", error)) }
        if let reason = state.lastFailureReason { rows.append(("failure reason", reason)) }
        if let deferral = state.deferral {
            rows.append(("deferred", "by \(deferral.gate) \(age(deferral.at, now)): \(deferral.reason)"))
        }
        if let started = state.startedAt { rows.append(("started", "\(started) (\(age(started, now)))")) }
        if let updated = state.updatedAt, !updated.isGoZero { rows.append(("updated", "\(updated) (\(age(updated, now)))")) }
        if let slot = state.bootedSlot { rows.append(("from slot", slot + " (booted when the update began)")) }
        if let slot = state.targetSlot { rows.append(("target slot", slot)) }
        rows.append(("state file", path))
        var out = ""
        for (label, value) in rows { out += label.padding(16) + " " + VisibleText.escape(value) + "\n" }
        if !state.lastRun.isEmpty {
            out += "last run:\n"
            for record in state.lastRun {
                out +=
                    "  " + VisibleText.escape(record.step).padding(32) + " " + VisibleText.escape(record.decision).padding(5)
                    + " " + VisibleText.escape(record.detail) + "\n"
            }
        }
        return out
    }

    static func meaning(_ state: UpdateState) -> String {
        switch state.phase {
        case .idle: state.deferral == nil ? "no update in progress" : "no update in progress; the last run was deferred"
        case .checking: "checking for an update (or a check was interrupted)"
        case .downloading: "downloading (or a download was interrupted)"
        case .staged: "the new image is staged on the passive slot"
        case .activated: "the new slot is activated and waits for its post-boot healthcheck"
        case .verifying: "verifying the new version (or verification was interrupted)"
        case .success: "the last update was verified and committed"
        case .rolledBack: "the last update was rolled back"
        case .failed: "the last attempt failed before activation; the node runs the old version"
        }
    }

    static func age(_ then: Timestamp, _ now: Timestamp) -> String {
        let seconds = max(0, now.seconds - then.seconds)
        let text = DurationText.format(.seconds(seconds >= 3600 ? seconds / 60 * 60 : seconds))
        return "\(text) ago"
    }
}

/// node_exporter textfile collector format.
enum StatusMetrics {
    static func render(_ report: StatusReport) -> String {
        let state = report.state ?? UpdateState()
        var out = ""
        func metric(
            _ name: String, _ help: String, _ samples: [(labels: [(String, String)], value: String)],
            prefix: String = "updatectl_", type: String = "gauge"
        ) {
            out += "# HELP \(prefix)\(name) \(help)\n# TYPE \(prefix)\(name) \(type)\n"
            for sample in samples {
                let labels =
                    sample.labels.isEmpty
                    ? ""
                    : "{"
                        + sample.labels.map { "\($0)=\"\(escape($1))\"" }
                        .joined(separator: ",") + "}"
                out += "\(prefix)\(name)\(labels) \(sample.value)\n"
            }
        }
        metric(
            "phase", "1 for the phase the update lifecycle is in, 0 for the others.",
            Phase.allCases.map { ([("phase", $0.rawValue)], $0 == state.phase && report.brokenNow == nil ? "1" : "0") })
        metric("attempts", "Attempts at the target version (the state's attempt_count).", [([], String(state.attemptCount))])
        metric(
            "health_check_failures", "Consecutive failed verification runs since activation.",
            [([], String(state.healthCheckFailures))])
        let updated = state.updatedAt ?? .goZero
        metric(
            "last_transition_timestamp_seconds", "When the state was last written, in Unix time.",
            [([], updated.isGoZero ? "0" : seconds(updated))])
        metric(
            "deferred", "1 when the last run was deferred, with the gate that deferred it; 0 and an empty gate otherwise.",
            [([("gate", state.deferral?.gate ?? "")], state.deferral == nil ? "0" : "1")])
        metric(
            "last_failure",
            "1 for state.json's last_failure_reason (why the last recorded failure happened), 0 for the others; all 0 "
                + "when it has none. It stays until a success or an idle run clears last_error.",
            RunFailure.Reason.allCases.map { ([("reason", $0.rawValue)], $0.rawValue == state.lastFailureReason ? "1" : "0") })
        metric(
            "state_broken", "1 when the state file cannot be parsed, or a broken one waits for `updatectl state reset`.",
            [([], report.brokenNow != nil || !report.broken.isEmpty ? "1" : "0")])
        metric(
            "state_missing", "1 when there is no state file at the path status read (no update has run yet, or a wrong path).",
            [([], report.isMissing ? "1" : "0")])
        metric(
            "update_info", "The versions of the current or last attempt.",
            [([("from_version", state.fromVersion ?? ""), ("to_version", state.toVersion ?? "")], "1")])
        // KubeSolo OS's agent's names, with its meaning, so its dashboards and alerts keep working.
        metric(
            "phase", "1 for the current update phase, 0 for the other eight (as KubeSolo OS's agent exposes it).",
            Phase.allCases.map { ([("phase", $0.rawValue)], $0 == state.phase && report.brokenNow == nil ? "1" : "0") },
            prefix: "kubesolo_update_")
        metric(
            "attempts_total",
            "Attempts at the current target version (state.json's attempt_count, as KubeSolo OS's agent "
                + "exposes it; it starts again at a new version).", [([], String(state.attemptCount))],
            prefix: "kubesolo_update_", type: "counter")
        // The times the shipped alerting rules and dashboard read (examples/prometheus); each is 0
        // when there is none.
        func time(_ name: String, _ help: String, _ time: Timestamp?) {
            metric(name, help + " 0 when there is none.", [([], time.map(seconds) ?? "0")])
        }
        time(
            "attempt_started_timestamp_seconds", "When the current or last attempt started its download (started_at), in Unix time.",
            state.startedAt.flatMap { $0.isGoZero ? nil : $0 })
        time(
            "last_deferral_timestamp_seconds",
            "When a gate last deferred a run (deferred_at; the gate is updatectl_deferred's label), in Unix time.",
            state.deferral.flatMap { $0.at.isGoZero ? nil : $0.at })
        metric("fleet_slots_held", "Fleet reboot slots this node took and has not given back.", [([], String(report.held.count))])
        time(
            "fleet_slot_held_since_timestamp_seconds", "When the oldest fleet reboot slot this node holds was granted, in Unix time.",
            report.held.map(\.at).min())
        metric(
            "rolled_back_versions", "Versions rolled back and held back from being offered again (at most 32).",
            [([], String(report.rolledBack.count))])
        time("last_rollback_timestamp_seconds", "When the newest rollback recorded happened, in Unix time.", report.rolledBack.last?.at)
        time(
            "metadata_release_date_timestamp_seconds",
            "The signed release_date of the newest release metadata accepted, in Unix time.",
            report.newestMetadata?.releaseDate.flatMap(ReleaseMetadata.time(ofReleaseDate:)))
        time(
            "metadata_accepted_timestamp_seconds", "When apply last accepted the newest signed release metadata, in Unix time.",
            report.newestMetadata?.at)
        return out
    }

    static func seconds(_ time: Timestamp) -> String {
        guard time.nanoseconds > 0 else { return String(time.seconds) }
        var fraction = String(time.nanoseconds)
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(time.seconds).\(fraction)"
    }

    /// A label value: the text format escapes backslash, double quote and newline, and knows no
    /// other escape; any other control character (a CR, a NUL, a C1 control) would break the
    /// line or the parser, so it is written as the visible text `\u{d}`. Done by Unicode scalars:
    /// `\r\n` is one Character, and a Character-wise escape wrote the CR raw.
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) {
                    out += "\\\\u{" + String(scalar.value, radix: 16) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
