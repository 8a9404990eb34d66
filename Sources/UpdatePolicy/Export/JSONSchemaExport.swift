public import JSONValue

/// The policy's JSON Schema (draft 2020-12), generated from the key tables, for editors
/// (yaml-language-server) and other tools. It gives the verdict `lint` gives on structure —
/// types, required keys, unknown keys — as a YAML 1.2 reader sees the document: a bare number
/// where text is expected is text to lint and a number to the reader, so both are allowed; a
/// mapping left empty (null) is an empty mapping. Value rules a schema cannot express (time
/// zones, cross-field checks) stay lint's alone (docs/lint.md lists them).
public enum JSONSchemaExport {

    public static func schema() -> JSON {
        .object([
            ("$schema", .string("https://json-schema.org/draft/2020-12/schema")),
            ("title", .string("updatectl update policy, version 1")),
            (
                "description",
                .string(
                    "A YAML file (often cloud-init user-data) whose top-level `updates:` mapping is the policy. "
                        + "Other top-level keys are ignored.")
            ),
            ("type", .string("object")),
            ("required", .array([.string("updates")])),
            ("properties", .object([("updates", table(PolicySchema.updates))])),
        ])
    }

    /// A table where a nested key holds it: also null (a key written with nothing under it).
    static func nullable(_ schema: JSON) -> JSON {
        .object([("oneOf", .array([schema, .object([("type", .string("null"))])]))])
    }

    static func table(_ table: Table, required: [String]? = nil) -> JSON {
        var pairs: [(String, JSON)] = [("type", .string("object"))]
        if !table.summary.isEmpty { pairs.append(("description", .string(table.summary))) }
        pairs.append(("additionalProperties", .bool(false)))
        pairs.append(("properties", .object(table.keys.map { ($0.name, property($0)) })))
        let alternatives = table.keys.compactMap { key in key.insteadOf.map { (key.name, $0) } }
        // A required key with an alternative is satisfied by either (`server` or `registry`).
        let replaceable = Set(alternatives.map(\.1))
        let needed = required ?? table.keys.filter { $0.required && !replaceable.contains($0.name) }.map(\.name)
        if !needed.isEmpty { pairs.append(("required", .array(needed.map { .string($0) }))) }
        var all: [JSON] = alternatives.map { name, other in
            .object([("not", .object([("required", .array([.string(name), .string(other)]))]))])
        }
        for (name, other) in alternatives where table.key(other)?.required == true {
            all.append(
                .object([
                    (
                        "anyOf",
                        .array([
                            .object([("required", .array([.string(other)]))]),
                            .object([("required", .array([.string(name)]))]),
                        ])
                    )
                ]))
        }
        if !all.isEmpty { pairs.append(("allOf", .array(all))) }
        return .object(pairs)
    }

    private static func property(_ key: Key) -> JSON {
        var schema = kind(key.kind)
        guard case .object(var pairs) = schema else { return schema }
        var description = key.summary
        if let value = key.defaultText { description += " Default: \(value)." }
        pairs.insert(("description", .string(description)), at: 0)
        schema = .object(pairs)
        return schema
    }

    private static let durationPattern = "^([0-9]+|([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?)$"

    static func kind(_ kind: ValueKind) -> JSON {
        switch kind {
        case .string(let rule):
            // The pattern constrains strings only; a bare number is text to lint (UPD310 warns).
            var pairs: [(String, JSON)] = [("type", .array([.string("string"), .string("number")]))]
            if let rule { pairs.append(("pattern", .string(rule.pattern))) }
            return .object(pairs)
        case .url(let schemes):
            return .object([
                ("type", .string("string")),
                ("pattern", .string("^(" + schemes.joined(separator: "|") + ")://")),
            ])
        case .path:
            return .object([("type", .string("string")), ("pattern", .string("^/"))])
        case .duration:
            return .object([
                (
                    "oneOf",
                    .array([
                        .object([("type", .string("integer")), ("minimum", .int(0))]),
                        .object([("type", .string("string")), ("pattern", .string(durationPattern)), ("minLength", .int(2))]),
                    ])
                )
            ])
        case .percentage:
            return .object([
                (
                    "oneOf",
                    .array([
                        .object([("type", .string("number")), ("minimum", .int(0)), ("maximum", .int(100))]),
                        .object([("type", .string("string")), ("pattern", .string("^[0-9]+(\\.[0-9]+)?%$"))]),
                    ])
                )
            ])
        case .fraction:
            return .object([("type", .string("number")), ("minimum", .int(0)), ("maximum", .int(1))])
        case .integer(let min, let max):
            var pairs: [(String, JSON)] = [("type", .string("integer")), ("minimum", .int(min))]
            if let max { pairs.append(("maximum", .int(max))) }
            return .object(pairs)
        case .boolean:
            return .object([("type", .string("boolean"))])
        case .choice(let words):
            return .object([("type", .string("string")), ("enum", .array(words.map { .string($0) }))])
        case .timeOfDay:
            return .object([("type", .string("string")), ("pattern", .string("^([01]?[0-9]|2[0-3]):[0-5][0-9]$"))])
        case .timeRange:
            return .object([
                ("type", .string("string")),
                (
                    "pattern",
                    .string(
                        "^(([01]?[0-9]|2[0-3]):[0-5][0-9]-([01]?[0-9]|2[0-3]):[0-5][0-9])?$")
                ),
            ])
        case .timeZone:
            return .object([("type", .string("string")), ("minLength", .int(1))])
        case .days:
            return .object([
                ("type", .string("array")), ("minItems", .int(1)),
                ("items", .object([("enum", .array(Weekday.allCases.map { .string($0.rawValue) }))])),
            ])
        case .command:
            return .object([
                ("type", .string("array")), ("minItems", .int(1)),
                ("prefixItems", .array([.object([("type", .string("string")), ("pattern", .string("^(/|\\$\\{)"))])])),
                ("items", .object([("type", .array([.string("string"), .string("number"), .string("boolean")]))])),
            ])
        case .publicKey:
            let one = JSON.object([("type", .string("string")), ("pattern", .string("^(ed25519:[A-Za-z0-9+/]{43}=|/)"))])
            return .object([
                ("oneOf", .array([one, .object([("type", .string("array")), ("minItems", .int(1)), ("items", one)])]))
            ])
        case .size:
            return .object([("type", .string("string")), ("pattern", .string(RateText.sizePattern))])
        case .hostPort:
            return .object([("type", .string("string")), ("pattern", .string("^(\\[[0-9A-Fa-f:.]+\\]|[^:\\[\\]]+):[0-9]{1,5}$"))])
        case .rate:
            return .object([
                (
                    "oneOf",
                    .array([
                        .object([("type", .string("string")), ("pattern", .string(RateText.pattern))]),
                        .object([("const", .int(0))]),
                    ])
                )
            ])
        case .table(let table):
            return nullable(self.table(table))
        case .entries(let family):
            return .object([
                ("type", .string("array")),
                ("items", .object([("oneOf", .array(family.kinds.map(entry)))])),
            ])
        case .dictionary(let value):
            return .object([("type", .string("object")), ("additionalProperties", self.kind(value))])
        case .list(let item):
            return .object([("type", .string("array")), ("items", self.kind(item))])
        case .timestamp:
            return .object([("type", .string("string")), ("pattern", .string("^[0-9]{4}-[0-9]{2}-[0-9]{2}T"))])
        case .tagged(let tagged):
            return .object([
                (
                    "oneOf",
                    .array(
                        [.object([("type", .string("null"))])]
                            + tagged.variants.map { variant in
                                guard case .object(var pairs) = table(variant.table) else { return .null }
                                if let index = pairs.firstIndex(where: { $0.0 == "properties" }), case .object(var props) = pairs[index].1,
                                    let typeIndex = props.firstIndex(where: { $0.0 == "type" })
                                {
                                    let optional = variant.tag == tagged.defaultTag
                                    props[typeIndex].1 = .object([("const", .string(variant.tag))])
                                    pairs[index].1 = .object(props)
                                    if !optional {
                                        if let requiredIndex = pairs.firstIndex(where: { $0.0 == "required" }),
                                            case .array(let names) = pairs[requiredIndex].1
                                        {
                                            pairs[requiredIndex].1 = .array([.string(tagged.tagKey)] + names)
                                        } else {
                                            pairs.append(("required", .array([.string(tagged.tagKey)])))
                                        }
                                    }
                                }
                                return .object(pairs)
                            })
                )
            ])
        }
    }

    private static func entry(_ kind: EntryKind) -> JSON {
        var options = table(kind.table)
        var forms = [options]
        if let scalarKey = kind.scalarKey, let key = kind.table.key(scalarKey) { forms.append(self.kind(key.kind)) }
        if kind.table.keys.allSatisfy({ !$0.required }) { forms.append(.object([("type", .string("null"))])) }
        if forms.count > 1 { options = .object([("oneOf", .array(forms))]) }
        return .object([
            ("type", .string("object")),
            ("description", .string(kind.table.summary)),
            ("additionalProperties", .bool(false)),
            ("required", .array([.string(kind.name)])),
            ("properties", .object([(kind.name, options)])),
        ])
    }
}
