import Foundation
import Testing

/// Nodes of an etcd fleet lock report their status after every run under
/// `/updatectl/v1/nodes/<group>/<id>`, on a lease; `updatectl fleet status` shows a row per node
/// and flags the ones that stopped reporting, rolled back, or are stuck (docs/fleet.md, "Node
/// reports"). Real nodes (the binary, a release server, a real etcd).
@Suite(.serialized) struct FleetNodeReportTests {
    static let available = TestEtcd.available

    static func reportKey(_ id: String) -> String { "/updatectl/v1/nodes/workers/\(id)" }

    /// The report `id` wrote, as etcd holds it; nil when there is none.
    static func report(_ etcd: TestEtcd, _ id: String) async throws -> [String: Any]? {
        guard let text = try await onOwnThread({ try etcd.value(reportKey(id)) }) else { return nil }
        return try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    }

    /// The lease `id`'s report is attached to, in etcdctl's hexadecimal.
    static func lease(_ etcd: TestEtcd, _ id: String) async throws -> String {
        let result = try await onOwnThread { try etcd.etcdctl(["get", reportKey(id), "-w", "json"]) }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
        let kv = try #require((object["kvs"] as? [[String: Any]])?.first, "no report of \(id)")
        let lease = try #require((kv["lease"] as? NSNumber)?.int64Value, "the report of \(id) has no lease")
        return String(UInt64(bitPattern: lease), radix: 16)
    }

    static func etcdctl(_ etcd: TestEtcd, _ arguments: [String]) async throws -> CLI.Result {
        try await onOwnThread { try etcd.etcdctl(arguments) }
    }

    static func status(_ node: TestNode, _ extra: [String] = [], now: String? = nil) async throws -> CLI.Result {
        var environment = node.environment
        if let now { environment["UPDATECTL_TEST_NOW"] = now }
        return try await CLI.runAsync(["fleet", "status", node.policyPath] + extra, environment: environment)
    }

    /// `fleet status --format json`'s node rows of the (one) fleet lock, by id.
    static func nodes(_ result: CLI.Result) throws -> [String: [String: Any]] {
        let gates = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]], "\(result.stdout)")
        let rows = try #require(gates.first?["nodes"] as? [[String: Any]], "\(gates)")
        return Dictionary(uniqueKeysWithValues: rows.map { ($0["id"] as? String ?? "", $0) })
    }

    /// The text row of `id` under the gate's rows.
    static func row(_ result: CLI.Result, _ id: String) -> String? {
        result.stdout.split(separator: "\n").map(String.init).first { $0.hasPrefix("    \(id) ") }
    }

    /// Three nodes apply and verify against one release server and one etcd; each writes its
    /// report, and `fleet status` shows one row per node in text and JSON: version, phase, offered
    /// version, report age, deferral. A node whose last report is a day old, and a holder of a
    /// slot that never reported, are flagged stale, and the command exits 1.
    @Test(.enabled(if: available))
    func fleetStatusShowsARowPerNodeAndFlagsTheSilentOnes() async throws {
        let fleet = try await FleetEtcdTests.fleet(["node-a", "node-b", "node-c"])
        let a = try #require(fleet.nodes["node-a"]), b = try #require(fleet.nodes["node-b"]), c = try #require(fleet.nodes["node-c"])
        #expect(try await a.apply().status == 0)
        let deferred = try await b.apply()
        #expect(deferred.status == 3, "\(deferred.stdout)\(deferred.stderr)")
        // node-c last ran a day earlier (its clock says so): deferred too, and then silent.
        #expect(try await c.apply(environment: ["UPDATECTL_TEST_NOW": "2026-11-25T03:00:00Z"]).status == 3)
        let verified = try await a.healthcheck()
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")

        let reportA = try #require(try await Self.report(fleet.etcd, "node-a"))
        #expect(reportA["phase"] as? String == "success" && reportA["version"] as? String == "1.1.0", "\(reportA)")
        #expect(reportA["run"] as? String == "healthcheck" && reportA["outcome"] as? String == "committed")
        #expect((reportA["at"] as? String)?.hasPrefix("2026-11-26T03:00:") == true, "\(reportA)")
        // The lease: three run intervals of the policy's schedule (agent.check_every 1h plus jitter 10m).
        let lease = try await Self.lease(fleet.etcd, "node-a")
        let live = try await Self.etcdctl(fleet.etcd, ["lease", "timetolive", lease])
        #expect(live.stdout.contains("granted with TTL(12600s)"), "\(live.stdout)\(live.stderr)")
        let reportB = try #require(try await Self.report(fleet.etcd, "node-b"))
        #expect(reportB["phase"] as? String == "staged" && reportB["offered"] as? String == "1.1.0", "\(reportB)")
        #expect((reportB["deferral"] as? [String: Any])?["gate"] as? String == "fleet_lock", "\(reportB)")

        let text = try await Self.status(b)
        #expect(text.status == 1, "node-c is flagged: \(text.stdout)\(text.stderr)")
        #expect(text.stdout.contains("  nodes      3 nodes, 1 flagged"), "\(text.stdout)")
        let rowA = try #require(Self.row(text, "node-a"), "\(text.stdout)")
        #expect(rowA.contains(" 1.1.0 ") && rowA.contains(" success ") && rowA.contains(" 0s ago"), "\(rowA)")
        let rowB = try #require(Self.row(text, "node-b"), "\(text.stdout)")
        #expect(rowB.contains(" 1.0.0 ") && rowB.contains(" staged ") && rowB.contains(" 1.1.0 "), "\(rowB)")
        #expect(rowB.contains("deferred by fleet_lock: no reboot slot"), "\(rowB)")
        let rowC = try #require(Self.row(text, "node-c"), "\(text.stdout)")
        #expect(rowC.contains(" 24h ago ") && rowC.contains("stale: no report for 24h (over 2h20m)"), "\(rowC)")

        for flags in [["--format", "json"], ["--json"]] {
            let json = try await Self.status(b, flags)
            #expect(json.status == 1)
            let nodes = try Self.nodes(json)
            #expect(Set(nodes.keys) == ["node-a", "node-b", "node-c"], "\(nodes)")
            #expect(nodes["node-a"]?["flags"] as? [String] == [] && nodes["node-a"]?["phase"] as? String == "success")
            #expect(nodes["node-b"]?["offered"] as? String == "1.1.0" && nodes["node-b"]?["flags"] as? [String] == [])
            // Silent for a day, and staged all that time: stale and stuck.
            #expect(nodes["node-c"]?["flags"] as? [String] == ["stale", "stuck"], "\(nodes)")
            #expect((86300...86400).contains(nodes["node-c"]?["age_seconds"] as? Int ?? 0), "a day, less the seconds of node-c's run")
        }
        // Longer thresholds: nobody is flagged, and the command exits 0.
        let patient = try await Self.status(b, ["--stale-after", "48h", "--stuck-after", "48h"])
        #expect(patient.status == 0, "\(patient.stdout)\(patient.stderr)")

        // A holder of a slot that never reported (an Airlock/Zincati node, or one that died before
        // it could): its row says so.
        let (etcd, key) = (fleet.etcd, fleet.key)
        try await onOwnThread { try etcd.put(key, #"{"total_slots":2,"holders":["edge-9"]}"#) }
        let held = try await Self.status(b, ["--stale-after", "48h", "--stuck-after", "48h"])
        #expect(held.status == 1)
        let rowEdge = try #require(Self.row(held, "edge-9 *"), "\(held.stdout)")
        #expect(rowEdge.contains(" never ") && rowEdge.contains("stale: holds a reboot slot and has no report"), "\(rowEdge)")
        let heldJSON = try Self.nodes(try await Self.status(b, ["--format", "json", "--stale-after", "48h", "--stuck-after", "48h"]))
        #expect(heldJSON["edge-9"]?["holder"] as? Bool == true && heldJSON["edge-9"]?["flags"] as? [String] == ["stale"])
        await fleet.stop()
    }

    /// A node that waits in `staged` for seven hours (asking again at each run) is flagged stuck:
    /// the phase's start is kept across its reports. A node rolled back is flagged rolled_back.
    @Test(.enabled(if: available))
    func stuckAndRolledBackNodesAreFlagged() async throws {
        let fleet = try await FleetEtcdTests.fleet(["node-a", "node-b"])
        let a = try #require(fleet.nodes["node-a"]), b = try #require(fleet.nodes["node-b"])
        let later = ["UPDATECTL_TEST_NOW": "2026-11-26T10:00:00Z"]
        #expect(try await a.apply().status == 0)
        #expect(try await b.apply().status == 3)
        #expect(try await b.apply(environment: later).status == 3)
        let reportB = try #require(try await Self.report(fleet.etcd, "node-b"))
        // The phase's start is node-b's first deferral, kept across its second report.
        #expect((reportB["phase_since"] as? String)?.hasPrefix("2026-11-26T03:00:") == true, "\(reportB)")
        #expect((reportB["at"] as? String)?.hasPrefix("2026-11-26T10:00:") == true, "\(reportB)")
        let rolledBack = try await a.run("rollback", environment: later)
        #expect(rolledBack.status == 0, "\(rolledBack.stdout)\(rolledBack.stderr)")
        // A rollback by hand reports at once; the next run (here a healthcheck) reports again.
        let reportA = try #require(try await Self.report(fleet.etcd, "node-a"))
        #expect(reportA["phase"] as? String == "rolled_back" && reportA["run"] as? String == "rollback", "\(reportA)")
        let probed = try await a.healthcheck(environment: later)
        #expect(probed.status == 0, "\(probed.stdout)\(probed.stderr)")

        let text = try await Self.status(b, now: "2026-11-26T10:00:00Z")
        #expect(text.status == 1, "\(text.stdout)\(text.stderr)")
        let rowB = try #require(Self.row(text, "node-b"), "\(text.stdout)")
        #expect(rowB.contains("stuck: staged for 7h (over 6h)"), "\(rowB)")
        let rowA = try #require(Self.row(text, "node-a"), "\(text.stdout)")
        #expect(rowA.contains(" rolled_back ") && rowA.contains("rolled back from 1.1.0"), "\(rowA)")
        let nodes = try Self.nodes(try await Self.status(b, ["--format", "json"], now: "2026-11-26T10:00:00Z"))
        #expect(nodes["node-a"]?["flags"] as? [String] == ["rolled_back"], "\(nodes)")
        #expect(nodes["node-b"]?["flags"] as? [String] == ["stuck"], "\(nodes)")
        // A longer threshold: staged for 7h is not stuck then.
        let patient = try Self.nodes(try await Self.status(b, ["--format", "json", "--stuck-after", "8h"], now: "2026-11-26T10:00:00Z"))
        #expect(patient["node-b"]?["flags"] as? [String] == [])
        await fleet.stop()
    }

    /// A node that rolled back stays flagged rolled_back at its next runs (whatever phase they
    /// leave it in), for as long as it runs a version older than the one it rolled back: its
    /// report carries the sidecar's last rollback. Running that version, or a newer one, clears it.
    @Test(.enabled(if: available))
    func theRolledBackFlagLastsWhileTheNodeIsBehind() async throws {
        let fleet = try await FleetEtcdTests.fleet(["node-a", "node-b"])
        let a = try #require(fleet.nodes["node-a"]), b = try #require(fleet.nodes["node-b"])
        let later = ["UPDATECTL_TEST_NOW": "2026-11-26T10:00:00Z"]
        #expect(try await a.apply().status == 0)
        let rolledBack = try await a.run("rollback", environment: later)
        #expect(rolledBack.status == 0, "\(rolledBack.stdout)\(rolledBack.stderr)")
        // The next run: 1.1.0 was rolled back, so it is not installed again; the phase moves on.
        let next = try await a.apply(environment: ["UPDATECTL_TEST_NOW": "2026-11-26T11:00:00Z"])
        #expect([0, 3].contains(next.status), "\(next.stdout)\(next.stderr)")
        let report = try #require(try await Self.report(fleet.etcd, "node-a"))
        #expect(report["phase"] as? String != "rolled_back" && report["version"] as? String == "1.0.0", "\(report)")
        let last = try #require(report["last_rollback"] as? [String: Any], "\(report)")
        #expect(last["version"] as? String == "1.1.0" && (last["at"] as? String)?.hasPrefix("2026-11-26T10:00:") == true, "\(last)")

        let text = try await Self.status(b, now: "2026-11-26T11:00:00Z")
        #expect(text.status == 1, "\(text.stdout)\(text.stderr)")
        let rowA = try #require(Self.row(text, "node-a"), "\(text.stdout)")
        #expect(rowA.contains("rolled back from 1.1.0 at 2026-11-26T10:00:"), "\(rowA)")
        let nodes = try Self.nodes(try await Self.status(b, ["--format", "json"], now: "2026-11-26T11:00:00Z"))
        #expect(nodes["node-a"]?["flags"] as? [String] == ["rolled_back"], "\(nodes)")

        // Running the rolled-back version, or a newer one: no longer behind it.
        for version in ["1.1.0", "1.2.0"] {
            let value =
                #"{"report_version":1,"id":"node-a","group":"workers","version":"\#(version)","phase":"success","offered":null,"#
                + #""phase_since":"2026-11-26T11:00:00Z","at":"2026-11-26T11:00:00Z","run":"healthcheck","outcome":"committed","#
                + #""deferral":null,"last_error":null,"ttl_seconds":12600,"#
                + #""last_rollback":{"version":"1.1.0","at":"2026-11-26T10:00:00Z"}}"#
            let etcd = fleet.etcd
            try await onOwnThread { try etcd.put(Self.reportKey("node-a"), value) }
            let caught = try await Self.status(b, ["--format", "json"], now: "2026-11-26T11:00:00Z")
            #expect(try Self.nodes(caught)["node-a"]?["flags"] as? [String] == [], "\(version): \(caught.stdout)")
        }
        await fleet.stop()
    }

    /// `fleet status --format json` has the same keys for every gate, whatever its engine: a
    /// FleetLock gate keeps no reports, and its node keys are null.
    @Test(.enabled(if: available))
    func everyGateHasTheSameJSONKeys() async throws {
        let fleet = try await FleetEtcdTests.fleet(["node-a"])
        let a = try #require(fleet.nodes["node-a"])
        try a.writePolicy(
            server: fleet.server.base, publicKey: fleet.release.publicKeyText,
            preflight: "    - fleet_lock: {name: etcd_lock, engine: etcd, endpoints: [\"\(fleet.etcd.endpoint)\"], group: workers, "
                + "id: node-a, timeout: 10s}\n"
                + "    - fleet_lock: {name: airlock, engine: fleetlock, url: \"http://127.0.0.1:9/\", group: workers, id: node-a}\n")
        let result = try await Self.status(a, ["--format", "json"])
        let gates = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]], "\(result.stdout)")
        #expect(gates.count == 2, "\(gates)")
        let etcdGate = try #require(gates.first { $0["gate"] as? String == "etcd_lock" })
        let lockGate = try #require(gates.first { $0["gate"] as? String == "airlock" })
        #expect(Set(etcdGate.keys) == Set(lockGate.keys), "\(etcdGate.keys) \(lockGate.keys)")
        for key in ["nodes", "nodes_error", "stale_after_seconds", "stuck_after_seconds"] {
            #expect(lockGate[key] is NSNull, "\(key): \(lockGate)")
        }
        #expect(etcdGate["stale_after_seconds"] as? Int == 8400, "\(etcdGate)")
        await fleet.stop()
    }

    /// Values under the group's prefix that are no report this version reads (not JSON, another
    /// `report_version`) are shown as unreadable rows and flagged; a report dated after this
    /// machine's clock is flagged clock_ahead (no negative age); a report naming another id than
    /// its key's is shown under the key's id and flagged id_mismatch.
    @Test(.enabled(if: available))
    func oddReportsAreShownAndFlagged() async throws {
        let fleet = try await FleetEtcdTests.fleet(["node-a", "node-b"])
        let a = try #require(fleet.nodes["node-a"]), b = try #require(fleet.nodes["node-b"])
        #expect(try await a.apply().status == 0)
        func report(_ id: String, at: String) -> String {
            #"{"report_version":1,"id":"\#(id)","group":"workers","version":"1.0.0","phase":"idle","offered":null,"#
                + #""phase_since":"\#(at)","at":"\#(at)","run":"apply","outcome":"up_to_date","deferral":null,"#
                + #""last_error":null,"ttl_seconds":12600}"#
        }
        let etcd = fleet.etcd
        let (aheadReport, copiedReport) = (report("ahead", at: "2026-11-26T12:00:00Z"), report("node-a", at: "2026-11-26T10:00:00Z"))
        try await onOwnThread {
            try etcd.put(Self.reportKey("junk"), "not json")
            try etcd.put(Self.reportKey("newer"), #"{"report_version":2,"id":"newer"}"#)
            try etcd.put(Self.reportKey("ahead"), aheadReport)
            try etcd.put(Self.reportKey("copy%20x"), copiedReport)
        }
        let now = "2026-11-26T10:00:00Z"
        let patient = ["--stale-after", "48h", "--stuck-after", "48h"]
        let text = try await Self.status(b, patient, now: now)
        #expect(text.status == 1, "\(text.stdout)\(text.stderr)")
        #expect(text.stdout.contains("  nodes      5 nodes, 4 flagged, 2 unreadable reports"), "\(text.stdout)")
        let junk = try #require(Self.row(text, "junk"), "\(text.stdout)")
        #expect(junk.contains("unreadable: the value is not a JSON object (key /updatectl/v1/nodes/workers/junk)"), "\(junk)")
        let newer = try #require(Self.row(text, "newer"), "\(text.stdout)")
        #expect(newer.contains("unreadable: report_version 2, not 1"), "\(newer)")
        let ahead = try #require(Self.row(text, "ahead"), "\(text.stdout)")
        #expect(ahead.contains(" in 2h ") && ahead.contains("clock ahead by 2h"), "\(ahead)")
        let copy = try #require(Self.row(text, "copy x"), "\(text.stdout)")
        #expect(copy.contains("the report names itself `node-a`, not the key's id"), "\(copy)")

        let nodes = try Self.nodes(try await Self.status(b, ["--format", "json"] + patient, now: now))
        #expect(nodes["junk"]?["flags"] as? [String] == ["unreadable"] && nodes["junk"]?["phase"] is NSNull, "\(nodes)")
        #expect(nodes["junk"]?["key"] as? String == Self.reportKey("junk"))
        #expect(nodes["newer"]?["flags"] as? [String] == ["unreadable"], "\(nodes)")
        #expect(nodes["ahead"]?["flags"] as? [String] == ["clock_ahead"] && nodes["ahead"]?["age_seconds"] as? Int == 0, "\(nodes)")
        #expect(nodes["copy x"]?["flags"] as? [String] == ["id_mismatch"], "\(nodes)")
        #expect(nodes["node-a"]?["flags"] as? [String] == [], "\(nodes)")
        await fleet.stop()
    }

    /// The report lives on a lease of `report_ttl`; each run's report takes a new lease and lets
    /// the old one go. When the lease ends (revoked here, as its expiry would), the node is gone
    /// from `fleet status`.
    @Test(.enabled(if: available))
    func aVanishedNodeDropsOutWhenItsLeaseEnds() async throws {
        let fleet = try await FleetEtcdTests.fleet(["node-a", "node-b"], extraGate: ", report_ttl: 5h")
        let a = try #require(fleet.nodes["node-a"]), b = try #require(fleet.nodes["node-b"])
        #expect(try await a.apply().status == 0)
        let first = try await Self.lease(fleet.etcd, "node-a")
        let granted = try await Self.etcdctl(fleet.etcd, ["lease", "timetolive", first])
        #expect(granted.stdout.contains("granted with TTL(18000s)"), "\(granted.stdout)\(granted.stderr)")
        #expect(try await a.healthcheck().status == 0)
        let second = try await Self.lease(fleet.etcd, "node-a")
        #expect(second != first)
        let old = try await Self.etcdctl(fleet.etcd, ["lease", "timetolive", first])
        #expect(old.stdout.contains("already expired"), "the first lease was let go: \(old.stdout)")
        #expect(try Self.nodes(try await Self.status(b, ["--format", "json"])).keys.contains("node-a"))

        let revoked = try await Self.etcdctl(fleet.etcd, ["lease", "revoke", second])
        #expect(revoked.status == 0, "\(revoked.stderr)")
        #expect(try await Self.report(fleet.etcd, "node-a") == nil)
        let after = try await Self.status(b, ["--format", "json"])
        #expect(after.status == 0, "\(after.stdout)\(after.stderr)")
        #expect(try Self.nodes(after).isEmpty)
        await fleet.stop()
    }

    /// A short `report_ttl` (etcd's own clock): the key expires by itself.
    @Test(.enabled(if: available))
    func aShortLeaseExpiresByItself() async throws {
        let fleet = try await FleetEtcdTests.fleet(["node-a"], extraGate: ", report_ttl: 2s")
        let a = try #require(fleet.nodes["node-a"])
        let applied = try await a.apply()
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        let lease = try await Self.lease(fleet.etcd, "node-a")
        let granted = try await Self.etcdctl(fleet.etcd, ["lease", "timetolive", lease])
        #expect(granted.stdout.contains("granted with TTL(2s)"), "\(granted.stdout)")
        var gone = false
        for _ in 0..<240 where !gone {
            gone = try await Self.report(fleet.etcd, "node-a") == nil
            if !gone { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(gone, "the report outlived its 2s lease by a minute")
        await fleet.stop()
    }

    /// etcd cannot be reached: the report is a warning, and the run ends as it would have
    /// (`--skip-fleet-lock` activates; the verification commits).
    @Test(.enabled(if: available))
    func aReportThatCannotBeWrittenNeverFailsTheRun() async throws {
        let closed = try Consumers.freePort()
        let fleet = try await FleetEtcdTests.fleet(["node-a"], endpoints: { _ in "[\"http://127.0.0.1:\(closed)\"]" })
        let a = try #require(fleet.nodes["node-a"])
        let applied = try await a.apply(["--skip-fleet-lock"])
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(
            applied.stderr.contains("warning: this node's status was not reported to etcd for fleet lock `fleet_lock`"), "\(applied.stderr)"
        )
        #expect(applied.stderr.contains("127.0.0.1:\(closed)"), "\(applied.stderr)")
        let verified = try await a.healthcheck()
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        #expect(verified.stderr.contains("was not reported to etcd"), "\(verified.stderr)")
        #expect(try a.state()["phase"] as? String == "success")
        await fleet.stop()
    }

    /// An etcd that takes the connection and never answers: the report gives up after its own
    /// 3 seconds (not the gate's 5), with a warning, and the run ends as it would have.
    @Test(.enabled(if: available))
    func aReportToASilentEtcdGivesUpAfterItsOwnTimeout() async throws {
        let silent = try LoopbackListener()  // listening, never accepting: requests hang
        let server = try await TestServer()
        let release = ReleaseFixture()
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(3000))
        let node = try TestNode()
        try node.writePolicy(
            server: server.base, publicKey: release.publicKeyText,
            preflight: "    - fleet_lock: {engine: etcd, endpoints: [\"http://127.0.0.1:\(silent.port)\"], group: workers, "
                + "id: node-a, timeout: 5s}\n")
        let applied = try await node.apply(["--skip-fleet-lock"])
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        let warning = try #require(
            applied.stderr.split(separator: "\n").first { $0.contains("was not reported to etcd") }, "\(applied.stderr)")
        // The report's own bound is shared by its requests: the first is given what is left of
        // 3 s (curl says 2999 or 3000 ms and a little more), never the gate's 5 s.
        #expect(warning.contains(/timed out after (2[5-9]|3[0-9])[0-9]{2} milliseconds/), "\(warning)")
        #expect(try node.state()["phase"] as? String == "activated")
        silent.stop()
        await server.stop()
    }

    /// The agent reports after each run it makes: here its boot confirmation, then an update
    /// check deferred by the fleet lock.
    @Test(.enabled(if: available))
    func theAgentReportsAfterEachRun() async throws {
        let fleet = try await FleetEtcdTests.fleet(["node-a", "node-b"])
        let a = try #require(fleet.nodes["node-a"]), b = try #require(fleet.nodes["node-b"])
        #expect(try await a.apply().status == 0)
        let agent = try await CLI.runAsync(
            ["agent", b.policyPath], environment: b.environment.merging(["UPDATECTL_TEST_AGENT_UNTIL": "deferred"]) { $1 })
        #expect(agent.status == 0, "\(agent.stdout)\(agent.stderr)")
        let report = try #require(try await Self.report(fleet.etcd, "node-b"))
        #expect(report["run"] as? String == "apply" && report["outcome"] as? String == "deferred", "\(report)")
        #expect(report["phase"] as? String == "staged")
        await fleet.stop()
    }

    /// `report_ttl` no longer than a run interval: lint warns (UPD418).
    @Test func aReportTTLShorterThanTheScheduleIsLinted() throws {
        let findings = try FleetLockProtocolTests.lintFindings(
            preflight: """
                    - fleet_lock: {engine: etcd, endpoints: ["https://etcd.example.com:2379"], report_ttl: 1h}
                  agent: {check_every: 1h, jitter: 10m}

                """)
        let short = findings.filter { $0["rule"] as? String == "UPD418" }
        #expect(short.count == 1, "\(findings)")
        #expect((short.first?["message"] as? String ?? "").contains("its report expires between runs"), "\(short)")
    }
}
