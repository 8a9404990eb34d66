import Foundation
import Testing

/// `status --format prometheus` as its real readers read it: promtool, the Python client's
/// parser, and the node_exporter textfile collector.
@Suite struct PrometheusConsumerTests {
    static let promtool = TestComponents.program("promtool")
    static let nodeExporter = TestComponents.program("prometheus-node-exporter")
    static let python = TestComponents.python(modules: ["prometheus_client"])

    /// A state file whose values carry CRLF, a lone CR, a NUL, quotes, a backslash and a byte that
    /// is not UTF-8 — all of which reach label values.
    static func hostileState(in directory: TemporaryDirectory) throws -> String {
        var bytes = Array(
            """
            {
              "phase": "idle",
              "from_version": "1.0\\r\\n.0
            """.utf8)
        bytes += [0xFF]
        bytes += Array(
            """
            ",
              "to_version": "2.0\\r-lone",
              "started_at": "0001-01-01T00:00:00Z",
              "updated_at": "2026-05-14T19:00:00Z",
              "attempt_count": 1,
              "deferred_gate": "ga\\u0000te \\"q\\" \\\\ bs",
              "deferred_reason": "closed",
              "deferred_at": "2026-05-14T19:00:00Z"
            }

            """.utf8)
        let path = directory.url.appendingPathComponent("state.json").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    /// Writes the metrics of `state` into `directory/metrics/updatectl.prom`.
    func metrics(state: String, directory: TemporaryDirectory) throws -> String {
        try FileManager.default.createDirectory(at: directory.url.appendingPathComponent("metrics"), withIntermediateDirectories: true)
        let file = directory.url.appendingPathComponent("metrics/updatectl.prom").path
        let result = try CLI.run(["status", "--state", state, "--format", "prometheus", "--output", file])
        #expect(result.status == 0, "\(result.stderr)")
        return file
    }

    @Test(.enabled(if: promtool != nil))
    func promtoolAcceptsNormalAndHostileFiles() throws {
        let directory = try TemporaryDirectory()
        try directory.write("normal.json", "{\"phase\": \"activated\", \"to_version\": \"1.1.0\", \"attempt_count\": 1}\n")
        for state in [directory.url.appendingPathComponent("normal.json").path, try Self.hostileState(in: directory)] {
            let file = try metrics(state: state, directory: directory)
            let checked = try CLI.runProgram(
                try #require(Self.promtool), ["check", "metrics"],
                stdin: try Data(contentsOf: URL(fileURLWithPath: file)))
            #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
            #expect(checked.stdout.isEmpty && checked.stderr.isEmpty, "promtool's lint: \(checked.stdout)\(checked.stderr)")
        }
    }

    /// KubeSolo OS's agent's series, beside updatectl's: all nine phases, the attempts counter.
    @Test(.enabled(if: promtool != nil))
    func kubeSoloAgentSeriesAreThereWithTheirMeaning() throws {
        let directory = try TemporaryDirectory()
        try directory.write("state.json", "{\"phase\": \"verifying\", \"to_version\": \"1.1.0\", \"attempt_count\": 2}\n")
        let file = try metrics(state: directory.url.appendingPathComponent("state.json").path, directory: directory)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let phases = text.split(separator: "\n").filter { $0.hasPrefix("kubesolo_update_phase{") }
        #expect(phases.count == 9)
        #expect(phases.filter { $0.hasSuffix(" 1") } == ["kubesolo_update_phase{phase=\"verifying\"} 1"])
        #expect(text.contains("# TYPE kubesolo_update_attempts_total counter\nkubesolo_update_attempts_total 2\n"))
        let checked = try CLI.runProgram(try #require(Self.promtool), ["check", "metrics"], stdin: Data(text.utf8))
        #expect(checked.status == 0 && checked.stdout.isEmpty && checked.stderr.isEmpty, "\(checked.stdout)\(checked.stderr)")
    }

    /// The failure reason the state records is a series per reason, 1 for the recorded one; the
    /// text status says it too; promtool accepts the file.
    @Test(.enabled(if: promtool != nil))
    func theLastFailureReasonIsASeries() throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            "state.json",
            "{\"phase\": \"failed\", \"to_version\": \"1.1.0\", \"attempt_count\": 1, "
                + "\"last_error\": \"verify.files: sha256 mismatch\", \"last_failure_reason\": \"checksum\"}\n")
        let state = directory.url.appendingPathComponent("state.json").path
        let text = try String(contentsOfFile: try metrics(state: state, directory: directory), encoding: .utf8)
        let series = text.split(separator: "\n").filter { $0.hasPrefix("updatectl_last_failure{") }
        #expect(series.count == 11, "\(series)")
        #expect(series.filter { $0.hasSuffix(" 1") } == ["updatectl_last_failure{reason=\"checksum\"} 1"])
        let checked = try CLI.runProgram(try #require(Self.promtool), ["check", "metrics"], stdin: Data(text.utf8))
        #expect(checked.status == 0 && checked.stdout.isEmpty && checked.stderr.isEmpty, "\(checked.stdout)\(checked.stderr)")
        let status = try CLI.run(["status", "--state", state])
        #expect(status.stdout.contains("failure reason   checksum\n"), "\(status.stdout)")
        try directory.write("state.json", "{\"phase\": \"success\", \"to_version\": \"1.1.0\", \"attempt_count\": 1}\n")
        let clean = try String(contentsOfFile: try metrics(state: state, directory: directory), encoding: .utf8)
        #expect(
            !clean.contains("updatectl_last_failure{reason=\"checksum\"} 1")
                && clean.contains("updatectl_last_failure{reason=\"checksum\"} 0"))
    }

    @Test(.enabled(if: python != nil))
    func thePythonClientReadsTheLabelsBack() throws {
        let directory = try TemporaryDirectory()
        let file = try metrics(state: try Self.hostileState(in: directory), directory: directory)
        try directory.write(
            "read.py",
            """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            out = {}
            for family in text_string_to_metric_families(open(sys.argv[1], encoding="utf-8").read()):
                for sample in family.samples:
                    if sample.name in ("updatectl_update_info", "updatectl_deferred"):
                        out[sample.name] = sample.labels
            print(json.dumps(out, sort_keys=True))
            """)
        let result = try CLI.runProgram(try #require(Self.python), [directory.url.appendingPathComponent("read.py").path, file])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: [String: String]])
        #expect(object["updatectl_update_info"]?["from_version"] == "1.0\\u{d}\n.0\u{FFFD}")
        #expect(object["updatectl_update_info"]?["to_version"] == "2.0\\u{d}-lone")
        #expect(object["updatectl_deferred"]?["gate"] == "ga\\u{0}te \"q\" \\ bs")
    }

    /// The collector drops a whole file it cannot parse (`node_textfile_scrape_error 1`).
    @Test(.enabled(if: nodeExporter != nil))
    func nodeExporterServesTheSeries() async throws {
        let directory = try TemporaryDirectory()
        _ = try metrics(state: try Self.hostileState(in: directory), directory: directory)
        let port = try Consumers.freePort()
        let nodeExporter: String = try #require(Self.nodeExporter)
        let exporter = try BackgroundProcess(
            [
                "--web.listen-address=127.0.0.1:\(port)", "--collector.disable-defaults", "--collector.textfile",
                "--collector.textfile.directory=\(directory.url.appendingPathComponent("metrics").path)",
            ], program: nodeExporter)
        defer { exporter.kill() }
        let url = "http://127.0.0.1:\(port)/metrics"
        #expect(await Consumers.waitUntilServing(url), "\(exporter.stderr)")
        let body = try #require(try await onOwnThread { Consumers.get(url) }).body
        #expect(body.contains("node_textfile_scrape_error 0"), "\(body)")
        #expect(body.contains("updatectl_phase{phase=\"idle\"} 1"))
        #expect(body.contains("updatectl_state_missing 0"))
        #expect(body.contains("updatectl_update_info{from_version="))
    }

    /// A series keeps its labels from one run to the next: `gate` is there deferred or not.
    @Test func labelSetsAreStable() throws {
        let directory = try TemporaryDirectory()
        try directory.write("a.json", "{\"phase\": \"idle\"}\n")
        try directory.write(
            "b.json",
            "{\"phase\": \"idle\", \"deferred_gate\": \"maintenance_window\", \"deferred_reason\": \"x\", "
                + "\"deferred_at\": \"2026-05-14T19:00:00Z\"}\n")
        func labels(_ name: String) throws -> [String: Set<String>] {
            let text = try CLI.run(["status", "--state", directory.url.appendingPathComponent(name).path, "--format", "prometheus"]).stdout
            var out: [String: Set<String>] = [:]
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                let metric = String(line.prefix { $0 != "{" && $0 != " " })
                let keys =
                    line.split(separator: "{").dropFirst().first.map { inner in
                        Set(inner.split(separator: ",").map { String($0.prefix { $0 != "=" }) })
                    } ?? []
                out[metric, default: []].formUnion(keys)
            }
            return out
        }
        let idle = try labels("a.json")
        let deferred = try labels("b.json")
        #expect(idle == deferred)
        #expect(idle["updatectl_deferred"] == ["gate"])
    }
}
