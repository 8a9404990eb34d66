import Foundation
import Testing

@Suite struct SimulateTests {
    /// Each shipped scenario names its policy in a `updatectl simulate POLICY --scenario FILE` comment.
    static let scenarios: [String] = {
        let directory = Paths.root.appendingPathComponent("examples/scenarios")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { name in
            guard name.hasSuffix(".yaml"),
                let text = try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            else { return false }
            return text.hasPrefix("#") && text.contains("scenario:")
        }.sorted()
    }()

    @Test func eightScenariosShip() {
        #expect(
            Self.scenarios == [
                "bootloader-fallback.yaml", "flaky-link.yaml", "flapping-probe.yaml", "fleet-slot-busy.yaml", "probe-never-answers.yaml",
                "rollout-wave.yaml", "settle-longer-than-timeout.yaml", "window-closes-mid-download.yaml",
            ])
    }

    /// The fleet lock scripted per apply run: denied runs keep the release staged and download it
    /// once; a lock that stays down defers the update for as many runs as the scenario allows.
    @Test func theFleetLockIsRehearsed() throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            "down.yaml",
            """
            scenario:
              release: {version: 1.1.0}
              facts: {fleet_lock: [down]}
              runs: 4
              run_every: 30m
              expect: {outcome: deferred, within: 2h}

            """)
        let down = try CLI.run(
            ["simulate", "policies/fleet.yaml", "--scenario", directory.url.appendingPathComponent("down.yaml").path],
            directory: Paths.root)
        #expect(down.status == 0, "\(down.stdout)\(down.stderr)")
        #expect(down.stdout.contains("Outcome: deferred by fleet_lock at t+1h31m (expected: deferred)"), "\(down.stdout)")
        #expect(down.stdout.components(separatedBy: "the fleet lock did not answer").count == 5, "four runs asked")
        #expect(down.stdout.components(separatedBy: "download.files                     done").count == 2, "one download")
        let busy = try CLI.run(
            [
                "simulate", "policies/fleet.yaml", "--scenario", "examples/scenarios/fleet-slot-busy.yaml",
                "--format", "json",
            ], directory: Paths.root)
        let object = try #require(JSONSerialization.jsonObject(with: Data(busy.stdout.utf8)) as? [String: Any])
        let events = try #require(object["events"] as? [[String: Any]])
        #expect(
            events.filter { $0["step"] as? String == "preflight.fleet_lock" }.map { $0["decision"] as? String }
                == ["block", "block", "pass"])
        #expect(events.contains { $0["step"] as? String == "release.fleet_lock" && $0["decision"] as? String == "done" })
    }

    @Test(arguments: scenarios)
    func everyShippedScenarioReachesItsDeclaredOutcome(name: String) throws {
        let text = try String(contentsOf: Paths.root.appendingPathComponent("examples/scenarios/\(name)"), encoding: .utf8)
        let usage = try #require(text.split(separator: "\n").first { $0.contains("updatectl simulate ") })
        let words = usage.split(separator: " ").map(String.init)
        let policy = try #require(words.firstIndex(of: "simulate").map { words[$0 + 1] })
        let result = try CLI.run(
            ["simulate", policy, "--scenario", "examples/scenarios/\(name)", "--format", "json"],
            directory: Paths.root)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let object = try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["mismatch"] is NSNull)
        #expect(object["outcome"] as? String == object["expected"] as? String)
    }

    /// A scenario that scripts a probe the policy does not have tests nothing: a finding, not a run.
    @Test func aScenarioForAProbeThePolicyLacksIsAFinding() throws {
        let result = try CLI.run(
            ["simulate", "policies/default.yaml", "--scenario", "examples/scenarios/probe-never-answers.yaml"],
            directory: Paths.root)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.isEmpty, "nothing was simulated: \(result.stdout)")
        #expect(result.stderr.contains("error[UPD201]: policies/default.yaml has no probe named `apiserver`"), "\(result.stderr)")
        #expect(result.stderr.contains(" --> examples/scenarios/probe-never-answers.yaml:11:5\n"), "\(result.stderr)")
        #expect(result.stderr.contains("= help: the policy's probes are: `"), "\(result.stderr)")
        #expect(result.stderr.contains("`disk_writable`"), "\(result.stderr)")
    }

    /// Misspelt gate and probe names, and a misspelt key, each at its line and column with the
    /// name it was probably meant to be.
    @Test func misspeltNamesAndKeysInAScenarioAreFindings() throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            "typos.yaml",
            """
            scenario:
              release: {version: 1.1.0}
              gates:
                maintenance_windw: block
              probes:
                apiservr: [fail]
                ingres: [fail]
              reboot_afer: 2m
              expect: {outcome: deferred}

            """)
        let result = try CLI.run(
            ["simulate", "policies/hardened.yaml", "--scenario", directory.url.appendingPathComponent("typos.yaml").path],
            directory: Paths.root)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.isEmpty, "nothing was simulated: \(result.stdout)")
        let findings: [(String, String, String)] = [
            ("policies/hardened.yaml has no gate named `maintenance_windw`", "typos.yaml:4:5", "did you mean `maintenance_window`?"),
            ("policies/hardened.yaml has no probe named `apiservr`", "typos.yaml:6:5", "did you mean `apiserver`?"),
            ("policies/hardened.yaml has no probe named `ingres`", "typos.yaml:7:5", "the policy's probes are: `kube_system_ready`"),
            ("unknown key `reboot_afer` in scenario", "typos.yaml:8:3", "did you mean `reboot_after`?"),
        ]
        for (message, place, help) in findings {
            let block = try #require(
                result.stderr.components(separatedBy: "\n\n").first { $0.contains("error[UPD201]: \(message)") },
                "\(message): \(result.stderr)")
            #expect(block.contains(place + "\n"), "\(block)")
            #expect(block.contains("= help: \(help)"), "\(block)")
        }
    }

    @Test func theTextTimelineShowsVirtualTimeAndTheOutcome() throws {
        let result = try CLI.run(
            ["simulate", "policies/hardened.yaml", "--scenario", "examples/scenarios/probe-never-answers.yaml"],
            directory: Paths.root)
        #expect(result.status == 0)
        #expect(result.stdout.contains("  t+0s      checking     check.metadata"))
        #expect(result.stdout.contains("healthcheck.probe.apiserver        fail  did not answer within its 5s timeout (scripted)"))
        #expect(result.stdout.contains("Outcome: rolled back after 3 failed runs at t+"))
    }

    @Test func anUnexpectedOutcomeExitsOne() throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            "s.yaml",
            """
            scenario:
              start: "2026-01-06T02:00:00Z"
              release: {version: 1.1.0}
              facts: {machine_id: edge-04}
              probes: {apiserver: [fail]}
              expect: {outcome: success}

            """)
        let result = try CLI.run(
            ["simulate", "policies/hardened.yaml", "--scenario", directory.url.appendingPathComponent("s.yaml").path],
            directory: Paths.root)
        #expect(result.status == 1)
        #expect(result.stdout.contains("MISMATCH: expected success, got rolled_back"))
    }

    @Test func scenariosAreLintedLikePolicies() throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            "s.yaml",
            """
            scenario:
              release: {version: 1.1.0, signature: forged}
              download: {duration: 20 minutes}
              probes: {api: [pass, sometimes]}
              expext: {outcome: success}

            """)
        let result = try CLI.run(
            ["simulate", "policies/hardened.yaml", "--scenario", directory.url.appendingPathComponent("s.yaml").path],
            directory: Paths.root)
        #expect(result.status == 1)
        #expect(result.stderr.contains("error[UPD308]: `signature` must be `valid` or `bad` or `missing`, found `forged`"))
        #expect(result.stderr.contains("s.yaml:2:40"))
        #expect(result.stderr.contains("error[UPD301]"))
        #expect(result.stderr.contains("found `sometimes`"))
        #expect(result.stderr.contains("error[UPD201]: unknown key `expext` in scenario"))
        #expect(result.stderr.contains("did you mean `expect`?"))
    }
}

/// simulate and a real end-to-end run of the same situation walk the same steps.
@Suite(.serialized) struct SimulateMatchesRealRunTests {
    /// `[ n/N] step decision …` lines, and the timeline's steps, as (step, decision).
    func realSteps(_ output: String) -> [String] {
        output.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("["), let close = line.firstIndex(of: "]") else { return nil }
            let words = line[line.index(after: close)...].split(separator: " ")
            return words.count >= 2 ? "\(words[0]) \(words[1])" : nil
        }
    }

    func simulatedSteps(_ json: String) throws -> [String] {
        let object = try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let events = try #require(object["events"] as? [[String: Any]])
        return events.compactMap { event in
            guard let step = event["step"] as? String, step != "-", let decision = event["decision"] as? String else { return nil }
            return "\(step) \(decision)"
        }
    }

    @Test(arguments: [true, false])
    func theSameSituationGivesTheSameStepSequence(healthy: Bool) async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let release = ReleaseFixture()
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(3000))
        server.set("/healthz", body: Data(), status: healthy ? 200 : 503)
        let node = try TestNode()
        try node.writePolicy(
            server: server.base, publicKey: release.publicKeyText,
            preflight: "    - free_space: {}\n    - no_downgrade: true\n",
            extra: "  healthcheck:\n    timeout: 2m\n    probes:\n      - http: {name: app, url: \"\(server.base)/healthz\"}\n")
        var real = realSteps(try await node.apply().stdout)
        let runs = healthy ? 1 : 3
        for _ in 0..<runs { real += realSteps(try await node.healthcheck().stdout) }

        try node.directory.write(
            "scenario.yaml",
            """
            scenario:
              start: "2026-11-26T03:00:00Z"
              running_version: 1.0.0
              release: {version: 1.1.0}
              probes: {app: [\(healthy ? "pass" : "fail")]}

            """)
        let simulated = try await CLI.runAsync([
            "simulate", node.policyPath, "--scenario",
            node.root.appendingPathComponent("scenario.yaml").path, "--format", "json",
        ])
        #expect(simulated.status == 0, "\(simulated.stderr)")
        let steps = try simulatedSteps(simulated.stdout)
        #expect(!steps.isEmpty)
        #expect(steps == real)
    }
}

@Suite struct DiscoveryTests {
    @Test func withoutAPolicyTheSearchOrderFindsCloudInitsUserData() throws {
        let directory = try TemporaryDirectory()
        let userData = "var/lib/cloud/instance/user-data.txt"
        let original = try String(contentsOf: Paths.root.appendingPathComponent("examples/cloud-init/user-data.yaml"), encoding: .utf8)
        try directory.write(userData, original)
        let env = ["UPDATECTL_TEST_ROOT": directory.url.path]
        let plan = try CLI.run(["plan"], environment: env)
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stderr.contains("using the policy \(directory.url.path)/\(userData) (found by the search order"))
        #expect(plan.stdout.contains("preflight.maintenance_window"))
        // /etc/updatectl/policy.yaml comes first.
        try directory.write("etc/updatectl/policy.yaml", "updates:\n  server: https://other.example.com  # updatectl: disable=UPD406\n")
        let second = try CLI.run(["plan"], environment: env)
        #expect(second.stderr.contains("using the policy \(directory.url.path)/etc/updatectl/policy.yaml"))
        #expect(second.stdout.contains("https://other.example.com"))
    }

    /// A scenario's facts for a gate the policy lacks script nothing: the shipped fleet-slot-busy
    /// scenario against a policy without a fleet lock is a finding, not a pass.
    @Test func factsForAGateThePolicyLacksAreAFinding() throws {
        let result = try CLI.run(
            ["simulate", "policies/hardened.yaml", "--scenario", "examples/scenarios/fleet-slot-busy.yaml"], directory: Paths.root)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("has no `fleet_lock` step, so the fact `fleet_lock` is never asked for"), "\(result.stderr)")
        let fitting = try CLI.run(
            ["simulate", "policies/fleet.yaml", "--scenario", "examples/scenarios/fleet-slot-busy.yaml"], directory: Paths.root)
        #expect(fitting.status == 0, "\(fitting.stdout)\(fitting.stderr)")
    }

    /// With `--format json`, a scenario with errors gives its findings as JSON on standard output
    /// (what a CI step parses), and `tree` of a path that cannot be read is a usage error.
    @Test func jsonOutputCarriesTheScenariosFindings() throws {
        let result = try CLI.run(
            ["simulate", "policies/default.yaml", "--scenario", "examples/scenarios/probe-never-answers.yaml", "--format", "json"],
            directory: Paths.root)
        #expect(result.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        let rules = (object["findings"] as? [[String: Any]])?.compactMap { $0["rule"] as? String } ?? []
        #expect(rules.contains("UPD201"), "\(result.stdout)")
        #expect(try CLI.run(["tree", "/nonexistent/policy.yaml"]).status == 2)
    }

    @Test func noPolicyAnywhereSaysWhereItLooked() throws {
        let directory = try TemporaryDirectory()
        let result = try CLI.run(["apply"], environment: ["UPDATECTL_TEST_ROOT": directory.url.path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("no policy was given and none was found (looked at \(directory.url.path)/etc/updatectl/policy.yaml"))
    }
}

@Suite struct DemoTests {
    @Test func theDemoRunsAndPrintsWhatTheReadmeShows() throws {
        let bash = try #require(TestComponents.program("bash"))
        let result = try CLI.runProgram(
            bash, [Paths.root.appendingPathComponent("examples/demo/run.sh").path],
            environment: ["UPDATECTL": CLI.binary.path])
        #expect(result.status == 0, "\(result.stderr)")
        let readme = try String(contentsOf: Paths.root.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "<!-- demo-transcript:start -->\n```text\n"))
        let end = try #require(readme.range(of: "```\n<!-- demo-transcript:end -->"))
        let transcript = String(readme[start.upperBound..<end.lowerBound])
        #expect(result.stdout == transcript)
        #expect(result.stdout.contains("rolling back") || result.stdout.contains("rolled back to slot b"))
        #expect(result.stdout.hasSuffix("# The node runs slot b again, with version 1.1.0.\n"))
    }
}

@Suite struct SimulateEdgeTests {
    /// A failure that does not roll back yet shows the phase the run was in, not `rolled_back`.
    @Test func aSkippedRollbackDoesNotClaimItsPhase() throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            "s.yaml",
            """
            scenario:
              start: "2026-01-06T02:00:00Z"
              release: {version: 1.1.0}
              facts: {machine_id: edge-04}
              probes: {apiserver: [fail x200, pass]}
              runs: 2

            """)
        let result = try CLI.run(
            ["simulate", "policies/hardened.yaml", "--scenario", directory.url.appendingPathComponent("s.yaml").path],
            directory: Paths.root)
        let lines = result.stdout.split(separator: "\n").filter { $0.contains("healthcheck.failure") }
        #expect(!lines.isEmpty, "\(result.stdout)")
        #expect(!result.stdout.contains("healthcheck.rollback"), "\(result.stdout)")
        for line in lines {
            #expect(!line.contains("rolled_back"), "\(line)")
            #expect(line.contains("activated"), "\(line)")
        }
    }

    /// Repeats are counted before they are made: a small file cannot ask for billions of outcomes.
    @Test func scriptedOutcomesHaveATotalCap() throws {
        let directory = try TemporaryDirectory()
        var text = "scenario:\n  release: {version: 1.1.0}\n  probes:\n"
        for index in 0..<11 { text += "    p\(index): [fail x10000]\n" }
        try directory.write("s.yaml", text)
        let result = try CLI.run(
            ["simulate", "policies/hardened.yaml", "--scenario", directory.url.appendingPathComponent("s.yaml").path],
            directory: Paths.root)
        #expect(result.status == 1)
        #expect(
            result.stdout.contains("more than 100000 probe outcomes in all")
                || result.stderr.contains("more than 100000 probe outcomes in all"),
            "\(result.stdout)\(result.stderr)")
    }
}

/// The test-only switches cannot reach a shipped binary: every read goes through `TestSwitches`,
/// which reads nothing outside debug builds.
@Suite struct TestSwitchTests {
    @Test func onlyTestSwitchesReadsTheEnvironmentSwitches() throws {
        let sources = Paths.root.appendingPathComponent("Sources")
        let files = try #require(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil))
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
        var offenders: [String] = []
        for file in files where file.lastPathComponent != "TestSwitches.swift" {
            let text = try String(contentsOf: file, encoding: .utf8)
            for line in text.split(separator: "\n")
            where line.contains("\"UPDATECTL_TEST") && !line.trimmingCharacters(in: .whitespaces).hasPrefix("//") {
                offenders.append("\(file.lastPathComponent): \(line)")
            }
        }
        #expect(offenders.isEmpty, "\(offenders)")
        let switches = try String(contentsOf: sources.appendingPathComponent("UpdateAgent/System/TestSwitches.swift"), encoding: .utf8)
        #expect(switches.contains("#if DEBUG\n    public static let enabled = true\n    #else\n    public static let enabled = false"))
        #expect(switches.contains("guard enabled else { return nil }"))
    }
}
