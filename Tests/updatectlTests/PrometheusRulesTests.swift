import Foundation
import Testing

/// The shipped alerting rules and Grafana dashboard (examples/prometheus) over what
/// `updatectl status --format prometheus` writes: promtool checks the rules and runs their unit
/// tests, and every series the rules, their tests and the dashboard name is one the binary writes.
@Suite struct PrometheusRulesTests {
    static let promtool = TestComponents.program("promtool")
    static let directory = Paths.root.appendingPathComponent("examples/prometheus")
    static let rules = directory.appendingPathComponent("updatectl-alerts.yaml")
    static let unitTests = directory.appendingPathComponent("updatectl-alerts.test.yaml")
    static let dashboard = directory.appendingPathComponent("updatectl-dashboard.json")
    /// node_exporter's own series about the textfile it read.
    static let nodeExporterSeries: [String: Set<String>] = ["node_textfile_mtime_seconds": ["file"], "node_textfile_scrape_error": []]

    /// A node in the middle of an update: a deferral, a fleet slot, two rollbacks and accepted
    /// signed metadata, in the state file and its sidecar.
    static func busyNode(in directory: TemporaryDirectory) throws -> String {
        try directory.write(
            "state.json",
            """
            {"phase": "staged", "from_version": "1.2.0", "to_version": "1.3.0", "started_at": "2026-11-26T02:00:00Z",
             "updated_at": "2026-11-26T03:20:00Z", "attempt_count": 1, "health_check_failures": 0,
             "deferred_gate": "preflight.maintenance_window", "deferred_reason": "outside 02:00–05:00 UTC",
             "deferred_at": "2026-11-26T03:20:00Z"}

            """)
        try directory.write(
            "updatectl.json",
            """
            {"sidecar_version": 1,
             "rolled_back": [{"version": "1.1.0", "at": "2026-11-24T08:00:00Z", "reason": "probe"},
                             {"version": "1.2.1", "at": "2026-11-26T03:10:00Z", "reason": "3 consecutive failed verification runs"}],
             "held": [{"gate": "fleet_lock", "at": "2026-11-26T03:05:00Z", "detail": "second"},
                      {"gate": "fleet_lock", "at": "2026-11-26T03:00:00Z", "detail": "took a reboot slot"}],
             "newest_metadata": {"version": "1.3.0", "release_date": "2026-11-25", "at": "2026-11-26T03:00:00.5Z", "sha256": "4be1"}}

            """)
        return directory.url.appendingPathComponent("state.json").path
    }

    /// A state file that is not there, in a directory without a sidecar: a node where no update ran.
    static func nowhere(in directory: TemporaryDirectory) throws -> String {
        try directory.write("none/README", "no update ran here\n")
        return directory.url.appendingPathComponent("none/state.json").path
    }

    static func status(_ state: String) throws -> String {
        let result = try CLI.run(["status", "--state", state, "--format", "prometheus"])
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout
    }

    /// Each metric the binary writes, with its label names and the values each label takes, for
    /// a busy node and for one where no update ran.
    static func emitted() throws -> [String: [String: Set<String>]] {
        let directory = try TemporaryDirectory()
        var series: [String: [String: Set<String>]] = [:]
        for state in [try busyNode(in: directory), try nowhere(in: directory)] {
            for line in try status(state).split(separator: "\n") where !line.hasPrefix("#") {
                let (name, labels) = parse(series: String(line.prefix { $0 != " " }))
                series[name, default: [:]].merge(labels.mapValues { [$0] }) { $0.union($1) }
            }
        }
        return series
    }

    /// `name{a="x",b="y"}` → the name and its labels (values without escapes, as ours are).
    static func parse(series: String) -> (String, [String: String]) {
        let name = String(series.prefix { $0 != "{" })
        guard let open = series.firstIndex(of: "{"), let close = series.lastIndex(of: "}") else { return (name, [:]) }
        var labels: [String: String] = [:]
        for pair in series[series.index(after: open)..<close].split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { labels[parts[0]] = String(parts[1].dropFirst().dropLast()) }
        }
        return (name, labels)
    }

    /// The metric names a PromQL expression reads: what is left of its identifiers once strings,
    /// label matchers, ranges, grouping clauses, function calls and keywords are set aside.
    static func metricNames(in expression: String) -> Set<String> {
        var text = expression
        for pattern in [
            #""(\\.|[^"\\])*""#, #"\{[^}]*\}"#, #"\[[^\]]*\]"#, #"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"#,
        ] {
            text = text.replacingOccurrences(of: pattern, with: " ", options: .regularExpression)
        }
        let keywords: Set<String> = ["and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "inf", "nan"]
        let identifier = try! NSRegularExpression(pattern: #"(?<![A-Za-z0-9_:.])[A-Za-z_:][A-Za-z0-9_:]*(?!\s*\()"#)
        var names: Set<String> = []
        for match in identifier.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            let name = String(text[Range(match.range, in: text)!])
            // A name cut short by the lookahead is a function's: `count (x)` matched as `coun`.
            let rest = text[Range(match.range, in: text)!.upperBound...]
            if keywords.contains(name) || rest.first.map({ $0.isLetter || $0.isNumber || $0 == "_" }) == true { continue }
            names.insert(name)
        }
        return names
    }

    /// What follows `key` on the rules file's lines that start with it (each rule's expression is
    /// on one line).
    static func ruleValues(_ key: String) throws -> [String] {
        try String(contentsOf: rules, encoding: .utf8).split(separator: "\n").compactMap { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return trimmed.hasPrefix(key) ? String(trimmed.dropFirst(key.count)) : nil
        }
    }

    static func ruleExpressions() throws -> [String] { try ruleValues("expr: ") }
    static func alertNames() throws -> [String] { try ruleValues("- alert: ") }

    static func dashboardExpressions() throws -> [String] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: dashboard))
        let panels = try #require((object as? [String: Any])?["panels"] as? [[String: Any]])
        return panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
    }

    /// The times of the state and its sidecar, in Unix seconds; 0 for what a node where no
    /// update ran does not have. promtool's lint finds nothing in either file.
    @Test func theTimesOfTheStateAndItsSidecarAreSeries() throws {
        let directory = try TemporaryDirectory()
        let busy = try Self.status(try Self.busyNode(in: directory))
        for line in [
            "# TYPE updatectl_attempt_started_timestamp_seconds gauge\nupdatectl_attempt_started_timestamp_seconds 1795658400\n",
            "updatectl_last_deferral_timestamp_seconds 1795663200\n",
            "# TYPE updatectl_fleet_slots_held gauge\nupdatectl_fleet_slots_held 2\n",
            "updatectl_fleet_slot_held_since_timestamp_seconds 1795662000\n",
            "updatectl_rolled_back_versions 2\n", "updatectl_last_rollback_timestamp_seconds 1795662600\n",
            "updatectl_metadata_release_date_timestamp_seconds 1795564800\n",
            "updatectl_metadata_accepted_timestamp_seconds 1795662000.5\n",
            // The series that were there before stay as they were.
            "updatectl_phase{phase=\"staged\"} 1\n", "updatectl_deferred{gate=\"preflight.maintenance_window\"} 1\n",
            "updatectl_last_transition_timestamp_seconds 1795663200\n",
        ] {
            #expect(busy.contains(line), "\(line) is not in\n\(busy)")
        }
        let idle = try Self.status(try Self.nowhere(in: directory))
        for name in [
            "attempt_started_timestamp_seconds", "last_deferral_timestamp_seconds", "fleet_slots_held",
            "fleet_slot_held_since_timestamp_seconds", "rolled_back_versions", "last_rollback_timestamp_seconds",
            "metadata_release_date_timestamp_seconds", "metadata_accepted_timestamp_seconds",
        ] {
            #expect(idle.contains("\nupdatectl_\(name) 0\n"), "updatectl_\(name) is not 0 in\n\(idle)")
            #expect(idle.contains("# HELP updatectl_\(name) "), "updatectl_\(name) has no HELP")
        }
        if let promtool = Self.promtool {
            for text in [busy, idle] {
                let checked = try CLI.runProgram(promtool, ["check", "metrics"], stdin: Data(text.utf8))
                #expect(checked.status == 0 && checked.stdout.isEmpty && checked.stderr.isEmpty, "\(checked.stdout)\(checked.stderr)")
            }
        }
    }

    /// The rules load, and their unit tests pass; the unit tests see every alert fire and every
    /// alert stay quiet.
    @Test(.enabled(if: promtool != nil, "promtool is not installed (Debian's prometheus package)"))
    func theRulesPassPromtoolAndTheirUnitTests() throws {
        let promtool = try #require(Self.promtool)
        let checked = try CLI.runProgram(promtool, ["check", "rules", Self.rules.path])
        #expect(checked.status == 0 && checked.stdout.contains("SUCCESS"), "\(checked.stdout)\(checked.stderr)")
        let tested = try CLI.runProgram(promtool, ["test", "rules", Self.unitTests.path], directory: Self.directory)
        #expect(tested.status == 0 && tested.stdout.contains("SUCCESS"), "\(tested.stdout)\(tested.stderr)")

        let alerts = try Self.alertNames()
        let expressions = try Self.ruleExpressions()
        #expect(alerts.count >= 8 && alerts.count == expressions.count, "\(alerts)")
        let lines = try String(contentsOf: Self.unitTests, encoding: .utf8).split(separator: "\n").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        for alert in alerts {
            let expectations = lines.indices.filter { lines[$0] == "alertname: \(alert)" }.map { lines[$0 + 1] }
            #expect(expectations.contains("exp_alerts: []"), "no test of \(alert) staying quiet")
            #expect(expectations.contains("exp_alerts:"), "no test of \(alert) firing")
        }
    }

    /// Names cannot drift: each metric a rule reads, each series the unit tests feed the rules
    /// (its name, its label names but a scrape's instance and job, its phase) and each metric the
    /// dashboard queries is one `updatectl status --format prometheus` writes, or node_exporter's
    /// own about the textfile.
    @Test func everySeriesTheRulesAndTheDashboardReadIsOneUpdatectlWrites() throws {
        var known = try Self.emitted().mapValues { Set($0.keys) }
        known.merge(Self.nodeExporterSeries) { $1 }
        let emitted = try Self.emitted()

        let ruleNames = try Self.ruleExpressions().map(Self.metricNames(in:))
        #expect(!ruleNames.isEmpty && ruleNames.allSatisfy { !$0.isEmpty })
        for name in ruleNames.flatMap({ $0 }) { #expect(known[name] != nil, "a rule reads \(name), which nothing writes") }

        var fed = 0
        for line in try String(contentsOf: Self.unitTests, encoding: .utf8).split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("- series: '") else { continue }
            let (name, labels) = Self.parse(series: String(trimmed.dropFirst(11).dropLast()))
            fed += 1
            #expect(
                known[name] == Set(labels.keys).subtracting(["instance", "job"]),
                "the unit tests feed \(name) with labels \(labels.keys.sorted()); updatectl writes \(known[name].map { $0.sorted() } ?? [])"
            )
            if let phase = labels["phase"] { #expect(emitted[name]?["phase"]?.contains(phase) == true, "no phase \(phase)") }
        }
        #expect(fed >= 20)

        let expressions = try Self.dashboardExpressions()
        #expect(expressions.count >= 10)
        for expression in expressions {
            let names = Self.metricNames(in: expression)
            #expect(!names.isEmpty, "\(expression) reads no metric")
            for name in names { #expect(known[name] != nil, "the dashboard queries \(name), which nothing writes") }
        }
        // Each series of updatectl's own is shown or alerted on (but the one that says the state
        // file is not there: a node where no update ran yet).
        for name in known.keys where name.hasPrefix("updatectl_") && name != "updatectl_state_missing" {
            #expect(
                expressions.contains { Self.metricNames(in: $0).contains(name) } || ruleNames.contains { $0.contains(name) },
                "\(name) is in neither the rules nor the dashboard")
        }
    }

    /// docs/state.md's table has a row for every series the binary writes, and docs/fleet.md names
    /// every alert.
    @Test func theDocsNameEverySeriesAndEveryAlert() throws {
        let state = try String(contentsOf: Paths.root.appendingPathComponent("docs/state.md"), encoding: .utf8)
        for name in try Self.emitted().keys { #expect(state.contains("| `\(name)` |"), "docs/state.md has no row for \(name)") }
        let fleet = try String(contentsOf: Paths.root.appendingPathComponent("docs/fleet.md"), encoding: .utf8)
        for alert in try Self.alertNames() { #expect(fleet.contains("| `\(alert)` |"), "docs/fleet.md does not name \(alert)") }
    }

    /// The dashboard is JSON Grafana imports (a title, a uid, a Prometheus data source variable,
    /// panels with targets), and every query in it is PromQL that promtool parses.
    @Test(.enabled(if: promtool != nil, "promtool is not installed (Debian's prometheus package)"))
    func theDashboardsQueriesParse() throws {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: Self.dashboard)) as? [String: Any])
        #expect(object["uid"] as? String == "updatectl-fleet" && object["title"] != nil)
        let variables = (object["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
        #expect(variables.contains { $0["type"] as? String == "datasource" && $0["query"] as? String == "prometheus" })
        // Each query as a recording rule: `promtool check rules` parses its PromQL.
        var text = "groups:\n  - name: dashboard\n    rules:\n"
        for (index, expression) in try Self.dashboardExpressions().enumerated() {
            let quoted = String(
                data: try JSONSerialization.data(withJSONObject: [expression], options: .withoutEscapingSlashes), encoding: .utf8)!
                .dropFirst().dropLast()
            text += "      - record: dashboard:query\(index)\n        expr: \(quoted)\n"
        }
        let directory = try TemporaryDirectory()
        try directory.write("dashboard-rules.yaml", text)
        let checked = try CLI.runProgram(
            try #require(Self.promtool), ["check", "rules", directory.url.appendingPathComponent("dashboard-rules.yaml").path])
        #expect(checked.status == 0 && checked.stdout.contains("SUCCESS"), "\(checked.stdout)\(checked.stderr)\n\(text)")
    }
}

/// What writes the metrics on a node: the shipped timer and service (systemd-analyze finds
/// nothing), and the service's command, run as written, writes a file the collector reads.
@Suite struct MetricsUnitTests {
    static let systemdAnalyze = TestComponents.program("systemd-analyze")
    static let units = Paths.root.appendingPathComponent("examples/systemd")

    @Test(.enabled(if: systemdAnalyze != nil, "systemd-analyze is not installed"))
    func theMetricsTimerAndServiceVerify() throws {
        let directory = try TemporaryDirectory()
        for name in ["updatectl-metrics.service", "updatectl-metrics.timer"] {
            let text = try String(contentsOf: Self.units.appendingPathComponent(name), encoding: .utf8)
            try directory.write(name, text.replacingOccurrences(of: "/usr/local/bin/updatectl", with: CLI.binary.path))
        }
        let verified = try CLI.runProgram(
            try #require(Self.systemdAnalyze),
            ["verify", "--man=no"]
                + ["updatectl-metrics.service", "updatectl-metrics.timer"].map { directory.url.appendingPathComponent($0).path })
        #expect(verified.status == 0 && verified.stdout.isEmpty && verified.stderr.isEmpty, "\(verified.stdout)\(verified.stderr)")
        let timer = try String(contentsOf: Self.units.appendingPathComponent("updatectl-metrics.timer"), encoding: .utf8)
        #expect(
            timer.contains("OnUnitActiveSec=1min\n"),
            "the rules' UpdatectlNodeNotReporting waits an hour; the file is rewritten every minute")
    }

    @Test func theServicesCommandWritesTheMetricsFile() throws {
        let text = try String(contentsOf: Self.units.appendingPathComponent("updatectl-metrics.service"), encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("ExecStart=") })
        var words = line.dropFirst("ExecStart=".count).split(separator: " ").map(String.init)
        #expect(words.first == "/usr/local/bin/updatectl" && words.dropFirst().first == "status")
        #expect(words.last == "/var/lib/prometheus/node-exporter/updatectl.prom")
        let directory = try TemporaryDirectory()
        let state = try PrometheusRulesTests.busyNode(in: directory)
        try directory.write("node-exporter/README", "the collector's directory\n")
        let output = directory.url.appendingPathComponent("node-exporter/updatectl.prom").path
        words[words.count - 1] = output
        let result = try CLI.run(Array(words.dropFirst()) + ["--state", state])
        #expect(result.status == 0 && result.stdout.isEmpty, "\(result.stdout)\(result.stderr)")
        let written = try String(contentsOfFile: output, encoding: .utf8)
        #expect(written.contains("updatectl_phase{phase=\"staged\"} 1\n") && written.contains("updatectl_fleet_slots_held 2\n"))
    }
}

/// The whole way: `updatectl status --format prometheus` on real state files, node_exporter's
/// textfile collector serving them, and a real Prometheus that scrapes two such nodes and
/// evaluates the shipped rules. Prometheus knows only the wall clock, so the state's times are
/// set hours and days before it, far from every threshold.
@Suite struct PrometheusFleetTests {
    static let prometheus = TestComponents.program("prometheus")
    static let nodeExporter = TestComponents.program("prometheus-node-exporter")

    static func rfc3339(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    /// A node's state and sidecar, its metrics written by the binary into `textfile/`, and the
    /// file's time set to `written`.
    static func node(
        _ directory: TemporaryDirectory, state: String, sidecar: String, written: Date
    ) throws -> String {
        try directory.write("state.json", state)
        try directory.write("updatectl.json", sidecar)
        try directory.write("textfile/README", "node_exporter's textfile directory\n")
        let output = directory.url.appendingPathComponent("textfile/updatectl.prom").path
        let result = try CLI.run([
            "status", "--state", directory.url.appendingPathComponent("state.json").path, "--format", "prometheus", "--output", output,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        try FileManager.default.setAttributes([.modificationDate: written], ofItemAtPath: output)
        return directory.url.appendingPathComponent("textfile").path
    }

    @Test(
        .enabled(
            if: prometheus != nil && nodeExporter != nil, "prometheus or prometheus-node-exporter is not installed (Debian's packages)")
    )
    func prometheusRaisesTheAlertsOfAStuckNodeAndNoneOfASteadyOne() async throws {
        let now = Date()
        func ago(_ seconds: Double) -> String { Self.rfc3339(now.addingTimeInterval(-seconds)) }
        let hour = 3600.0
        let day = 86400.0
        // Staged three hours ago and deferred by its window since; a fleet slot held for two hours,
        // a rollback an hour ago, metadata released 40 days ago and last accepted 3 days ago, and
        // the metrics file written 2 hours ago.
        let stuck = try TemporaryDirectory()
        let stuckFiles = try Self.node(
            stuck,
            state: """
                {"phase": "staged", "from_version": "1.2.0", "to_version": "1.3.0", "started_at": "\(ago(4 * hour))",
                 "updated_at": "\(ago(3 * hour))", "attempt_count": 1, "health_check_failures": 0,
                 "deferred_gate": "preflight.maintenance_window", "deferred_reason": "outside the window",
                 "deferred_at": "\(ago(600))"}

                """,
            sidecar: """
                {"sidecar_version": 1, "rolled_back": [{"version": "1.2.1", "at": "\(ago(hour))", "reason": "probe"}],
                 "held": [{"gate": "fleet_lock", "at": "\(ago(2 * hour))", "detail": "took a reboot slot"}],
                 "newest_metadata": {"version": "1.3.0", "release_date": "\(ago(40 * day))", "at": "\(ago(3 * day))", "sha256": "4be1"}}

                """, written: now.addingTimeInterval(-2 * hour))
        // Updated an hour ago, its metadata fresh, its file just written.
        let steady = try TemporaryDirectory()
        let steadyFiles = try Self.node(
            steady,
            state: """
                {"phase": "success", "from_version": "1.2.0", "to_version": "1.3.0", "started_at": "\(ago(2 * hour))",
                 "updated_at": "\(ago(hour))", "attempt_count": 1, "health_check_failures": 0}

                """,
            sidecar: """
                {"sidecar_version": 1,
                 "newest_metadata": {"version": "1.3.0", "release_date": "\(ago(day))", "at": "\(ago(600))", "sha256": "4be1"}}

                """, written: now)

        var exporters: [BackgroundProcess] = []
        defer { for exporter in exporters { exporter.kill() } }
        var instances: [String: String] = [:]
        for (name, files) in [("stuck", stuckFiles), ("steady", steadyFiles)] {
            let port = try Consumers.freePort()
            exporters.append(
                try BackgroundProcess(
                    [
                        "--web.listen-address=127.0.0.1:\(port)", "--collector.disable-defaults", "--collector.textfile",
                        "--collector.textfile.directory=\(files)",
                    ], program: try #require(Self.nodeExporter)))
            #expect(await Consumers.waitUntilServing("http://127.0.0.1:\(port)/metrics"), "\(exporters.last?.stderr ?? "")")
            instances["127.0.0.1:\(port)"] = name
        }

        let server = try TemporaryDirectory()
        try server.write(
            "prometheus.yml",
            """
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files:
              - \(PrometheusRulesTests.rules.path)
            scrape_configs:
              - job_name: node
                static_configs:
                  - targets: [\(instances.keys.sorted().map { "\"\($0)\"" }.joined(separator: ", "))]

            """)
        let port = try Consumers.freePort()
        let prometheus = try BackgroundProcess(
            [
                "--config.file=\(server.url.appendingPathComponent("prometheus.yml").path)",
                "--storage.tsdb.path=\(server.url.appendingPathComponent("data").path)", "--web.listen-address=127.0.0.1:\(port)",
            ], program: try #require(Self.prometheus))
        defer { prometheus.kill() }

        let expected: Set<String> = [
            "stuck UpdatectlUpdateStuck firing", "stuck UpdatectlRolledBack firing", "stuck UpdatectlFleetSlotHeldTooLong firing",
            "stuck UpdatectlReleaseMetadataOld firing", "stuck UpdatectlMetadataNotRefreshed firing",
            "stuck UpdatectlNodeNotReporting firing", "stuck UpdatectlDeferredForDays pending",
        ]
        let url = "http://127.0.0.1:\(port)/api/v1/alerts"
        let names = instances
        /// "node alertname state" for each alert Prometheus has.
        @Sendable func alerts() -> Set<String> {
            guard let body = Consumers.get(url)?.body,
                let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
                let list = (object["data"] as? [String: Any])?["alerts"] as? [[String: Any]]
            else { return [] }
            return Set(
                list.map { alert in
                    let labels = alert["labels"] as? [String: String] ?? [:]
                    let node = names[labels["instance"] ?? ""] ?? labels["instance"] ?? "?"
                    return "\(node) \(labels["alertname"] ?? "?") \(alert["state"] as? String ?? "?")"
                })
        }
        // Both nodes' series are in before the alerts are counted.
        let query = "http://127.0.0.1:\(port)/api/v1/query?query=count(updatectl_phase%3D%3D1)"
        #expect(
            await Consumers.poll(seconds: 120) { Consumers.get(query)?.body.contains("\"2\"]") == true },
            "\(Consumers.get(query)?.body ?? "")\n\(prometheus.stderr)")
        // Once all have come, a few more rounds of evaluation add none.
        #expect(await Consumers.poll(seconds: 120) { alerts() == expected }, "\(alerts().sorted())\n\(prometheus.stderr)")
        let changed = await Consumers.poll(seconds: 3) {
            let now = alerts()
            return !now.isEmpty && now != expected
        }
        #expect(!changed, "\(alerts().sorted())")
    }
}
