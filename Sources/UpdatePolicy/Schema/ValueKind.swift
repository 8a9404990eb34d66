import JSONValue

/// What a key's value must be. The decoder, the JSON Schema and the reference docs read it.
public indirect enum ValueKind: Sendable {
    /// Text; with a pattern description and a check when the text is constrained.
    case string(StringRule?)
    case url(schemes: [String])
    /// An absolute path.
    case path
    case duration
    case percentage
    /// A number from 0 to 1 (`0.25`), as Zincati's `rollout_wariness` is written.
    case fraction
    case integer(min: Int, max: Int?)
    case boolean
    /// One of a fixed set of words.
    case choice([String])
    case timeOfDay
    /// `"HH:MM-HH:MM"` (may cross midnight), or empty for always.
    case timeRange
    case timeZone
    /// A list of days of the week.
    case days
    /// An argv list; `${NAME}` may use the given variables.
    case command(variables: [String])
    case publicKey
    case hostPort
    /// A nested mapping.
    case table(Table)
    /// A list of `- KIND: {options}` entries.
    case entries(EntryFamily)
    /// A mapping whose `type:` picks the table.
    case tagged(TaggedTable)
    /// A mapping with keys of the writer's choosing, every value of one kind.
    case dictionary(ValueKind)
    /// A list, every item of one kind.
    case list(ValueKind)
    /// An RFC 3339 instant.
    case timestamp
    /// Bytes per second, written like `2MiB/s`.
    case rate
    /// Bytes, written like `4GiB`.
    case size
}

/// A constraint on text, such as the channel's `[a-z0-9._-]+`.
public struct StringRule: Sendable {
    /// How the docs and messages describe it.
    public var description: String
    /// The same as a JSON Schema `pattern`.
    public var pattern: String
    public var check: @Sendable (String) -> Bool

    public init(description: String, pattern: String, check: @escaping @Sendable (String) -> Bool) {
        self.description = description
        self.pattern = pattern
        self.check = check
    }
}

/// One key of a mapping.
public struct Key: Sendable {
    public var name: String
    public var kind: ValueKind
    /// The default as a policy would write it; nil when there is none.
    public var defaultText: String? {
        didSet { defaultValue = defaultText.map(Self.unquoted) }
    }
    /// The default as the decoder reads it: `defaultText` without the quotes a policy needs.
    public private(set) var defaultValue: String?
    public var required: Bool
    public var summary: String
    /// The key this one stands in for (`pubkey` for `public_key`, `registry` for `server`): a
    /// mapping gives one of the two, not both (lint says UPD207; the schema says `not required
    /// both`), and a required key is satisfied by either.
    public var insteadOf: String?

    public init(
        _ name: String, _ kind: ValueKind, default defaultText: String? = nil, required: Bool = false,
        insteadOf: String? = nil, _ summary: String
    ) {
        self.name = name
        self.kind = kind
        self.defaultText = defaultText
        self.defaultValue = defaultText.map(Self.unquoted)
        self.required = required
        self.insteadOf = insteadOf
        self.summary = summary
    }

    private static func unquoted(_ text: String) -> String {
        text.hasPrefix("\"") && text.hasSuffix("\"") && text.count >= 2 ? String(text.dropFirst().dropLast()) : text
    }
}

/// The keys of one mapping, in the order the docs list them. A class: the decoder hands a table
/// to every entry it decodes, and a reference is one count to copy instead of five.
public final class Table: Sendable {
    /// Where the table sits, for messages and docs: `updates`, `healthcheck`, `KIND gate`.
    public let name: String
    /// `the NAME`, as messages name the table.
    public let place: String
    public let keys: [Key]
    public let summary: String
    /// A policy fragment that uses every key, for the docs; a test lints it.
    public let example: String?
    /// The keys' names and value kinds by position, for the decoder, which needs only these of
    /// every key it meets (a `Key` is a wide value to copy).
    let names: [String]
    let kinds: [ValueKind]
    /// The keys' defaults read once, as each typed accessor of `Fields` reads them; nil for a key
    /// without a default. Every entry of every file falls back on some.
    let defaults: [ParsedDefault?]
    /// The positions of the required keys.
    let required: [Int]

    public init(_ name: String, summary: String = "", example: String? = nil, _ keys: [Key]) {
        self.name = name
        self.place = "the \(name)"
        self.keys = keys
        self.summary = summary
        self.example = example
        names = keys.map(\.name)
        kinds = keys.map(\.kind)
        defaults = keys.map { $0.defaultValue.map(ParsedDefault.init) }
        required = keys.indices.filter { keys[$0].required }
    }

    /// The position of key `name` in `keys`.
    func index(of name: String) -> Int? { names.firstIndex(of: name) }

    public func key(_ name: String) -> Key? { index(of: name).map { keys[$0] } }
}

/// A key's default text, read as each kind of value it may be asked for.
struct ParsedDefault: Sendable {
    let text: String
    let duration: Duration?
    let integer: Int
    let percentage: Double
    let fraction: Double
    let rate: Int
    let size: Int
    let boolean: Bool

    init(_ text: String) {
        self.text = text
        duration = DurationText.parse(text)
        integer = Int(text) ?? 0
        percentage = Double(text.hasSuffix("%") ? String(text.dropLast()) : text) ?? 0
        fraction = Double(text) ?? 0
        rate = RateText.parse(text) ?? 0
        size = RateText.parseSize(text) ?? 0
        boolean = text == "true"
    }
}

/// One kind of entry (a gate or a probe kind): its options, what a bare scalar value sets, and
/// the type that describes the kind (`Kinds/`).
/// A class, like `Table`: every decoded entry holds its kind.
public final class EntryKind: Sendable {
    public let name: String
    public let table: Table
    /// The option a scalar value stands for (`KIND: 3` sets it), if any.
    public let scalarKey: String?
    public let type: any EntryKindDescription.Type

    public init(_ name: String, scalarKey: String? = nil, _ table: Table, type: any EntryKindDescription.Type) {
        self.name = name
        self.table = table
        self.scalarKey = scalarKey
        self.type = type
    }
}

/// The kinds a list of entries may hold: the gates or the probes.
public struct EntryFamily: Sendable {
    /// "gate" or "probe".
    public var noun: String
    public var kinds: [EntryKind]
    /// Where the other family lives, for "tcp is a probe, not a gate" hints.
    public var otherNoun: String
    public var otherKinds: [String]
    public var otherPlace: String

    public func kind(_ name: String) -> EntryKind? { kinds.first { $0.name == name } }
}

/// A mapping whose `type` key chooses among tables (the backend).
public struct TaggedTable: Sendable {
    public var name: String
    public var tagKey: String
    public var variants: [(tag: String, table: Table)]
    public var defaultTag: String

    public func table(for tag: String) -> Table? { variants.first { $0.tag == tag }?.table }
}
