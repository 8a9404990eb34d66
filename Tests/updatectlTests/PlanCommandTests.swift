import Foundation
import Testing

@Suite struct PlanCommandTests {
    let example = Paths.root.appendingPathComponent("examples/cloud-init/user-data.yaml").path

    @Test func theReadmeExamplePrintsAPlan() throws {
        let result = try CLI.run(["plan", "examples/cloud-init/user-data.yaml"], directory: Paths.root)
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("Plan for examples/cloud-init/user-data.yaml\n"))
        #expect(result.stdout.contains("preflight.maintenance_window"))
        #expect(result.stdout.contains("On failure:"))
    }

    @Test func jsonIsVersioned() throws {
        let result = try CLI.run(["plan", "--format", "json", example])
        let object = try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["plan_version"] as? Int == 1)
        let steps = try #require(object["steps"] as? [[String: Any]])
        #expect(steps.first?["id"] as? String == "check.metadata")
        #expect(object["resume"] is NSNull)
    }

    @Test func aPolicyWithLintErrorsHasNoPlan() throws {
        let result = try CLI.run(["plan", "-"], stdin: Data("updates:\n  server: https://u.example.com\n  reboot: sometimes\n".utf8))
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("error[UPD308]: `reboot` must be `manual` or `auto`, found `sometimes`"))
        #expect(result.stderr.contains("<stdin>:3:11"))
        #expect(result.stderr.contains("has lint errors, so it has no plan"))
    }

    @Test func stateMarksTheResumeStep() throws {
        let directory = try TemporaryDirectory()
        // The Go agent's exact shape: nanosecond times, omitempty fields absent.
        try directory.write(
            "state.json",
            """
            {
              "phase": "activated",
              "from_version": "1.2.0",
              "to_version": "1.3.0",
              "started_at": "2026-05-14T19:08:30.123456789Z",
              "updated_at": "2026-05-14T19:09:02.5Z",
              "attempt_count": 1
            }

            """)
        let state = directory.url.appendingPathComponent("state.json").path
        let text = try CLI.run(["plan", example, "--state", state])
        #expect(text.status == 0)
        #expect(text.stdout.contains("=> 18  verifying"))
        #expect(text.stdout.contains("=> resume at step 18: an update is activated and waits for its post-boot check"))
        let json = try CLI.run(["plan", "--format", "json", example, "--state", state])
        let object = try #require(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let resume = try #require(object["resume"] as? [String: Any])
        #expect(resume["step"] as? String == "boot.slot")
        #expect(resume["phase"] as? String == "activated")
    }

    /// A broken state file is a failure (exit 1), as `status` and docs/exit-codes.md say; a state
    /// file that is not there is a path mistake (exit 2).
    @Test func aBrokenStateFileIsAClearError() throws {
        let directory = try TemporaryDirectory()
        try directory.write("state.json", "{\"phase\": \"exploded\"}")
        let result = try CLI.run(["plan", example, "--state", directory.url.appendingPathComponent("state.json").path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("unknown phase \"exploded\""))
        let missing = try CLI.run(["plan", example, "--state", directory.url.appendingPathComponent("none.json").path])
        #expect(missing.status == 2)
    }

    /// The command backend's plan says where the files really go: the data partition, for the
    /// stage command.
    @Test func theCommandBackendsDownloadsAreWhereThePlanSays() throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            "policy.yaml",
            """
            updates:
              server: https://u.example.com
              backend:
                type: command
                stage: [/usr/bin/true, "${FILES}"]
                activate: [/usr/bin/true]
                rollback: [/usr/bin/true]
                booted_slot: [/usr/bin/echo, a]

            """)
        let plan = try CLI.run(["plan", directory.url.appendingPathComponent("policy.yaml").path])
        #expect(plan.stdout.contains("to data_dir/update/incoming-SLOT, for the stage command"), "\(plan.stdout)")
        #expect(!plan.stdout.contains("to the passive slot"))
    }

    @Test func diffExitsZeroWhenEqualAndOneWithTheChanges() throws {
        let directory = try TemporaryDirectory()
        let original = try String(contentsOfFile: example, encoding: .utf8)
        try directory.write("old.yaml", original)
        try directory.write(
            "new.yaml",
            original
                .replacingOccurrences(of: "auto_rollback_after: 3", with: "auto_rollback_after: 0")
                .replacingOccurrences(of: "end: \"04:00\"", with: "end: \"02:00\""))
        let old = directory.url.appendingPathComponent("old.yaml").path
        let new = directory.url.appendingPathComponent("new.yaml").path
        let same = try CLI.run(["plan", "--diff", old, old])
        #expect(same.status == 0)
        #expect(same.stdout == "The plans are equal.\n")
        let changed = try CLI.run(["plan", "--diff", old, new])
        #expect(changed.status == 1)
        #expect(changed.stdout.contains("* auto_rollback_after 3 → 0: automatic rollback turned off"))
        #expect(changed.stdout.contains("* maintenance window shortened by 2h (22:00–04:00 → 22:00–02:00)"))
        let json = try CLI.run(["plan", "--diff", "--format", "json", old, new])
        #expect(json.stdout.contains("\"equal\": false"))
    }

    @Test func planTakesOnePolicy() throws {
        #expect(try CLI.run(["plan"]).status == 2)
        #expect(try CLI.run(["plan", "--diff", example]).status == 2)
    }
}
