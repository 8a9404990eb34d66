import Foundation
import JSONValue
import Testing
import UpdatePolicy

@testable import UpdateAgent

/// The etcd engine's rules against an etcd gateway scripted in memory: what it writes, when it
/// gives up, what it refuses to overwrite. (The real etcd runs in FleetEtcdTests.)
@Suite struct FleetEngineTests {
    /// etcd's KV for one key, over the JSON gateway: range and txn with a `mod_revision` compare.
    final class Gateway: Transport, @unchecked Sendable {
        let lock = NSLock()
        var value: [UInt8]?
        /// The key's `mod_revision`: 0 while it does not exist, the store's revision once written.
        var revision = 0
        var swaps = 0
        /// Before each swap: another writer changes the key (the swap then fails).
        var interfere = false
        var requests: [String] = []

        func get(_ request: TransportRequest, onData: (UnsafeRawBufferPointer) throws -> Void) throws -> TransportResponse {
            let body = try JSON.parse(request.body ?? [])
            let answer: JSON = lock.withLock {
                requests.append(String(request.url.split(separator: "/").suffix(2).joined(separator: "/")))
                if request.url.hasSuffix("/v3/kv/range") {
                    guard let value else { return .object([("header", .object([]))]) }
                    return .object([
                        (
                            "kvs",
                            .array([
                                .object([
                                    ("key", body["key"]!), ("mod_revision", .string(String(revision))),
                                    ("value", .string(Base64.encode(value))),
                                ])
                            ])
                        ), ("count", .string("1")),
                    ])
                }
                guard case .array(let compares)? = body["compare"],
                    compares.first?["target"] == .string("MOD"),
                    let wanted = compares.first?["mod_revision"]?.stringValue.flatMap({ Int($0) }),
                    case .array(let puts)? = body["success"],
                    let put = puts.first?["request_put"]?["value"]?.stringValue.flatMap({ Base64.decode($0) })
                else { return .object([("error", .string("bad request"))]) }
                swaps += 1
                if interfere { revision += 1 }
                guard wanted == revision else { return .object([("header", .object([]))]) }
                value = put
                revision += 1
                return .object([("succeeded", .bool(true))])
            }
            let bytes = Array(answer.render(indent: 0).utf8)
            try bytes.withUnsafeBytes { try onData($0) }
            return TransportResponse(status: 200, bytes: bytes.count)
        }

        var text: String? { lock.withLock { value.map { String(decoding: $0, as: UTF8.self) } } }
    }

    func engine(_ gateway: Gateway, slots: Int = 1) -> any FleetEngine {
        RealFleetEngines(transport: gateway).engine(
            FleetEngineSpec(
                engine: .etcd, urls: ["http://etcd.invalid:2379/"], group: "edge.site-1", slots: slots, tls: TLSFiles(),
                timeout: .seconds(5)))
    }

    @Test func anAbsentSemaphoreIsCreatedThenTaken() {
        let gateway = Gateway()
        let answer = engine(gateway, slots: 2).lock(id: "node-b")
        #expect(answer == .done("took a reboot slot of group edge.site-1 in etcd (1 of 2 slots held: node-b)"))
        #expect(gateway.text == #"{"total_slots":2,"holders":["node-b"]}"#)
        // Created with a compare on mod_revision 0 (absent: Airlock's initialisation), then swapped.
        #expect(gateway.requests == ["kv/range", "kv/txn", "kv/range", "kv/txn"])
        #expect(
            engine(gateway).lock(id: "node-a")
                == .done("took a reboot slot of group edge.site-1 in etcd (2 of 2 slots held: node-a, node-b)"))
        #expect(
            engine(gateway).lock(id: "node-b")
                == .done("node-b holds a slot of group edge.site-1 already (2 of 2 slots held: node-a, node-b)"))
        #expect(
            engine(gateway).unlock(id: "node-a") == .done("gave back node-a's reboot slot of group edge.site-1 (1 of 2 slots held: node-b)")
        )
        #expect(gateway.text == #"{"total_slots":2,"holders":["node-b"]}"#)
    }

    /// Every swap loses to another writer: after five the run gives up (a deferral), having
    /// written nothing.
    @Test func aSemaphoreThatKeepsChangingIsNotFought() {
        let gateway = Gateway()
        gateway.value = Array(#"{"total_slots":3,"holders":[]}"#.utf8)
        gateway.revision = 4
        gateway.interfere = true
        guard case .refused(let reason) = engine(gateway).lock(id: "node-a") else {
            Issue.record("a semaphore that always changes was not refused")
            return
        }
        #expect(reason.contains("changed under each of 5 compare-and-swaps"), "\(reason)")
        #expect(gateway.swaps == 5)
        #expect(gateway.text == #"{"total_slots":3,"holders":[]}"#)
    }

    /// A value that is not Airlock's layout is reported and left as it is.
    @Test(arguments: [
        #"not json"#, #"{"holders":[]}"#, #"{"total_slots":1,"holders":[7]}"#, #"{"total_slots":1,"holders":{}}"#,
        #"{"total_slots":2,"holders":[],"extra":1}"#, #"{"total_slots":2,"holders":["x"],"total_slots":5}"#,
        #"{"total_slots":2,"holders":[],"holders":[]}"#, #"{"total_slots":2.0,"holders":[]}"#, #"{"total_slots":1e0,"holders":[]}"#,
        #"{"total_slots":-1,"holders":[]}"#, #"{"total_slots":"2","holders":[]}"#, #"{"total_slots":2}"#, #"[2,[]]"#,
    ])
    func aForeignValueIsNeverOverwritten(value: String) {
        let gateway = Gateway()
        gateway.value = Array(value.utf8)
        gateway.revision = 1
        guard case .refused(let reason) = engine(gateway).lock(id: "node-a") else {
            Issue.record("\(value) was taken for a semaphore")
            return
        }
        #expect(reason.contains("not Airlock's layout; fix or delete the key"), "\(reason)")
        #expect(gateway.swaps == 0)
        #expect(gateway.text == value)
    }

    /// Go's encoding/json escapes; the FleetLock body; the key as Airlock builds it.
    @Test func encodings() {
        #expect(
            JSON.quote("a<b>&\u{2028}\u{2029}\u{1}\t\"\\é\u{7F}", goStyle: true)
                == #""a\u003cb\u003e\u0026\u2028\u2029\u0001\t\"\\é\#u{7F}""#)
        #expect(
            String(decoding: FleetLockClient.body(id: "c988d2509fdf", group: "workers"), as: UTF8.self)
                == #"{"client_params":{"id":"c988d2509fdf","group":"workers"}}"#)
        #expect(EtcdSemaphore.key(group: "edge.site-1") == "com.coreos.airlock/groups/edge.site-1/v1/semaphore")
        #expect(EtcdSemaphore.queryEscape("a b/c") == "a+b%2Fc")
        var semaphore = AirlockSemaphore(totalSlots: 4, holders: ["b", "d"])
        for id in ["c", "a", "e", "B"] { semaphore.insert(id) }
        #expect(semaphore.holders == ["B", "a", "b", "c", "d", "e"])
    }

    /// The identity is systemd's application-specific machine id (the value is what
    /// `systemd-id128 machine-id --app-specific=8659af410c04477ca003a997eb6ff62c` prints on a
    /// machine with that id; FleetIdentityTests asks systemd on this one); a machine id that is not one
    /// (first boot's `uninitialized`) is refused instead of giving every such node the same id.
    @Test func theIdentityNeedsAMachineID() throws {
        #expect(try FleetIdentity.appSpecific(machineID: "3d1219c7c4c5404aaa1f6d2a48adfda4") == "2a645a43d950410f9b5f4c17e37a14e1")
        #expect(throws: FleetError.self) { try FleetIdentity.appSpecific(machineID: "uninitialized") }
        #expect(throws: FleetError.self) { try FleetIdentity.appSpecific(machineID: "") }
    }
}
