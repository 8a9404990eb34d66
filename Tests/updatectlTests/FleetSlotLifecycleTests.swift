import Foundation
import Testing

/// A node's fleet slot across its whole lifecycle, with the real binary and a real FleetLock
/// server: held across the reboot that ends a rollback, given back although the server fails now
/// and then, and no attempt spent on a run the lock deferred.
@Suite(.serialized) struct FleetSlotLifecycleTests {
    /// 1.1.0 offered and signed; each node's probe asks `/healthz-ID`, which answers 200 until a
    /// test says otherwise.
    func offered() async throws -> (TestServer, ReleaseFixture) {
        let server = try await TestServer()
        let release = ReleaseFixture()
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(3000))
        return (server, release)
    }

    /// A node taking a slot of group `workers` from the FleetLock server, rolling back at the
    /// first failed verification run.
    func node(
        _ server: TestServer, _ release: ReleaseFixture, _ fleetLock: TestFleetLockServer, id: String, preflight: String = ""
    ) throws -> TestNode {
        try node(server, release, lock: Self.lock(fleetLock), id: id, preflight: preflight)
    }

    static func lock(_ fleetLock: TestFleetLockServer) -> String { "engine: fleetlock, url: \"\(fleetLock.base)\"" }

    /// The same with the fleet lock's engine options `lock`.
    func node(_ server: TestServer, _ release: ReleaseFixture, lock: String, id: String, preflight: String = "") throws -> TestNode {
        server.set("/healthz-\(id)", body: Data(), status: 200)
        let node = try TestNode()
        try write(node, server, release, lock: lock, id: id, preflight: preflight)
        return node
    }

    func write(
        _ node: TestNode, _ server: TestServer, _ release: ReleaseFixture, lock: String, id: String, reboot: String = "auto",
        preflight: String = ""
    ) throws {
        try node.writePolicy(
            server: server.base, publicKey: release.publicKeyText,
            preflight: preflight + "    - fleet_lock: {\(lock), group: workers, id: \(id)}\n",
            reboot: reboot,
            extra: """
                  kube_system_settle: 0
                  healthcheck:
                    timeout: 1m
                    interval: 10s
                    retry_every: 1m
                    probes:
                      - http: {name: app, url: "\(server.base)/healthz-\(id)"}
                  agent: {check_every: 1h, jitter: 0s}

                """,
            autoRollbackAfter: 1)
    }

    /// node-a is rolled back (by `roll`) while node-b waits for the one slot of the engine that
    /// `lock` names (`holders` reads it): node-b gets it only once node-a has rebooted into its
    /// previous slot and run again there.
    func slotWaitsForTheRollbacksReboot(
        _ server: TestServer, _ release: ReleaseFixture, lock: String, holders: () throws -> [String],
        _ roll: (TestNode, TestServer) async throws -> CLI.Result
    ) async throws {
        let a = try node(server, release, lock: lock, id: "node-a"), b = try node(server, release, lock: lock, id: "node-b")
        #expect(try await a.apply().status == 0)
        #expect(a.marker("booted") == "b")
        let rolled = try await roll(a, server)
        #expect(try a.state()["phase"] as? String == "rolled_back", "\(rolled.stdout)\(rolled.stderr)")
        #expect(a.marker("booted") == "a", "rebooted into the previous slot")
        #expect(try holders() == ["node-a"], "held across the reboot: \(rolled.stdout)\(rolled.stderr)")
        let waiting = try await b.apply()
        #expect(waiting.status == 3, "\(waiting.stdout)\(waiting.stderr)")
        #expect(b.marker("next") == "a", "node-b activated nothing")

        // node-a's first run after the reboot finds it steady on 1.0.0 and gives the slot back.
        server.set("/healthz-node-a", body: Data(), status: 200)
        let steady = try await a.healthcheck()
        #expect(steady.status == 0, "\(steady.stdout)\(steady.stderr)")
        #expect(steady.stdout.contains("release.fleet_lock"), "\(steady.stdout)")
        #expect(try holders() == [])
        let turn = try await b.apply()
        #expect(turn.status == 0, "\(turn.stdout)\(turn.stderr)")
        #expect(try holders() == ["node-b"])
    }

    /// A verification run that fails on node-a: rolled back at once, and rebooted.
    func failVerification(_ a: TestNode, _ server: TestServer) async throws -> CLI.Result {
        server.set("/healthz-node-a", body: Data(), status: 503)
        let result = try await a.healthcheck()
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(
            result.stdout.contains("kept across the reboot into slot a: the first run after it gives the slot back"),
            "\(result.stdout)")
        return result
    }

    /// The automatic rollback (auto_rollback_after) and `updatectl rollback` by hand both keep
    /// the slot across their reboot.
    @Test(arguments: [true, false]) func aRollbackHoldsTheSlotAcrossItsReboot(automatic: Bool) async throws {
        let (server, release) = try await offered()
        let fleetLock = try await TestFleetLockServer(slots: 1)
        try await slotWaitsForTheRollbacksReboot(
            server, release, lock: Self.lock(fleetLock), holders: { fleetLock.holders("workers") },
            automatic ? failVerification : rollBackByHand)
        await fleetLock.stop()
        await server.stop()
    }

    /// The same with etcd: Airlock's semaphore names node-a until its first run on the previous slot.
    @Test(.enabled(if: TestEtcd.available))
    func anAutomaticRollbackHoldsTheEtcdSlotAcrossItsReboot() async throws {
        let (server, release) = try await offered()
        let etcd = try TestEtcd()
        let key = TestEtcd.semaphoreKey(group: "workers")
        try await slotWaitsForTheRollbacksReboot(
            server, release, lock: "engine: etcd, endpoints: [\"\(etcd.endpoint)\"], slots: 1, timeout: 10s",
            holders: {
                let text = try #require(try etcd.value(key), "the semaphore does not exist")
                let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
                return object?["holders"] as? [String] ?? []
            }, failVerification)
        etcd.stop()
        await server.stop()
    }

    /// `updatectl rollback` on node-a, which runs the new slot: rolled back and rebooted.
    func rollBackByHand(_ a: TestNode, _ server: TestServer) async throws -> CLI.Result {
        let result = try await a.run("rollback")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(
            result.stdout.contains("fleet_lock: the reboot slot is kept until the node has rebooted into slot a"),
            "\(result.stdout)\(result.stderr)")
        return result
    }

    /// A rollback whose reboot did not happen (reboot: manual): the `apply` that finishes it
    /// takes the slot first. Here another node holds it (node-a's was given back by hand), so
    /// the apply defers without rebooting; once the slot is free it takes it, reboots, and gives
    /// it back on its next run.
    @Test func theApplyThatFinishesARollbackTakesTheSlotFirst() async throws {
        let (server, release) = try await offered()
        let fleetLock = try await TestFleetLockServer(slots: 1)
        let a = try node(server, release, fleetLock, id: "node-a"), b = try node(server, release, fleetLock, id: "node-b")
        #expect(try await a.apply().status == 0)
        try write(a, server, release, lock: Self.lock(fleetLock), id: "node-a", reboot: "manual")
        server.set("/healthz-node-a", body: Data(), status: 503)
        #expect(try await a.healthcheck().status == 1)
        #expect(try a.state()["phase"] as? String == "rolled_back")
        #expect(a.marker("booted") == "b" && a.marker("next") == "a", "rolled back, not rebooted")
        #expect(fleetLock.holders("workers") == ["node-a"])

        // Not by node-a's own `fleet unlock` without --force: its reboot is still to come.
        let own = try await CLI.runAsync(["fleet", "unlock", "node-a", a.policyPath], environment: a.environment)
        #expect(own.status == 1, "\(own.stdout)\(own.stderr)")
        #expect(own.stderr.contains("it rolled back 1.1.0 but still runs it"), "\(own.stderr)")
        #expect(fleetLock.holders("workers") == ["node-a"])
        // node-a's slot given back by hand from node-b; node-b takes it.
        let unlocked = try await CLI.runAsync(["fleet", "unlock", "node-a", b.policyPath], environment: b.environment)
        #expect(unlocked.status == 0, "\(unlocked.stdout)\(unlocked.stderr)")
        #expect(try await b.apply().status == 0)
        #expect(fleetLock.holders("workers") == ["node-b"])

        try write(a, server, release, lock: Self.lock(fleetLock), id: "node-a", reboot: "auto")
        // healthcheck, which would reboot out of a rolled-back release too, does not without a slot.
        let probed = try await a.healthcheck()
        #expect(probed.status == 1, "\(probed.stdout)\(probed.stderr)")
        #expect(probed.stderr.contains("fleet_lock has no reboot slot for the reboot into it"), "\(probed.stderr)")
        #expect(a.marker("booted") == "b", "not rebooted without a slot")
        let deferred = try await a.apply()
        #expect(deferred.status == 3, "\(deferred.stdout)\(deferred.stderr)")
        #expect(deferred.stdout.contains("no reboot slot for the reboot into slot a"), "\(deferred.stdout)")
        #expect(a.marker("booted") == "b", "not rebooted without a slot")

        #expect(try await b.healthcheck().status == 0)
        #expect(fleetLock.holders("workers") == [])
        let finished = try await a.apply()
        #expect(finished.status == 0, "\(finished.stdout)\(finished.stderr)")
        #expect(finished.stdout.contains("rebooting into slot a"), "\(finished.stdout)")
        #expect(a.marker("booted") == "a")
        #expect(fleetLock.holders("workers") == ["node-a"], "held across the reboot")
        server.set("/healthz-node-a", body: Data(), status: 200)
        #expect(try await a.healthcheck().status == 0)
        #expect(fleetLock.holders("workers") == [])
        await fleetLock.stop()
        await server.stop()
    }

    /// The steady-state requests the server received.
    func giveBacks(_ fleetLock: TestFleetLockServer) -> Int {
        fleetLock.requests.filter { $0.path.hasSuffix("/v1/steady-state") }.count
    }

    /// The server answers 500 to the first two give-backs (Airlock's lost compare-and-swap): the
    /// verification run tries again and the slot is back within that run. A server that keeps
    /// failing gets a bounded number of tries, and the next run gives the slot back.
    @Test func aGiveBackTheServerFailsIsTriedAgainInTheSameRun() async throws {
        let (server, release) = try await offered()
        let fleetLock = try await TestFleetLockServer(slots: 1)
        let a = try node(server, release, fleetLock, id: "node-a")
        #expect(try await a.apply().status == 0)
        let before = giveBacks(fleetLock)
        fleetLock.giveBackFailures = 2
        let verified = try await a.healthcheck()
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        #expect(fleetLock.holders("workers") == [], "\(verified.stdout)")
        #expect(giveBacks(fleetLock) - before == 3)
        #expect(verified.stdout.contains("release.fleet_lock"), "\(verified.stdout)")

        // Always failing: four tries, then the run ends; the next run gives it back.
        let b = try node(server, release, fleetLock, id: "node-b")
        #expect(try await b.apply().status == 0)
        fleetLock.giveBackFailures = 100
        let start = giveBacks(fleetLock)
        let failing = try await b.healthcheck()
        #expect(failing.status == 0, "committed all the same: \(failing.stdout)\(failing.stderr)")
        #expect(failing.stdout.contains("not given back now"), "\(failing.stdout)")
        #expect(giveBacks(fleetLock) - start == 4)
        #expect(fleetLock.holders("workers") == ["node-b"])
        fleetLock.giveBackFailures = 0
        #expect(try await b.healthcheck().status == 0)
        #expect(fleetLock.holders("workers") == [])
        await fleetLock.stop()
        await server.stop()
    }

    /// `updatectl agent` on `node` until its first event named `event`, on a virtual clock.
    func agent(_ node: TestNode, until event: String) async throws -> (CLI.Result, [Substring]) {
        let result = try await CLI.runAsync(
            ["agent", node.policyPath],
            environment: node.environment.merging(["UPDATECTL_TEST_NOW": "2026-01-05T02:00:00Z", "UPDATECTL_TEST_AGENT_UNTIL": event]) {
                $1
            })
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        return (result, result.stdout.split(separator: "\n").filter { $0.hasPrefix("agent event: ") }.map { $0.dropFirst(13) })
    }

    /// `updatectl agent`: the verification run's tries all fail, and so do the next round's; the
    /// agent tries again `retry_every` later, before its next update check, and gets it back.
    @Test func theAgentGivesBackOnItsNextRoundsBeforeAnythingElse() async throws {
        let (server, release) = try await offered()
        let fleetLock = try await TestFleetLockServer(slots: 1)
        let a = try node(server, release, fleetLock, id: "node-a")
        fleetLock.giveBackFailures = 8
        let (result, events) = try await agent(a, until: "up_to_date")
        #expect(
            events == [
                "probed", "activated", "waiting", "committed", "give_back_failed", "waiting", "gave_back", "waiting", "up_to_date",
            ],
            "\(result.stdout)")
        #expect(result.stdout.contains("not given back now"), "\(result.stdout)")
        #expect(result.stdout.contains("trying again in 1m"), "\(result.stdout)")
        #expect(fleetLock.holders("workers") == [])
        #expect(fleetLock.giveBackFailures == 0)
        await fleetLock.stop()
        await server.stop()
    }

    /// The agent rolls back and reboots: the slot is still its own when the agent stops there,
    /// and its first round after the reboot gives it back.
    @Test func theAgentHoldsTheSlotAcrossItsRollbacksReboot() async throws {
        let (server, release) = try await offered()
        let fleetLock = try await TestFleetLockServer(slots: 1)
        let a = try node(server, release, fleetLock, id: "node-a"), b = try node(server, release, fleetLock, id: "node-b")
        server.set("/healthz-node-a", body: Data(), status: 503)
        let (rolled, events) = try await agent(a, until: "rolled_back")
        #expect(events == ["probed", "activated", "waiting", "rolled_back"], "\(rolled.stdout)")
        #expect(a.marker("booted") == "a", "rebooted into the previous slot")
        #expect(fleetLock.holders("workers") == ["node-a"])
        #expect(try await b.apply().status == 3)
        server.set("/healthz-node-a", body: Data(), status: 200)
        let (steady, _) = try await agent(a, until: "probed")
        #expect(steady.stdout.contains("release.fleet_lock"), "\(steady.stdout)")
        #expect(fleetLock.holders("workers") == [])
        #expect(try await b.apply().status == 0)
        await fleetLock.stop()
        await server.stop()
    }

    /// `max_attempts: 1` and a lock that has no slot at the first run: the release stays staged,
    /// and the second run, granted, activates it (the deferral spent no attempt).
    @Test func aLockDeferralSpendsNoAttempt() async throws {
        let (server, release) = try await offered()
        let fleetLock = try await TestFleetLockServer(slots: 1)
        let a = try node(server, release, fleetLock, id: "node-a", preflight: "    - max_attempts: 1\n")
        fleetLock.failure = TestFleetLockServer.error(409, "failed_lock_semaphore_full", "semaphore currently full")
        let deferred = try await a.apply()
        #expect(deferred.status == 3, "\(deferred.stdout)\(deferred.stderr)")
        #expect(try a.state()["phase"] as? String == "staged")
        fleetLock.failure = nil
        let granted = try await a.apply()
        #expect(granted.status == 0, "\(granted.stdout)\(granted.stderr)")
        #expect(a.marker("booted") == "b")
        #expect(try a.state()["attempt_count"] as? Int == 1)
        await fleetLock.stop()
        await server.stop()
    }
}
