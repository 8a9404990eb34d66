import Foundation
import Testing

/// A FleetLock server built for the tests from Zincati's protocol document
/// (docs/development/fleetlock/protocol.md): a counting semaphore per group with recursive,
/// owned locks; `POST <base>/v1/pre-reboot` and `POST <base>/v1/steady-state`; the
/// `fleet-lock-protocol: true` header; `{"client_params": {"id", "group"}}`; errors as
/// `{"kind", "value"}` with a 4xx or 5xx status.
final class TestFleetLockServer: @unchecked Sendable {
    let server: TestServer
    let prefix: String
    let slots: Int
    private let lock = NSLock()
    private var holders: [String: [String]] = [:]
    private var seen: [TestServer.Request] = []
    /// When set, every request gets this answer instead (an error the test scripts).
    var failure: TestServer.Answer? {
        get { lock.withLock { scripted } }
        set { lock.withLock { scripted = newValue } }
    }
    private var scripted: TestServer.Answer?
    /// Answers each request instead, given its operation and the server's own answer to compute
    /// (outside the server's lock): a test that holds a request back until other nodes have got
    /// somewhere.
    var around: (@Sendable (String, TestServer.Request, () -> TestServer.Answer) -> TestServer.Answer)? {
        get { lock.withLock { hook } }
        set { lock.withLock { hook = newValue } }
    }
    private var hook: (@Sendable (String, TestServer.Request, () -> TestServer.Answer) -> TestServer.Answer)?
    /// The next this many give-backs of a slot that is held are answered 500, as Airlock answers
    /// when its own compare-and-swap loses to another node's.
    var giveBackFailures: Int {
        get { lock.withLock { failingGiveBacks } }
        set { lock.withLock { failingGiveBacks = newValue } }
    }
    private var failingGiveBacks = 0

    var base: String { server.base + prefix }
    var requests: [TestServer.Request] { lock.withLock { seen } }

    init(slots: Int, prefix: String = "/fleet_lock") async throws {
        server = try await TestServer()
        self.prefix = prefix
        self.slots = slots
        for operation in ["pre-reboot", "steady-state"] {
            server.handle(prefix + "/v1/" + operation) { [self] request in
                guard let around else { return answer(operation, request) }
                return around(operation, request) { answer(operation, request) }
            }
        }
    }

    func holders(_ group: String) -> [String] { lock.withLock { holders[group] ?? [] } }

    static func error(_ status: Int, _ kind: String, _ value: String) -> TestServer.Answer {
        TestServer.Answer(
            status: status, body: Data(#"{"kind":"\#(kind)","value":"\#(value)"}"#.utf8),
            headers: ["Content-Type": "application/json"])
    }

    private func answer(_ operation: String, _ request: TestServer.Request) -> TestServer.Answer {
        lock.withLock {
            seen.append(request)
            if let scripted { return scripted }
            guard request.method == "POST" else { return Self.error(405, "invalid_method", "POST only") }
            guard request.headers["fleet-lock-protocol"] == "true" else {
                return Self.error(400, "missing_header", "the fleet-lock-protocol header is missing")
            }
            guard let body = try? JSONSerialization.jsonObject(with: request.body) as? [String: Any],
                let params = body["client_params"] as? [String: Any], let id = params["id"] as? String, !id.isEmpty,
                let group = params["group"] as? String, group.range(of: "^[a-zA-Z0-9.-]+$", options: .regularExpression) != nil
            else {
                return Self.error(400, "invalid_client_identity", "client_params must carry a non-empty id and a valid group")
            }
            var held = holders[group] ?? []
            if operation == "pre-reboot" {
                if !held.contains(id) {
                    guard held.count < slots else {
                        return Self.error(409, "failed_lock_semaphore_full", "semaphore currently full, all slots are locked already")
                    }
                    held.append(id)
                }
            } else {
                if held.contains(id), failingGiveBacks > 0 {
                    failingGiveBacks -= 1
                    return Self.error(500, "failed_unlock", "unlock failed: the semaphore changed meanwhile")
                }
                held.removeAll { $0 == id }
            }
            holders[group] = held
            return TestServer.Answer(status: 200)
        }
    }

    func stop() async { await server.stop() }
}

@Suite(.serialized) struct FleetLockProtocolTests {
    func node(_ server: TestServer, _ release: ReleaseFixture, fleetLock: String, id: String) throws -> TestNode {
        let node = try TestNode()
        try node.writePolicy(
            server: server.base, publicKey: release.publicKeyText,
            preflight: "    - fleet_lock: {engine: fleetlock, url: \"\(fleetLock)\", group: workers, id: \(id)}\n")
        return node
    }

    func offered() async throws -> (TestServer, ReleaseFixture) {
        let server = try await TestServer()
        let release = ReleaseFixture()
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(3000))
        return (server, release)
    }

    /// The exact requests: the initialization's steady-state at the start of apply, the
    /// pre-reboot before activation, the steady-state after the committing verification; each a
    /// POST with the header and the body the protocol names, nothing else.
    @Test func theRequestsAreTheProtocols() async throws {
        let (server, release) = try await offered()
        let fleetLock = try await TestFleetLockServer(slots: 1)
        let node = try node(server, release, fleetLock: fleetLock.base + "/", id: "c988d2509fdf5cdcbed39037c56406fb")
        let applied = try await node.apply()
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(fleetLock.holders("workers") == ["c988d2509fdf5cdcbed39037c56406fb"])
        let verified = try await node.healthcheck()
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        #expect(fleetLock.holders("workers") == [])
        let requests = fleetLock.requests
        #expect(
            requests.map { "\($0.method) \($0.path)" } == [
                "POST /fleet_lock/v1/steady-state", "POST /fleet_lock/v1/pre-reboot", "POST /fleet_lock/v1/steady-state",
            ])
        for request in requests {
            #expect(request.headers["fleet-lock-protocol"] == "true")
            #expect(request.headers["content-type"] == "application/json")
            let body = try #require(JSONSerialization.jsonObject(with: request.body) as? [String: Any])
            #expect(Set(body.keys) == ["client_params"])
            let params = try #require(body["client_params"] as? [String: String])
            #expect(params == ["id": "c988d2509fdf5cdcbed39037c56406fb", "group": "workers"])
        }
        await fleetLock.stop()
        await server.stop()
    }

    /// Two nodes, one slot: the second is deferred with the server's own words and kind, its
    /// release staged; after the first commits it goes on.
    @Test func aFullSemaphoreDefersWithTheServersWords() async throws {
        let (server, release) = try await offered()
        let fleetLock = try await TestFleetLockServer(slots: 1)
        let a = try node(server, release, fleetLock: fleetLock.base, id: "node-a")
        let b = try node(server, release, fleetLock: fleetLock.base, id: "node-b")
        #expect(try await a.apply().status == 0)
        let deferred = try await b.apply()
        #expect(deferred.status == 3)
        #expect(
            deferred.stdout.contains(
                "answered HTTP 409: semaphore currently full, all slots are locked already (kind "
                    + "failed_lock_semaphore_full)"), "\(deferred.stdout)")
        #expect(try b.state()["phase"] as? String == "staged")
        #expect(b.marker("next") == "a")
        #expect(try await a.healthcheck().status == 0)
        #expect(try await b.apply().status == 0)
        #expect(fleetLock.holders("workers") == ["node-b"])
        await fleetLock.stop()
        await server.stop()
    }

    /// Every way a server can say no, and a server that is not there: each defers (exit 3), never
    /// activates, and says what the server said.
    @Test func everyErrorDefersAndIsReported() async throws {
        let (server, release) = try await offered()
        let fleetLock = try await TestFleetLockServer(slots: 1)
        let cases: [(TestServer.Answer, String)] = [
            (
                TestFleetLockServer.error(400, "invalid_client_identity", "failed to validate client identity"),
                "HTTP 400: failed to validate client identity (kind invalid_client_identity)"
            ),
            (
                TestFleetLockServer.error(400, "unknown_group", "unknown group \\\"workers\\\""),
                "HTTP 400: unknown group \"workers\" (kind unknown_group)"
            ),
            (
                TestFleetLockServer.error(500, "failed_lock", "all 1 semaphore slots currently locked"),
                "HTTP 500: all 1 semaphore slots currently locked (kind failed_lock)"
            ),
            (
                TestServer.Answer(status: 503, body: Data("upstream connect error\n".utf8)),
                "HTTP 503: not a FleetLock error: upstream connect error"
            ),
            (TestServer.Answer(status: 302, body: Data(), headers: ["Location": "/elsewhere"]), "HTTP 302"),
            (TestServer.Answer(status: 500, body: Data()), "HTTP 500: no error body"),
        ]
        for (answer, said) in cases {
            let node = try node(server, release, fleetLock: fleetLock.base, id: "node-a")
            fleetLock.failure = answer
            let result = try await node.apply()
            #expect(result.status == 3, "\(said): \(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains(said), "\(result.stdout)")
            #expect(node.marker("next") == "a", "nothing activated")
        }
        fleetLock.failure = nil
        await fleetLock.stop()
        let gone = try node(server, release, fleetLock: fleetLock.base, id: "node-a")
        let result = try await gone.apply()
        #expect(result.status == 3)
        #expect(result.stdout.contains("the fleet lock did not answer (POST \(fleetLock.base)/v1/pre-reboot:"), "\(result.stdout)")
        await server.stop()
    }

    /// Two fleet locks, asked in opposite orders by two nodes at once, each node granted its first
    /// and refused its second (each server holds a node's second request back until the other
    /// node's has arrived too, and answers neither before both answers are known): all or none, each node gives back the slot it was granted
    /// before it defers, so neither holds anything and the next run of either goes through, where
    /// holding and waiting would have left each waiting for the other for ever.
    @Test func severalFleetLocksAreTakenAllOrNone() async throws {
        let (server, release) = try await offered()
        let rack = try await TestFleetLockServer(slots: 1), site = try await TestFleetLockServer(slots: 1)
        func node(_ id: String, _ order: [(String, TestFleetLockServer)]) throws -> TestNode {
            let node = try TestNode()
            try node.writePolicy(
                server: server.base, publicKey: release.publicKeyText,
                preflight: order.map { name, lock in
                    "    - fleet_lock: {name: \(name), engine: fleetlock, url: \"\(lock.base)\", group: workers, id: \(id), "
                        + "timeout: 120s}\n"
                }.joined())
            return node
        }
        let a = try node("node-a", [("rack", rack), ("site", site)])
        let b = try node("node-b", [("site", site), ("rack", rack)])
        // Each node's second request waits at its server until the other's has arrived (both
        // nodes then hold their first slot), and is answered once both answers are known.
        let arrived = Meeting(count: 2), decided = Meeting(count: 2)
        func second(_ id: String) -> @Sendable (String, TestServer.Request, () -> TestServer.Answer) -> TestServer.Answer {
            { operation, request, answer in
                guard operation == "pre-reboot", String(decoding: request.body, as: UTF8.self).contains(id) else { return answer() }
                arrived.arrive()
                let answered = answer()
                decided.arrive()
                return answered
            }
        }
        rack.around = second("node-b")
        site.around = second("node-a")
        let (pathA, envA, pathB, envB) = (a.policyPath, a.environment, b.policyPath, b.environment)
        async let first = CLI.runAsync(["apply", pathA], environment: envA)
        async let second = CLI.runAsync(["apply", pathB], environment: envB)
        let (resultA, resultB) = (try await first, try await second)
        #expect(arrived.met && decided.met, "both nodes got their first slot and asked for their second at once")
        #expect(resultA.status == 3, "\(resultA.stdout)\(resultA.stderr)")
        #expect(resultB.status == 3, "\(resultB.stdout)\(resultB.stderr)")
        #expect(resultA.stdout.contains("all fleet locks or none: gave back the slot rack granted"), "\(resultA.stdout)")
        #expect(resultB.stdout.contains("all fleet locks or none: gave back the slot site granted"), "\(resultB.stdout)")
        #expect(rack.holders("workers") == [], "the deferred nodes hold nothing")
        #expect(site.holders("workers") == [])
        for deferred in [a, b] {
            #expect(try deferred.state()["phase"] as? String == "staged")
            #expect(deferred.marker("next") == "a", "nothing activated")
        }
        // No deadlock: the next run of either node takes both slots and activates.
        rack.around = nil
        site.around = nil
        let again = try await a.apply()
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(rack.holders("workers") == ["node-a"] && site.holders("workers") == ["node-a"])
        // node-b is refused its first lock now, and still holds nothing.
        #expect(try await b.apply().status == 3)
        #expect(rack.holders("workers") == ["node-a"] && site.holders("workers") == ["node-a"])
        await rack.stop()
        await site.stop()
        await server.stop()
    }

    /// `lint` warns about a second `fleet_lock` gate, once, at that gate, saying why.
    @Test func lintWarnsAboutASecondFleetLockAtIt() throws {
        let findings = try Self.lintFindings(second: "id: edge-1")
        let several = findings.filter { $0["rule"] as? String == "UPD419" }
        #expect(several.count == 1, "\(findings)")
        let finding = try #require(several.first)
        #expect(finding["severity"] as? String == "warning")
        #expect(finding["name"] as? String == "several-fleet-locks")
        #expect(finding["line"] as? Int == 6 && finding["column"] as? Int == 7, "at the second gate: \(finding)")
        #expect((finding["message"] as? String ?? "").contains("gives back the slots the others granted"), "\(finding)")
    }

    /// An `id` that is not printable ASCII is an error that says ASCII (the only ids a run sends).
    @Test func aFleetIdThatIsNotASCIIIsAnErrorThatSaysSo() throws {
        let findings = try Self.lintFindings(second: "id: édge-1")
        let id = try #require(findings.first { ($0["message"] as? String ?? "").contains("édge-1") }, "\(findings)")
        #expect(id["severity"] as? String == "error")
        #expect((id["message"] as? String ?? "").contains("printable ASCII"), "\(id)")
    }

    /// An id's control characters (a tab, DEL) are shown escaped in the message, never raw.
    @Test(arguments: [(#""a\tb""#, #"a\tb"#, "\t"), (#""a\x7Fb""#, #"a\u{7f}b"#, "\u{7F}")])
    func aFleetIdsControlCharactersAreEscapedInTheMessage(id: String, shown: String, raw: String) throws {
        let findings = try Self.lintFindings(second: "id: \(id)")
        let bad = try #require(findings.first { $0["rule"] as? String == "UPD308" }, "\(findings)")
        let message = bad["message"] as? String ?? ""
        #expect(message.contains("the quoted text \"\(shown)\""), "\(message)")
        #expect(!message.contains(raw), "\(message)")
    }

    /// A fleet lock's address is a base URL the protocol's paths are appended to: a query, a
    /// fragment or user information in `url` or in any of the `endpoints` is an error at that
    /// address.
    @Test func anAddressWithAQueryFragmentOrUserIsAnErrorAtIt() throws {
        let findings = try Self.lintFindings(
            preflight: """
                    - fleet_lock: {engine: fleetlock, url: "http://h:1/?x=1", group: rack-4, id: edge-1}
                    - fleet_lock: {name: site, engine: etcd, endpoints: ["https://e1.example.com:2379", "https://e2.example.com:2379/#f", https://u@e3.example.com:2379], group: g, id: edge-1}

                """)
        let address = findings.filter { $0["rule"] as? String == "UPD413" }
        let places = address.map { [$0["line"] as? Int ?? 0, $0["column"] as? Int ?? 0] }
        #expect(places == [[5, 44], [6, 89], [6, 123]], "\(address)")
        #expect(address.allSatisfy { $0["severity"] as? String == "error" })
        let messages = address.map { $0["message"] as? String ?? "" }
        #expect(messages.count == 3 && messages[0].contains("has a query (`?`)"), "\(messages)")
        #expect(messages.count == 3 && messages[1].contains("has a fragment (`#`)"), "\(messages)")
        #expect(messages.count == 3 && messages[2].contains("has user information (`user@`)"), "\(messages)")
    }

    /// A query or fragment right after the port is still a query or fragment (not a bad port),
    /// every address is judged on its own, a password is never shown, and user information does
    /// not hide a loopback host from the plain-http rule.
    @Test func anAddressEndsAtItsQueryOrFragmentAndItsPasswordIsNotShown() throws {
        let findings = try Self.lintFindings(
            preflight: """
                    - fleet_lock: {engine: fleetlock, url: "https://bob:s3cret@a.example.com/", group: rack-4, id: edge-1}
                    - fleet_lock: {name: site, engine: etcd, endpoints: ["https://e1:2379", "https://e2:2379?x", "https://u@e3:2379"], group: g, id: edge-1}
                    - fleet_lock: {name: local, engine: fleetlock, url: "http://u@127.0.0.1:18090#f", group: g, id: edge-1}

                """)
        let rules = findings.map { $0["rule"] as? String ?? "" }
        #expect(!rules.contains("UPD303") && !rules.contains("UPD414"), "\(findings)")
        let address = findings.filter { $0["rule"] as? String == "UPD413" }
        let places = address.map { [$0["line"] as? Int ?? 0, $0["column"] as? Int ?? 0] }
        #expect(places == [[5, 44], [6, 77], [6, 98], [7, 57]], "\(address)")
        let messages = address.map { $0["message"] as? String ?? "" }
        #expect(messages.first?.contains("`https://bob:…@a.example.com/` has user information") == true, "\(messages)")
        #expect(!"\(findings)".contains("s3cret"), "\(findings)")
    }

    /// A zero `timeout` is an error wherever a timeout bounds something: a fleet lock's (which
    /// would otherwise wait without limit), the hooks' (which would kill every command at once),
    /// a probe's.
    @Test func aZeroTimeoutIsAnErrorAtIt() throws {
        let findings = try Self.lintFindings(
            preflight: """
                    - fleet_lock: {engine: fleetlock, url: "https://airlock.example.com", id: edge-1, timeout: 0s}
                  hooks: {timeout: 0s}
                  healthcheck:
                    probes:
                      - exec: {command: [/bin/true], timeout: 0s}

                """)
        let zero = findings.filter { $0["rule"] as? String == "UPD307" }
        let places = zero.map { [$0["line"] as? Int ?? 0, $0["column"] as? Int ?? 0] }
        #expect(places == [[5, 96], [6, 20], [9, 47]], "\(findings)")
        #expect(zero.allSatisfy { ($0["message"] as? String ?? "").contains("`timeout` is 0s: a timeout must be longer than zero") })
    }

    /// A schedule of zero would make the agent ask the server without pause: UPD307 at the value.
    @Test func aZeroScheduleIsAnErrorAtIt() throws {
        let findings = try Self.lintFindings(
            preflight: """
                    - fleet_lock: {engine: etcd, endpoints: ["https://e1.example.com:2379"], id: edge-1, report_ttl: 0s}
                  agent: {check_every: 0s, jitter: 0s}
                  healthcheck: {retry_every: 0s}

                """)
        let zero = findings.filter { $0["rule"] as? String == "UPD307" }
        let places = zero.map { [$0["line"] as? Int ?? 0, $0["column"] as? Int ?? 0] }
        #expect(places == [[5, 102], [6, 24], [7, 30]], "\(findings)")
        #expect(zero.allSatisfy { ($0["message"] as? String ?? "").contains("must be longer than zero") }, "\(zero)")
    }

    /// `lint --format json`'s findings for a policy with two fleet locks, the second with `second`.
    static func lintFindings(second: String) throws -> [[String: Any]] {
        try lintFindings(
            preflight: """
                    - fleet_lock: {engine: fleetlock, url: "https://airlock.example.com", group: rack-4, id: edge-1}
                    - fleet_lock: {name: site, engine: fleetlock, url: "https://airlock.example.com", group: site-7, \(second)}

                """)
    }

    /// `lint --format json`'s findings for a policy whose `preflight:` (line 4) lists `preflight`.
    static func lintFindings(preflight: String) throws -> [[String: Any]] {
        let directory = try TemporaryDirectory()
        try directory.write(
            "policy.yaml",
            """
            updates:
              server: https://u.example.com
              public_key: ed25519:Hn1+J4gUuOPxSNmoJfiFmdZ3Rvb4vnwYrH7s+dqvFiU=
              preflight:

            """ + preflight)
        let result = try CLI.run(["lint", "--format", "json", directory.url.appendingPathComponent("policy.yaml").path])
        let object = try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
        return try #require(object["findings"] as? [[String: Any]])
    }

    /// `fleet unlock ID` posts a steady-state on that node's behalf; `fleet status` says a
    /// FleetLock server does not list holders and shows what this node recorded.
    @Test func unlockAndStatusSpeakTheProtocol() async throws {
        let (server, release) = try await offered()
        let fleetLock = try await TestFleetLockServer(slots: 1)
        let a = try node(server, release, fleetLock: fleetLock.base, id: "node-a")
        let b = try node(server, release, fleetLock: fleetLock.base, id: "node-b")
        #expect(try await a.apply().status == 0)
        let status = try await CLI.runAsync(["fleet", "status", a.policyPath], environment: a.environment)
        #expect(status.stdout.contains("a FleetLock server does not list them"), "\(status.stdout)")
        #expect(status.stdout.contains("this node took a slot at 2026-11-26T03:00:00Z"), "\(status.stdout)")
        let unlocked = try await CLI.runAsync(["fleet", "unlock", "node-a", b.policyPath], environment: b.environment)
        #expect(unlocked.status == 0, "\(unlocked.stdout)\(unlocked.stderr)")
        #expect(fleetLock.holders("workers") == [])
        let last = try #require(fleetLock.requests.last)
        #expect(last.path == "/fleet_lock/v1/steady-state")
        #expect(String(decoding: last.body, as: UTF8.self) == #"{"client_params":{"id":"node-a","group":"workers"}}"#)
        await fleetLock.stop()
        await server.stop()
    }
}

/// A meeting point for threads: each `arrive` waits (up to a minute) until `count` have arrived.
final class Meeting: @unchecked Sendable {
    private let condition = NSCondition()
    private let count: Int
    private var arrived = 0

    init(count: Int) { self.count = count }

    var met: Bool { condition.withLock { arrived >= count } }

    func arrive() {
        condition.lock()
        defer { condition.unlock() }
        arrived += 1
        condition.broadcast()
        let until = Date(timeIntervalSinceNow: 60)
        while arrived < count, condition.wait(until: until) {}
    }
}
