import Foundation
import Testing

@testable import UpdateAgent

/// Nodes (separate state, slots and identities on one machine) coordinating their reboots through
/// a real etcd, with the real binary, in Airlock's layout.
@Suite(.serialized) struct FleetEtcdTests {
    static let available = TestEtcd.available

    /// A fleet of `ids` offered 1.1.0 by one server, each node's policy taking a slot of group
    /// `workers` from `etcd`.
    struct Fleet {
        let server: TestServer
        let release: ReleaseFixture
        let etcd: TestEtcd
        var nodes: [String: TestNode] = [:]

        func stop() async {
            etcd.stop()
            await server.stop()
        }

        var key: String { TestEtcd.semaphoreKey(group: "workers") }

        /// The semaphore as etcd holds it.
        func semaphore() throws -> [String: Any] {
            let text = try #require(try etcd.value(key), "the semaphore does not exist")
            return try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        }

        func holders() throws -> [String] { try semaphore()["holders"] as? [String] ?? [] }
    }

    static func fleet(
        _ ids: [String], slots: Int = 1, endpoints: ((TestEtcd) -> String)? = nil, tls: Bool = false,
        extraGate: String = ""
    ) async throws -> Fleet {
        let server = try await TestServer()
        let release = ReleaseFixture()
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(3000))
        let etcd = try TestEtcd(tls: tls)
        var fleet = Fleet(server: server, release: release, etcd: etcd)
        for id in ids {
            let node = try TestNode()
            let list = endpoints?(etcd) ?? "[\"\(etcd.endpoint)\"]"
            try node.writePolicy(
                server: server.base, publicKey: release.publicKeyText,
                preflight: "    - free_space: {headroom: 10%}\n"
                    + "    - fleet_lock: {engine: etcd, endpoints: \(list), group: workers, slots: \(slots), id: \(id), "
                    + "timeout: 10s\(extraGate)}\n")
            fleet.nodes[id] = node
        }
        return fleet
    }

    /// N=1, two nodes applying at once: exactly one activates, the other defers naming the holder
    /// with the release staged; once the first commits (and gives its slot back), the second goes
    /// on from its staged release without downloading again.
    @Test(.enabled(if: available))
    func oneSlotTwoNodesTakeTurns() async throws {
        let fleet = try await Self.fleet(["node-a", "node-b"])
        let a = try #require(fleet.nodes["node-a"]), b = try #require(fleet.nodes["node-b"])
        let (pathA, envA, pathB, envB) = (a.policyPath, a.environment, b.policyPath, b.environment)
        async let first = CLI.runAsync(["apply", pathA], environment: envA)
        async let second = CLI.runAsync(["apply", pathB], environment: envB)
        let results = [("node-a", try await first), ("node-b", try await second)]
        let activated = results.filter { $0.1.status == 0 }
        let deferred = results.filter { $0.1.status == 3 }
        #expect(activated.count == 1 && deferred.count == 1, "\(results.map { "\($0.0): \($0.1.status) \($0.1.stdout)" })")
        let winner = try #require(activated.first?.0), loser = try #require(deferred.first)
        #expect(loser.1.stdout.contains("the 1 reboot slot of group workers is held, by \(winner)"), "\(loser.1.stdout)")
        #expect(try fleet.holders() == [winner])
        let waiting = try #require(fleet.nodes[loser.0])
        #expect(try waiting.state()["phase"] as? String == "staged")
        #expect(waiting.marker("next") == "a", "the loser activated nothing")
        #expect(waiting.marker("booted") == "a")

        // The loser asks again while the winner is still verifying: still no slot.
        let again = try await waiting.apply()
        #expect(again.status == 3)
        #expect(again.stdout.contains("is staged already"), "\(again.stdout)")

        // The winner (rebooted by the directory backend) verifies, commits and gives its slot back.
        let verified = try await fleet.nodes[winner]!.healthcheck()
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        #expect(verified.stdout.contains("release.fleet_lock"), "\(verified.stdout)")
        #expect(try fleet.holders() == [])

        let turn = try await waiting.apply()
        #expect(turn.status == 0, "\(turn.stdout)\(turn.stderr)")
        #expect(turn.stdout.contains("download.files") && turn.stdout.contains("is staged already"), "\(turn.stdout)")
        #expect(try fleet.holders() == [loser.0])
        #expect(waiting.marker("booted") == "b")
        await fleet.stop()
    }

    /// A holder that crashed after its commit but before it gave its slot back (killed where the
    /// release would start): its next run finds no update in flight and gives the slot back
    /// first (FleetLock's initialization rule), so the group is not blocked forever.
    @Test(.enabled(if: available))
    func aHolderThatCrashedGivesItsSlotBackWhenItRunsAgain() async throws {
        let fleet = try await Self.fleet(["node-a", "node-b"])
        let a = try #require(fleet.nodes["node-a"]), b = try #require(fleet.nodes["node-b"])
        #expect(try await a.apply().status == 0)
        let crashed = try BackgroundProcess(
            ["healthcheck", a.policyPath],
            environment: a.environment.merging(["UPDATECTL_TEST_PAUSE": "healthcheck.release"]) { $1 })
        #expect(await crashed.reached("paused at healthcheck.release"), "\(crashed.stderr)")
        crashed.kill()
        #expect(try a.state()["phase"] as? String == "success")
        #expect(try fleet.holders() == ["node-a"], "killed before giving it back")
        #expect(try await b.apply().status == 3, "node-b waits for node-a's slot")
        // A dry run reads the semaphore and says what a real run would give back, changing nothing.
        let preview = try await CLI.runAsync(["apply", "--dry-run", a.policyPath], environment: a.environment)
        #expect(
            preview.stdout.contains("initialize.fleet_lock            skip  dry run: would give back node-a's slot of group workers"),
            "\(preview.stdout)")
        let other = try await CLI.runAsync(["apply", "--dry-run", b.policyPath], environment: b.environment)
        #expect(other.stdout.contains("skip  1.1.0 is staged: a slot taken for it is kept"), "\(other.stdout)")
        #expect(other.stdout.contains("block dry run: the 1 reboot slot of group workers is held, by node-a"), "\(other.stdout)")
        #expect(try fleet.holders() == ["node-a"])
        // node-a's timer runs again: up to date, and its slot goes back first.
        let restarted = try await a.apply()
        #expect(restarted.status == 0, "\(restarted.stdout)\(restarted.stderr)")
        #expect(
            restarted.stdout.contains("initialize.fleet_lock") && restarted.stdout.contains("gave back node-a's reboot slot"),
            "\(restarted.stdout)")
        #expect(try fleet.holders() == [])
        #expect(try await b.apply().status == 0)
        await fleet.stop()
    }

    /// etcd unreachable (a port nothing listens on): the run defers with the release staged; the
    /// node is never activated or rebooted without the lock.
    @Test(.enabled(if: available))
    func anUnreachableEtcdDefersAndNeverReboots() async throws {
        let closed = try Consumers.freePort()
        let fleet = try await Self.fleet(["node-a"], endpoints: { _ in "[\"http://127.0.0.1:\(closed)\"]" })
        let a = try #require(fleet.nodes["node-a"])
        let result = try await a.apply()
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("the fleet lock did not answer"), "\(result.stdout)")
        #expect(result.stdout.contains("127.0.0.1:\(closed)"))
        #expect(try a.state()["phase"] as? String == "staged")
        #expect(a.marker("next") == "a" && a.marker("booted") == "a")
        // --force does not take the lock away; --skip-fleet-lock does, and says so.
        let forced = try await a.apply(["--force"])
        #expect(forced.status == 3)
        let skipped = try await a.apply(["--skip-fleet-lock"])
        #expect(skipped.status == 0, "\(skipped.stdout)\(skipped.stderr)")
        #expect(skipped.stdout.contains("skipped by --skip-fleet-lock"))
        await fleet.stop()
    }

    /// The first endpoint is down: the second is asked.
    @Test(.enabled(if: available))
    func endpointsAreTriedInTurn() async throws {
        let closed = try Consumers.freePort()
        let fleet = try await Self.fleet(["node-a"], endpoints: { etcd in "[\"http://127.0.0.1:\(closed)\", \"\(etcd.endpoint)\"]" })
        let result = try await fleet.nodes["node-a"]!.apply()
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(try fleet.holders() == ["node-a"])
        await fleet.stop()
    }

    /// Three slots, four nodes at once: exactly three hold one, never more, whatever order the
    /// compare-and-swaps land in; the stored value is sorted, as Airlock keeps it.
    @Test(.enabled(if: available))
    func concurrentNodesNeverOverbook() async throws {
        let ids = ["node-d", "node-b", "node-a", "node-c"]
        let fleet = try await Self.fleet(ids, slots: 3)
        let results = try await withThrowingTaskGroup(of: (String, CLI.Result).self) { group in
            for id in ids {
                let (path, environment) = (fleet.nodes[id]!.policyPath, fleet.nodes[id]!.environment)
                group.addTask { (id, try await CLI.runAsync(["apply", path], environment: environment)) }
            }
            var out: [(String, CLI.Result)] = []
            for try await result in group { out.append(result) }
            return out
        }
        let winners = results.filter { $0.1.status == 0 }.map(\.0).sorted()
        #expect(winners.count == 3, "\(results.map { "\($0.0): \($0.1.status) \($0.1.stdout.suffix(300))" })")
        #expect(results.filter { $0.1.status == 3 }.count == 1)
        #expect(try fleet.holders() == winners)
        #expect(try fleet.semaphore()["total_slots"] as? Int == 3)
        await fleet.stop()
    }

    /// `fleet status` shows the semaphore and this node; `fleet unlock` gives back another
    /// node's slot by compare-and-swap, and refuses this node's own while its update is in flight.
    @Test(.enabled(if: available))
    func fleetStatusAndUnlock() async throws {
        let fleet = try await Self.fleet(["node-a", "node-b"])
        let a = try #require(fleet.nodes["node-a"]), b = try #require(fleet.nodes["node-b"])
        let empty = try await CLI.runAsync(["fleet", "status", b.policyPath], environment: b.environment)
        #expect(empty.status == 0, "\(empty.stdout)\(empty.stderr)")
        #expect(empty.stdout.contains("the semaphore does not exist yet"), "\(empty.stdout)")
        #expect(try await a.apply().status == 0)
        let status = try await CLI.runAsync(["fleet", "status", b.policyPath], environment: b.environment)
        #expect(status.stdout.contains("slots      1 of 1 held"), "\(status.stdout)")
        #expect(status.stdout.contains("holders    node-a"))
        #expect(status.stdout.contains("this node  node-b"))
        let json = try await CLI.runAsync(["fleet", "status", "--json", a.policyPath], environment: a.environment)
        let object = try #require((try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])?.first)
        #expect((object["semaphore"] as? [String: Any])?["holders"] as? [String] == ["node-a"])
        #expect((object["recorded"] as? [String: Any])?["detail"] as? String != nil, "node-a recorded its slot")

        // node-a is mid-update (activated, not yet verified): its own slot needs --force.
        let refused = try await CLI.runAsync(["fleet", "unlock", "node-a", a.policyPath], environment: a.environment)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("node-a is this node, and its update to 1.1.0 is activated"), "\(refused.stderr)")
        #expect(try fleet.holders() == ["node-a"])
        // From node-b, node-a is just a holder: given back.
        let unlocked = try await CLI.runAsync(["fleet", "unlock", "node-a", b.policyPath], environment: b.environment)
        #expect(unlocked.status == 0, "\(unlocked.stdout)\(unlocked.stderr)")
        #expect(unlocked.stdout.contains("gave back node-a's reboot slot of group workers"))
        #expect(try fleet.holders() == [])
        let none = try await CLI.runAsync(["fleet", "unlock", "node-z", b.policyPath], environment: b.environment)
        #expect(none.status == 0 && none.stdout.contains("node-z holds no slot"), "\(none.stdout)")
        await fleet.stop()
    }

    /// A concurrent writer changes the semaphore between updatectl's read and its write: the
    /// compare-and-swap fails, updatectl reads again and decides on what is there now, never
    /// writing over the other writer's holder.
    @Test(.enabled(if: available))
    func aWriteBetweenReadAndSwapIsNeverOverwritten() async throws {
        let fleet = try await Self.fleet(["node-a"])
        let etcd = fleet.etcd
        // An existing semaphore with one free slot of two.
        try etcd.put(fleet.key, #"{"total_slots":2,"holders":[]}"#)
        // A transport that, before the first swap, lets another node take the last free slot
        // but one (etcdctl, a separate client).
        let racing = RacingTransport { try etcd.put(fleet.key, #"{"total_slots":2,"holders":["node-x"]}"#) }
        var answer = EtcdSemaphoreProbe.lock(endpoint: etcd.endpoint, group: "workers", id: "node-a", transport: racing)
        #expect(answer.contains("took a reboot slot"), "\(answer)")
        #expect(racing.swaps == 2, "the first swap lost, the second won")
        #expect(try fleet.holders() == ["node-a", "node-x"])
        // Full now: a third node is refused, naming both holders, and nothing is written.
        let third = RacingTransport { try etcd.put(fleet.key, #"{"total_slots":2,"holders":["node-a","node-x"]}"#) }
        answer = EtcdSemaphoreProbe.lock(endpoint: etcd.endpoint, group: "workers", id: "node-y", transport: third)
        #expect(answer.contains("all 2 reboot slots of group workers are held, by node-a, node-x"), "\(answer)")
        #expect(third.swaps == 0)
        #expect(try fleet.holders() == ["node-a", "node-x"])
        await fleet.stop()
    }

    /// A value that is not exactly Airlock's layout (a key besides its two, a key twice, a
    /// total_slots written as a fraction or with an exponent) defers the run and stays as it is,
    /// byte for byte, with a free slot and all.
    @Test(.enabled(if: available))
    func aValueThatIsNotExactlyAirlocksLayoutIsNeverOverwritten() async throws {
        let fleet = try await Self.fleet(["node-a"], slots: 2)
        let node = try #require(fleet.nodes["node-a"])
        let values = [
            (#"{"total_slots":2,"holders":[],"extra":1}"#, #"has a key "extra" besides total_slots and holders"#),
            (#"{"total_slots":2,"holders":["x"],"total_slots":5}"#, "has total_slots twice"),
            (#"{"total_slots":2.0,"holders":[]}"#, "has a total_slots that is not a non-negative integer written as an integer"),
            (#"{"total_slots":1e0,"holders":[]}"#, "has a total_slots that is not a non-negative integer written as an integer"),
        ]
        for (value, what) in values {
            try fleet.etcd.put(fleet.key, value)
            let result = try await node.apply()
            #expect(result.status == 3, "\(value): \(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("\(what): not Airlock's layout; fix or delete the key"), "\(result.stdout)")
            #expect(try fleet.etcd.value(fleet.key) == value)
            #expect(try node.state()["phase"] as? String == "staged")
        }
        await fleet.stop()
    }

    /// The semaphore deleted and created again between a node's read and its swap (an operator
    /// who deleted a broken key; another node that created it anew, full): its `version` is back
    /// where the node read it, but the swap compares `mod_revision`, so it fails; the node reads
    /// again and is refused the slot the new semaphore gives to someone else. An HTTP proxy in
    /// front of etcd holds the node's swap while etcdctl deletes and creates the key.
    @Test(.enabled(if: available))
    func aSemaphoreCreatedAgainBetweenReadAndSwapIsReadAgain() async throws {
        let proxy = try await EtcdProxy()
        let fleet = try await Self.fleet(
            ["node-a"],
            endpoints: { etcd in
                proxy.target = etcd.endpoint
                return "[\"\(proxy.server.base)\"]"
            })
        let etcd = fleet.etcd, key = fleet.key
        try etcd.put(key, #"{"total_slots":1,"holders":[]}"#)
        #expect(try etcd.version(key) == 1)
        proxy.beforeFirstSwap = {
            _ = try etcd.etcdctl(["del", key])
            _ = try etcd.etcdctl(["put", key, #"{"total_slots":1,"holders":["node-x"]}"#])
        }
        let a = try #require(fleet.nodes["node-a"])
        let result = try await a.apply()
        #expect(proxy.swaps >= 1, "the node's swap went through the proxy")
        #expect(try etcd.version(key) == 1, "created again: the version the node read")
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("the 1 reboot slot of group workers is held, by node-x"), "\(result.stdout)")
        #expect(try fleet.holders() == ["node-x"], "node-x's grant is not erased")
        #expect(a.marker("next") == "a", "nothing activated")
        await proxy.stop()
        await fleet.stop()
    }

    /// A gate's `timeout` bounds the whole gate, however many endpoints hang: six endpoints that
    /// accept a connection and never answer, `timeout: 2s`. Asking each for 2 s in turn would take
    /// 12 s per operation, 24 s for the run's give-back and take; the run ends well before that,
    /// and says which endpoints were not asked.
    @Test func aGatesTimeoutBoundsAllItsEndpointsTogether() async throws {
        let (server, release) = (try await TestServer(), ReleaseFixture())
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(3000))
        let hung = try (0..<6).map { _ in try LoopbackListener() }
        defer { hung.forEach { $0.stop() } }
        let node = try TestNode()
        let endpoints = hung.map { "\"http://127.0.0.1:\($0.port)\"" }.joined(separator: ", ")
        try node.writePolicy(
            server: server.base, publicKey: release.publicKeyText,
            preflight: "    - fleet_lock: {engine: etcd, endpoints: [\(endpoints)], id: node-a, timeout: 2s}\n")
        let started = ContinuousClock.now
        let result = try await node.apply()
        let took = ContinuousClock.now - started
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("not asked, the gate's timeout of 2s was spent"), "\(result.stdout)")
        #expect(took < .seconds(16), "took \(took); each endpoint in turn would take 24 s")
        #expect(try node.state()["phase"] as? String == "staged")
        await server.stop()
    }

    /// What updatectl stores is byte for byte what Go's encoding/json makes of Airlock's struct
    /// (compiled here with Debian's Go), including ids Go escapes.
    @Test(.enabled(if: available && GoAgent.go != nil))
    func theStoredValueIsAirlocksLayoutByteForByte() async throws {
        let ids = ["node-b", "node<&>", "node-a", "Node-C"]
        let fleet = try await Self.fleet(ids, slots: 5)
        for id in ids {
            let result = try await fleet.nodes[id]!.apply()
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        }
        let stored = try #require(try fleet.etcd.value(fleet.key))
        let go = try GoSemaphore.marshal(totalSlots: 5, holders: ids.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        #expect(stored == go, "updatectl stored \(stored), Go writes \(go)")
        #expect(stored.contains("node\\u003c\\u0026\\u003e"))
        await fleet.stop()
    }

    /// etcd that asks for client certificates: with the policy's ca_file, cert_file and key_file
    /// the slot is taken; without the client certificate the run defers and says why.
    @Test(.enabled(if: available && TestEtcd.openssl != nil))
    func clientCertificatesReachATLSEtcd() async throws {
        let server = try await TestServer()
        let release = ReleaseFixture()
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(3000))
        let etcd = try TestEtcd(tls: true)
        defer { etcd.stop() }
        let node = try TestNode()
        func write(certificates: Bool) throws {
            try node.writePolicy(
                server: server.base, publicKey: release.publicKeyText,
                preflight: "    - fleet_lock: {engine: etcd, endpoints: [\"\(etcd.endpoint)\"], id: node-a, ca_file: \(etcd.caFile)"
                    + (certificates ? ", cert_file: \(etcd.clientCert), key_file: \(etcd.clientKey)" : "") + "}\n")
        }
        try write(certificates: false)
        let refused = try await node.apply()
        #expect(refused.status == 3, "\(refused.stdout)\(refused.stderr)")
        #expect(try node.state()["phase"] as? String == "staged")
        try write(certificates: true)
        let granted = try await node.apply()
        #expect(granted.status == 0, "\(granted.stdout)\(granted.stderr)")
        #expect(try etcd.value(TestEtcd.semaphoreKey(group: "default")) == #"{"total_slots":1,"holders":["node-a"]}"#)
        await server.stop()
    }
}

/// Go's `json.Marshal` of Airlock's semaphore struct (its field names and tags; the program is
/// written here, not copied).
enum GoSemaphore {
    static func marshal(totalSlots: Int, holders: [String]) throws -> String {
        let go = try #require(GoAgent.go)
        let directory = try TemporaryDirectory()
        try directory.write(
            "main.go",
            """
            package main

            import (
            \t"encoding/json"
            \t"os"
            )

            type Semaphore struct {
            \tTotalSlots uint64   `json:"total_slots"`
            \tHolders    []string `json:"holders"`
            }

            func main() {
            \tvar holders []string
            \tif err := json.Unmarshal([]byte(os.Args[2]), &holders); err != nil {
            \t\tpanic(err)
            \t}
            \tvar slots uint64
            \tif err := json.Unmarshal([]byte(os.Args[1]), &slots); err != nil {
            \t\tpanic(err)
            \t}
            \tout, err := json.Marshal(Semaphore{slots, holders})
            \tif err != nil {
            \t\tpanic(err)
            \t}
            \tos.Stdout.Write(out)
            }

            """)
        let home = directory.url.path
        let holdersJSON = String(decoding: try JSONSerialization.data(withJSONObject: holders), as: UTF8.self)
        let result = try CLI.runProgram(
            go, ["run", "main.go", String(totalSlots), holdersJSON],
            environment: [
                "HOME": home, "GOPATH": home + "/gopath", "GOCACHE": home + "/cache", "GOPROXY": "off", "GO111MODULE": "off",
                "CGO_ENABLED": "0",
            ], directory: directory.url)
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout
    }
}

/// A transport to a real etcd that lets another writer in just before its first swap (a
/// `/v3/kv/txn` that does not create the key), and counts the swaps.
final class RacingTransport: Transport, @unchecked Sendable {
    private let real = CurlTransport()
    private let race: () throws -> Void
    private let lock = NSLock()
    private var raced = false
    private var count = 0

    init(race: @escaping () throws -> Void) { self.race = race }

    var swaps: Int { lock.withLock { count } }

    func get(_ request: TransportRequest, onData: (UnsafeRawBufferPointer) throws -> Void) throws -> TransportResponse {
        if request.url.hasSuffix("/v3/kv/txn"), let body = request.body, !EtcdProxy.creates(String(decoding: body, as: UTF8.self)) {
            let first = lock.withLock {
                count += 1
                defer { raced = true }
                return !raced
            }
            if first { try race() }
        }
        return try real.get(request, onData: onData)
    }
}

/// An HTTP proxy in front of a real etcd (updatectl's own client forwards each request) that runs
/// `beforeFirstSwap` before it forwards the first compare-and-swap of an existing key, and counts
/// those swaps.
final class EtcdProxy: @unchecked Sendable {
    let server: TestServer
    private let lock = NSLock()
    private var upstream = ""
    private var hook: (@Sendable () throws -> Void)?
    private var count = 0

    var target: String {
        get { lock.withLock { upstream } }
        set { lock.withLock { upstream = newValue } }
    }
    var beforeFirstSwap: (@Sendable () throws -> Void)? {
        get { lock.withLock { hook } }
        set { lock.withLock { hook = newValue } }
    }
    var swaps: Int { lock.withLock { count } }

    /// A transaction that creates the key (compares it with absent), as opposed to a swap.
    static func creates(_ body: String) -> Bool { body.contains(#""version":"0""#) || body.contains(#""mod_revision":"0""#) }

    init() async throws {
        server = try await TestServer()
        server.handleEverything { [self] request in
            if request.path == "/v3/kv/txn", !Self.creates(String(decoding: request.body, as: UTF8.self)) {
                let race = lock.withLock {
                    count += 1
                    defer { hook = nil }
                    return hook
                }
                try? race?()
            }
            let forwarded = TransportRequest(
                url: target + request.path, maxBytes: 1 << 20, timeout: .seconds(30), method: request.method,
                headers: ["Content-Type: application/json"], body: Array(request.body))
            guard let (response, body) = try? CurlTransport().fetch(forwarded) else { return TestServer.Answer(status: 502) }
            return TestServer.Answer(status: response.status, body: Data(body), headers: ["Content-Type": "application/json"])
        }
    }

    func stop() async { await server.stop() }
}

/// One lock request through updatectl's etcd engine, in process.
enum EtcdSemaphoreProbe {
    static func lock(endpoint: String, group: String, id: String, transport: any Transport) -> String {
        let spec = FleetEngineSpec(engine: .etcd, urls: [endpoint], group: group, slots: 1, tls: TLSFiles(), timeout: .seconds(10))
        switch RealFleetEngines(transport: transport).engine(spec).lock(id: id) {
        case .done(let detail): return detail
        case .refused(let reason): return "refused: " + reason
        case .unreachable(let reason): return "unreachable: " + reason
        }
    }
}

@Suite struct FleetIdentityTests {
    static let systemdID128 = TestComponents.program("systemd-id128")

    /// Without `id`, a node is known by the id systemd derives from /etc/machine-id for
    /// updatectl's application id: `fleet status` says the same as systemd-id128 here.
    @Test(.enabled(if: systemdID128 != nil && FileManager.default.fileExists(atPath: "/etc/machine-id")))
    func theDefaultIdentityIsSystemdsApplicationSpecificID() throws {
        let systemd = try CLI.runProgram(
            try #require(Self.systemdID128),
            ["machine-id", "--app-specific=\(FleetIdentity.applicationID)"])
        #expect(systemd.status == 0, "\(systemd.stderr)")
        let expected = systemd.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(expected.count == 32)
        let directory = try TemporaryDirectory()
        try directory.write(
            "policy.yaml",
            """
            updates:
              server: https://u.example.com
              public_key: ed25519:Hn1+J4gUuOPxSNmoJfiFmdZ3Rvb4vnwYrH7s+dqvFiU=
              data_dir: \(directory.url.path)/data
              preflight:
                - fleet_lock: {engine: fleetlock, url: "http://127.0.0.1:9/"}

            """)
        let status = try CLI.run(["fleet", "status", directory.url.appendingPathComponent("policy.yaml").path])
        #expect(status.stdout.contains("this node  \(expected)\n"), "\(status.stdout)\(status.stderr)")
    }
}
