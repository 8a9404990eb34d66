import JSONValue
import UpdatePolicy

/// Airlock's reboot semaphore, kept in etcd by updatectl itself so that a fleet mixing
/// updatectl, Airlock and Zincati nodes shares one: the key
/// `com.coreos.airlock/groups/<group>/v1/semaphore` holds `{"total_slots":N,"holders":[ids]}`
/// (ids sorted, written as Go's encoding/json writes them), created when absent, and every change
/// is a compare-and-swap on the key's `mod_revision` (not its `version`, which starts again at 1
/// when the key is deleted and created anew). etcd is reached through its v3 JSON gateway
/// (`/v3/kv/range`, `/v3/kv/txn`), trying the endpoints in turn; the gate's `timeout` bounds each
/// operation as a whole, every endpoint and every retry included.
struct EtcdSemaphore: FleetEngine {
    let spec: FleetEngineSpec
    let gateway: EtcdGateway

    /// Compare-and-swaps lost to other writers before a run gives up (and defers).
    static let attempts = 5

    init(spec: FleetEngineSpec, transport: any Transport) {
        self.spec = spec
        gateway = EtcdGateway(endpoints: spec.urls, tls: spec.tls, transport: transport)
    }

    var key: String { Self.key(group: spec.group) }

    static func key(group: String) -> String { "com.coreos.airlock/groups/\(queryEscape(group))/v1/semaphore" }

    /// Go's `url.QueryEscape`, as Airlock builds the key.
    static func queryEscape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "):
                out += "+"
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]], as: UTF8.self)
            }
        }
        return out
    }

    func lock(id: String) -> FleetAnswer {
        change(id: id) { semaphore in
            if semaphore.holders.contains(id) {
                return .keep(.done("\(id) holds a slot of group \(spec.group) already (\(semaphore.describe))"))
            }
            guard semaphore.holders.count < semaphore.totalSlots else {
                return .keep(.refused(FleetSnapshot.full(total: semaphore.totalSlots, holders: semaphore.holders, group: spec.group)))
            }
            var next = semaphore
            next.insert(id)
            return .write(next, .done("took a reboot slot of group \(spec.group) in etcd (\(next.describe))"))
        }
    }

    func unlock(id: String) -> FleetAnswer {
        change(id: id) { semaphore in
            guard semaphore.holders.contains(id) else {
                return .keep(.done("\(id) holds no slot of group \(spec.group) (\(semaphore.describe))"))
            }
            var next = semaphore
            next.holders.removeAll { $0 == id }
            return .write(next, .done("gave back \(id)'s reboot slot of group \(spec.group) (\(next.describe))"))
        }
    }

    func snapshot() throws(FleetError) -> FleetSnapshot? {
        guard let (bytes, _) = try gateway.get(key, within: FleetDeadline(spec.timeout)) else {
            return FleetSnapshot(totalSlots: spec.slots, holders: [], exists: false)
        }
        let semaphore = try AirlockSemaphore.parse(bytes, key: key)
        return FleetSnapshot(totalSlots: semaphore.totalSlots, holders: semaphore.holders)
    }

    enum Decision {
        case keep(FleetAnswer)
        case write(AirlockSemaphore, FleetAnswer)
    }

    /// Reads the semaphore (creating it when absent), decides, and writes by compare-and-swap on
    /// the `mod_revision` read; a lost swap reads again, up to `attempts` times, all within the
    /// gate's `timeout`.
    func change(id: String, _ decide: (AirlockSemaphore) -> Decision) -> FleetAnswer {
        let deadline = FleetDeadline(spec.timeout)
        do {
            for _ in 1...Self.attempts {
                guard let (bytes, revision) = try gateway.get(key, within: deadline) else {
                    // Airlock's initialisation: create it only if nobody did meanwhile.
                    let fresh = AirlockSemaphore(totalSlots: spec.slots, holders: [])
                    _ = try gateway.put(key, value: fresh.encoded, ifModRevision: 0, within: deadline)
                    continue
                }
                let semaphore = try AirlockSemaphore.parse(bytes, key: key)
                switch decide(semaphore) {
                case .keep(let answer):
                    return answer
                case .write(let next, let answer):
                    if try gateway.put(key, value: next.encoded, ifModRevision: revision, within: deadline) { return answer }
                }
            }
            return .refused(
                "the semaphore \(key) changed under each of \(Self.attempts) compare-and-swaps (other nodes are "
                    + "taking and giving back slots); nothing was changed")
        } catch {
            return error.unreachable ? .unreachable(error.description) : .refused(error.description)
        }
    }
}

extension FleetSnapshot {
    /// With `exists: false`: the semaphore is not there yet (it is created on first use).
    init(totalSlots: Int, holders: [String], exists: Bool) {
        self.init(totalSlots: totalSlots, holders: holders)
        self.exists = exists
    }
}

/// `{"total_slots":N,"holders":[…]}`, as Airlock keeps it.
struct AirlockSemaphore: Equatable {
    var totalSlots: Int
    var holders: [String]

    var describe: String {
        "\(holders.count) of \(totalSlots) slot\(totalSlots == 1 ? "" : "s") held"
            + (holders.isEmpty ? "" : ": " + holders.joined(separator: ", "))
    }

    /// Inserted where Go's `sort.SearchStrings` puts it (byte order), as Airlock does.
    mutating func insert(_ id: String) {
        let bytes = Array(id.utf8)
        let index = holders.firstIndex { !Array($0.utf8).lexicographicallyPrecedes(bytes) } ?? holders.count
        holders.insert(id, at: index)
    }

    /// Exactly Airlock's layout or nothing: the keys `total_slots` (a non-negative integer written
    /// as one) and `holders` (a list of text, or Go's `null` for none), each once and no other,
    /// the text UTF-8; anything else would not survive its own rewriting unchanged, so it is
    /// refused and left to the operator.
    static func parse(_ bytes: [UInt8], key: String) throws(FleetError) -> AirlockSemaphore {
        func foreign(_ what: String) -> FleetError {
            FleetError("the semaphore \(key) \(what): not Airlock's layout; fix or delete the key")
        }
        let json: JSON
        do {
            json = try JSON.parse(bytes)
        } catch {
            throw foreign("is not JSON (\(error))")
        }
        guard case .object(let pairs) = json else { throw foreign("is not a JSON object") }
        for (index, (name, _)) in pairs.enumerated() {
            guard name == "total_slots" || name == "holders" else {
                throw foreign("has a key \(JSON.quote(name)) besides total_slots and holders")
            }
            if pairs[..<index].contains(where: { $0.0 == name }) { throw foreign("has \(name) twice") }
        }
        guard let totalSlots = json["total_slots"] else { throw foreign("has no total_slots") }
        guard case .int(let total) = totalSlots, total >= 0 else {
            throw foreign("has a total_slots that is not a non-negative integer written as an integer")
        }
        var holders: [String] = []
        switch json["holders"] {
        case .array(let items)?:
            for item in items {
                guard let id = item.stringValue else { throw foreign("has a holder that is not text") }
                holders.append(id)
            }
        case .null?:
            break
        case nil:
            throw foreign("has no holders")
        default:
            throw foreign("has holders that are not a list")
        }
        return AirlockSemaphore(totalSlots: total, holders: holders)
    }

    /// Byte for byte what Go's `json.Marshal` makes of Airlock's struct.
    var encoded: [UInt8] {
        Array(
            ("{\"total_slots\":\(totalSlots),\"holders\":[" + holders.map { JSON.quote($0, goStyle: true) }.joined(separator: ",") + "]}")
                .utf8)
    }
}

/// etcd's v3 JSON gateway: keys and values in base64, 64-bit numbers as strings.
struct EtcdGateway {
    let endpoints: [String]
    let tls: TLSFiles
    let transport: any Transport

    /// The key's value and `mod_revision` (the cluster's revision of the key's last change, which
    /// no other write of any key ever repeats); nil when it does not exist.
    func get(_ key: String, within deadline: FleetDeadline) throws(FleetError) -> (value: [UInt8], modRevision: Int)? {
        let answer = try call("/v3/kv/range", .object([("key", .string(Base64.encode(Array(key.utf8))))]), within: deadline)
        guard case .array(let kvs)? = answer["kvs"], let first = kvs.first else { return nil }
        guard let value = first["value"]?.stringValue.flatMap(Base64.decode),
            let revision = first["mod_revision"].flatMap(Self.number), revision > 0
        else {
            throw FleetError("etcd's answer for \(key) has no value or mod_revision")
        }
        return (value, revision)
    }

    /// Puts `value` when the key's `mod_revision` is still `revision` (0: the key does not
    /// exist); false when another writer changed it first, deleted it, or deleted and created it
    /// again (its `version` would then be back where it was; its `mod_revision` never is).
    func put(_ key: String, value: [UInt8], ifModRevision revision: Int, within deadline: FleetDeadline) throws(FleetError) -> Bool {
        let encodedKey = JSON.string(Base64.encode(Array(key.utf8)))
        let request = JSON.object([
            (
                "compare",
                .array([
                    .object([
                        ("target", .string("MOD")), ("result", .string("EQUAL")), ("key", encodedKey),
                        ("mod_revision", .string(String(revision))),
                    ])
                ])
            ),
            (
                "success",
                .array([
                    .object([
                        (
                            "request_put",
                            .object([
                                ("key", encodedKey),
                                ("value", .string(Base64.encode(value))),
                            ])
                        )
                    ])
                ])
            ),
        ])
        let answer = try call("/v3/kv/txn", request, within: deadline)
        return answer["succeeded"] == .bool(true)
    }

    /// An int64 as the gateway writes it: a string, or a number.
    static func number(_ json: JSON) -> Int? { json.stringValue.flatMap { Int($0) } ?? json.intValue }

    /// POSTs to each endpoint in turn until one answers 200 with JSON, each request given what is
    /// left of `deadline`; an endpoint not asked because nothing is left is said so.
    func call(_ path: String, _ body: JSON, within deadline: FleetDeadline) throws(FleetError) -> JSON {
        var failures: [String] = []
        var reached = false
        for endpoint in endpoints {
            guard let left = deadline.left else {
                failures.append("\(endpoint): not asked, the gate's timeout of \(DurationText.format(deadline.total)) was spent")
                continue
            }
            let url = (endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint) + path
            let request = TransportRequest(
                url: url, maxBytes: 1 << 20, connectTimeout: min(left, .seconds(5)), timeout: left, maxRedirects: 0,
                schemes: ["http", "https"], method: "POST", headers: ["Content-Type: application/json"],
                body: Array(body.render(indent: 0).utf8), tls: tls)
            let response: TransportResponse
            let bytes: [UInt8]
            do {
                (response, bytes) = try transport.fetch(request)
            } catch {
                failures.append("\(endpoint): \(error)")
                continue
            }
            reached = true
            let json = try? JSON.parse(bytes, replacingInvalidUTF8: true)
            guard response.status == 200, let json, json["error"] == nil else {
                let message =
                    json?["message"]?.stringValue ?? json?["error"]?.stringValue
                    ?? String(decoding: bytes.prefix(200), as: UTF8.self)
                failures.append("\(endpoint) answered HTTP \(response.status): \(VisibleText.escape(message))")
                continue
            }
            return json
        }
        throw FleetError("etcd did not answer \(path): " + failures.joined(separator: "; "), unreachable: !reached)
    }
}
