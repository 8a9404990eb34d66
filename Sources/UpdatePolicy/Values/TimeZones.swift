/// Which IANA time zone names exist. UpdatePolicy reads no files: the host's database
/// (`ZoneInfo` in UpdateAgent, over /usr/share/zoneinfo) is handed in through `LintOptions`.
public protocol TimeZoneDatabase: Sendable {
    /// Whether `name` is a zone; nil when there is no database to ask (the name is then accepted
    /// unchecked).
    func isKnown(_ name: String) -> Bool?
    /// Every zone name, for "did you mean" hints.
    func names() -> [String]
}

/// A fixed set of zone names (tests, fuzzing), or none at all: `unchecked` accepts every name,
/// as a host without a zoneinfo database does.
public struct TimeZoneNames: TimeZoneDatabase {
    private let known: Set<String>?

    public init(_ names: [String]) { known = Set(names + ["UTC"]) }
    private init() { known = nil }

    public static let unchecked = TimeZoneNames()

    public func isKnown(_ name: String) -> Bool? {
        name == "UTC" ? true : known.map { $0.contains(name) }
    }

    public func names() -> [String] { (known ?? ["UTC"]).sorted() }
}
