import Foundation
import JSONValue
import Testing

@Suite struct StateDurabilityTests {
    static let oldState = """
        {
          "phase": "failed",
          "to_version": "1.1.0",
          "started_at": "2026-05-14T19:08:30Z",
          "updated_at": "2026-05-14T19:09:00Z",
          "last_error": "sha256 mismatch",
          "attempt_count": 2
        }

        """

    /// Every point of a save, and the moment the lock is held before it.
    @Test(arguments: ["lock.held", "save.created", "save.written", "save.synced", "save.renamed", "save.done"])
    func aKillAtAnyPointOfASaveLeavesTheOldOrTheNewFile(point: String) throws {
        let directory = try TemporaryDirectory()
        try directory.write("state.json", Self.oldState)
        let state = directory.url.appendingPathComponent("state.json").path
        let writer = try BackgroundProcess(
            ["state", "reset", "--yes", "--state", state],
            environment: ["UPDATECTL_TEST_PAUSE": point])
        #expect(writer.waitFor("paused at \(point)"), "stderr: \(writer.stderr)")
        writer.kill()

        let bytes = try Data(contentsOf: URL(fileURLWithPath: state))
        let text = String(decoding: bytes, as: UTF8.self)
        let object = try #require(JSONSerialization.jsonObject(with: bytes) as? [String: Any])
        let phase = object["phase"] as? String
        if ["lock.held", "save.created", "save.written", "save.synced"].contains(point) {
            #expect(text == Self.oldState)
        } else {
            #expect(phase == "idle")
        }

        // A reader changes nothing, not even the leftovers; the next writer sweeps them and
        // proceeds, since the killed holder's lock is gone.
        let before = try FileManager.default.contentsOfDirectory(atPath: directory.url.path).sorted()
        let status = try CLI.run(["status", "--state", state])
        #expect(status.status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path).sorted() == before)
        let again = try CLI.run(["state", "reset", "--yes", "--state", state])
        #expect(again.status == 0, "\(again.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.url.path).sorted()
        #expect(files == ["state.json", "state.json.lock"])
    }

    @Test func twoWritersStartedTogetherNeverBothHoldTheLock() throws {
        let directory = try TemporaryDirectory()
        let state = directory.url.appendingPathComponent("state.json").path
        try directory.write("state.json", #"{"phase": "failed", "started_at": "0001-01-01T00:00:00Z", "attempt_count": 1}"#)
        // Each writer stops while holding the lock, so a second holder would also stop there.
        let writers = try (0..<6).map { _ in
            try BackgroundProcess(["state", "reset", "--yes", "--state", state], environment: ["UPDATECTL_TEST_PAUSE": "lock.held"])
        }
        var holders: [BackgroundProcess] = []
        var refused: [(BackgroundProcess, Int32)] = []
        for writer in writers {
            if writer.waitFor("paused at lock.held", seconds: 10), writer.process.isRunning {
                holders.append(writer)
            }
        }
        #expect(holders.count == 1)
        for writer in writers where !holders.contains(where: { $0 === writer }) {
            refused.append((writer, writer.wait()))
        }
        let holderPID = holders.first?.process.processIdentifier ?? -1
        for (writer, status) in refused {
            #expect(status == 4)
            #expect(writer.stderr.contains("another updatectl (process \(holderPID)) holds the lock \(state).lock"))
        }
        holders.forEach { $0.kill() }
    }

    @Test func statusFormats() throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            "state.json",
            """
            {
              "phase": "idle",
              "from_version": "1.0.0",
              "to_version": "1.1.0",
              "started_at": "0001-01-01T00:00:00Z",
              "updated_at": "2026-05-14T19:00:00.25Z",
              "attempt_count": 1,
              "deferred_gate": "maintenance_window",
              "deferred_reason": "now 14:00 UTC is outside 01:00–05:00 UTC",
              "deferred_at": "2026-05-14T19:00:00Z",
              "fleet_note": "kept"
            }

            """)
        let state = directory.url.appendingPathComponent("state.json").path
        let env = ["UPDATECTL_TEST_NOW": "2026-05-14T21:30:00Z"]
        let text = try CLI.run(["status", "--state", state], environment: env)
        #expect(text.stdout.contains("phase            idle: no update in progress; the last run was deferred"))
        #expect(text.stdout.contains("deferred         by maintenance_window 2h30m ago: now 14:00 UTC is outside 01:00–05:00 UTC"))
        #expect(text.stdout.contains("attempts         1 at 1.1.0"))
        let json = try CLI.run(["status", "--state", state, "--format", "json"])
        let object = try #require(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["status_version"] as? Int == 1)
        #expect(object["state_file"] as? String == state)
        #expect(object["state_file_present"] as? Bool == true)
        let stateObject = try #require(object["state"] as? [String: Any])
        #expect(stateObject["fleet_note"] as? String == "kept")
        #expect(stateObject["deferred_gate"] as? String == "maintenance_window")
        let metrics = try CLI.run(["status", "--state", state, "--format", "prometheus"])
        #expect(metrics.stdout.contains("updatectl_phase{phase=\"idle\"} 1\n"))
        #expect(metrics.stdout.contains("updatectl_phase{phase=\"activated\"} 0\n"))
        #expect(metrics.stdout.contains("updatectl_deferred{gate=\"maintenance_window\"} 1\n"))
        #expect(metrics.stdout.contains("updatectl_last_transition_timestamp_seconds 1778785200.25\n"))
        #expect(metrics.stdout.contains("updatectl_update_info{from_version=\"1.0.0\",to_version=\"1.1.0\"} 1\n"))
    }

    @Test func theStatePathComesFromThePolicysDataDir() throws {
        let directory = try TemporaryDirectory()
        let data = directory.url.appendingPathComponent("data").path
        try directory.write("policy.yaml", "updates:\n  server: https://u.example.com # updatectl: disable=UPD406\n  data_dir: \(data)\n")
        let policy = directory.url.appendingPathComponent("policy.yaml").path
        let reset = try CLI.run(["state", "reset", "--yes", policy])
        #expect(reset.status == 0)
        #expect(reset.stdout == "no state file at \(data)/update/state.json: nothing to reset\n")
        let status = try CLI.run(["status", policy])
        #expect(status.stdout.contains("state file       \(data)/update/state.json"))
    }

    /// A reader reports a broken file and leaves it (the Go agent may still read it); a writer
    /// moves it aside as evidence.
    @Test func aBrokenStateIsReportedByReadersAndMovedAsideByWriters() throws {
        let directory = try TemporaryDirectory()
        try directory.write("state.json", "{\"phase\": \"activ")
        let state = directory.url.appendingPathComponent("state.json").path
        let env = ["UPDATECTL_TEST_NOW": "2026-05-14T21:30:00Z"]
        let result = try CLI.run(["status", "--state", state], environment: env)
        #expect(result.status == 1)
        #expect(result.stdout.contains("state file       \(state) cannot be parsed: not JSON"))
        #expect(result.stderr.contains("it was left in place"))
        #expect(try String(contentsOfFile: state, encoding: .utf8) == "{\"phase\": \"activ")
        let metrics = try CLI.run(["status", "--state", state, "--format", "prometheus"], environment: env)
        #expect(metrics.status == 1)
        #expect(metrics.stdout.contains("updatectl_state_broken 1\n"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path) == ["state.json"])
        let reset = try CLI.run(["state", "reset", "--yes", "--state", state], environment: env)
        #expect(reset.stdout.contains("cleared \(state).broken-2026-05-14T21:30:00Z"))
        #expect(FileManager.default.fileExists(atPath: "\(state).broken-2026-05-14T21:30:00Z.cleared"))
        #expect(!(try CLI.run(["status", "--state", state]).stdout.contains("warning")))
    }

    @Test func aStateFileThatDoesNotExistIsSaidPlainly() throws {
        let directory = try TemporaryDirectory()
        let state = directory.url.appendingPathComponent("nowhere/state.json").path
        let text = try CLI.run(["status", "--state", state])
        #expect(text.status == 0)
        #expect(text.stdout.hasPrefix("state file       \(state) does not exist: no update has run on this node yet"))
        #expect(!text.stdout.contains("phase"))
        let json = try CLI.run(["status", "--state", state, "--format", "json"])
        let object = try #require(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["state_file_present"] as? Bool == false)
        #expect(object["state"] is NSNull)
        let metrics = try CLI.run(["status", "--state", state, "--format", "prometheus"])
        #expect(metrics.stdout.contains("updatectl_state_missing 1\n"))
        #expect(!FileManager.default.fileExists(atPath: directory.url.appendingPathComponent("nowhere").path))
    }

    @Test func resetWantsConfirmation() throws {
        let result = try CLI.run(["state", "reset", "--state", "/tmp/never-written.json"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("add --yes to confirm"))
    }
}
