import YAMLTree

/// What the gate and the probe `http` share: their options, their plan text and one check (the
/// agent's `HTTPCheck`). Only their defaults, examples and the probe's shorthand differ.
public protocol HTTPEntry: EntryKindDescription {
    var url: Located<PolicyURL> { get }
    var status: Located<Int> { get }
}

extension HTTPEntry {
    static var keys: [Key] {
        [
            Key("url", .url(schemes: ["http", "https"]), required: true, "The URL to GET."),
            Key("status", .integer(min: 100, max: 599), default: "200", "The status that passes."),
        ]
    }

    public var summary: String { "GET \(url.value.text) answers \(status.value)" }

    public var parameters: [Parameter] {
        [Parameter("url", .text(url.value.text), url.origin), Parameter("status", .integer(status.value), status.origin)]
    }
}

/// `http` as a gate: a GET answers the expected status.
public struct HTTPGate: DecodableGate, HTTPEntry {
    public var url: Located<PolicyURL>
    public var status: Located<Int>

    public static let entry = EntryKind.gate(
        "http", example: #"- http: {name: fleet-ok, url: "https://fleet.example.com/go", status: 204, timeout: 5s}"#,
        timeout: "10s", "Passes when an HTTP GET answers `status`.", keys, type: HTTPGate.self)

    init?(_ options: Fields, _ context: inout KindContext) {
        guard let url = options.url("url") else { return nil }
        self.url = url
        status = options.integer("status")
    }
}

/// `http` as a probe: a GET answers the expected status. `healthcheck_url` is its shorthand.
public struct HTTPProbe: DecodableProbe, HTTPEntry {
    public var url: Located<PolicyURL>
    public var status: Located<Int>

    public static let entry = EntryKind.probe(
        "http", example: #"- http: {name: kubelet, url: "http://127.0.0.1:10248/healthz", status: 200, timeout: 3s}"#,
        timeout: "5s", "Passes when an HTTP GET answers `status` (redirects and body bounded).", keys, type: HTTPProbe.self)

    init?(_ options: Fields, _ context: inout KindContext) {
        guard let url = options.url("url") else { return nil }
        self.url = url
        status = options.integer("status")
    }

    init(url: Located<PolicyURL>, status: Located<Int>) {
        self.url = url
        self.status = status
    }

    static let implicitOrder = 1

    /// `healthcheck_url` adds one probe beside any listed ones; only the same URL listed with
    /// another status is the same probe configured two ways (UPD207).
    static func implicit(_ listed: [Probe], _ context: inout KindContext) -> [Probe] {
        guard let url = context.updates.url("healthcheck_url") else { return [] }
        let same = listed.entries(of: HTTPProbe.self).compactMap { $0.kind.url.value.text == url.value.text ? $0.kind.status : nil }
        if let status = same.first(where: { $0.value != 200 }), let mark = url.origin.mark {
            context.findings.append(
                Finding(
                    .shorthandConflict,
                    "`healthcheck_url` \(url.value.text) passes on 200, but the `http` probe of the same URL under "
                        + "`healthcheck.probes` passes on \(status.value)",
                    start: mark, end: context.updates.mapping["healthcheck_url"]?.end,
                    help: "keep one: drop `healthcheck_url`, or the probe",
                    notes: status.origin.mark.map { [Finding.Note(message: "the probe's status", mark: $0)] } ?? []))
            return []
        }
        guard same.isEmpty else { return [] }
        let defaults = Fields(mapping: DecodedMapping(node: context.updates.mapping.node), table: entry.table)
        return [
            Probe(
                name: Located(context.names.derive("healthcheck_url"), .defaulted),
                kind: HTTPProbe(url: url, status: defaults.integer("status")),
                timeout: defaults.duration("timeout"), source: .shorthand(key: "healthcheck_url", url.origin))
        ]
    }
}
