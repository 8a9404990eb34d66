import JSONValue
import UpdatePolicy

/// A FleetLock server (Zincati's protocol: Airlock, fleetlock for Kubernetes): `POST
/// <base>/v1/pre-reboot` takes a slot, `POST <base>/v1/steady-state` gives it back, both with
/// `fleet-lock-protocol: true` and `{"client_params": {"id": …, "group": …}}`. 200 is success;
/// anything else carries `{"kind": …, "value": …}`, reported as the server wrote it.
struct FleetLockClient: FleetEngine {
    let spec: FleetEngineSpec
    let transport: any Transport

    var base: String {
        let url = spec.urls.first ?? ""
        return url.hasSuffix("/") ? String(url.dropLast()) : url
    }

    func lock(id: String) -> FleetAnswer {
        post("/v1/pre-reboot", id: id, done: "the FleetLock server \(base) granted a reboot slot of group \(spec.group)")
    }

    func unlock(id: String) -> FleetAnswer {
        post(
            "/v1/steady-state", id: id,
            done: "the FleetLock server \(base) released \(id)'s slot of group \(spec.group) "
                + "(if it held one)")
    }

    func snapshot() throws(FleetError) -> FleetSnapshot? { nil }

    /// The request body, keys in the protocol document's order.
    static func body(id: String, group: String) -> [UInt8] {
        Array(JSON.object([("client_params", .object([("id", .string(id)), ("group", .string(group))]))]).render(indent: 0).utf8)
    }

    func post(_ path: String, id: String, done: String) -> FleetAnswer {
        let url = base + path
        let request = TransportRequest(
            url: url, maxBytes: 64 << 10, connectTimeout: min(spec.timeout, .seconds(10)), timeout: spec.timeout,
            // Not followed: the protocol's header is there so that no request is redirected by accident.
            maxRedirects: 0, schemes: ["http", "https"], method: "POST",
            headers: ["fleet-lock-protocol: true", "Content-Type: application/json", "Accept: application/json"],
            body: Self.body(id: id, group: spec.group), tls: spec.tls)
        let response: TransportResponse
        let body: [UInt8]
        do {
            (response, body) = try transport.fetch(request)
        } catch {
            return .unreachable("POST \(url): \(error)")
        }
        guard response.status != 200 else { return .done(done) }
        return .refused("POST \(url) answered HTTP \(response.status): " + Self.describeError(body))
    }

    /// `{"kind": …, "value": …}` as "VALUE (kind KIND)"; any other body, shortened.
    static func describeError(_ body: [UInt8]) -> String {
        if let json = try? JSON.parse(body), let kind = json["kind"]?.stringValue, let value = json["value"]?.stringValue {
            return "\(VisibleText.escape(value)) (kind \(VisibleText.escape(kind)))"
        }
        let text = String(decoding: body.prefix(300), as: UTF8.self).trimmingSpaces
        return text.isEmpty ? "no error body" : "not a FleetLock error: " + VisibleText.escape(text) + (body.count > 300 ? "…" : "")
    }
}
