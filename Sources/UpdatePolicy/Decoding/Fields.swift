import YAMLTree

/// Typed access to a decoded mapping, with defaults read from the same key table that decoded it.
struct Fields {
    let mapping: DecodedMapping
    let table: Table

    func origin(_ key: String) -> Origin {
        origin(key, mapping[key])
    }

    /// Where `field`, the value of `key` (nil when it was not given or did not decode), came from.
    private func origin(_ key: String, _ field: DecodedField?) -> Origin {
        if let field {
            switch field.source {
            case nil: return .policy(field.start)
            case .file(let path)?: return .file(path, field.start)
            case .flags?: return .flag(PolicyLayer.flagName(key))
            }
        }
        if !mapping.invalid.isEmpty, let mark = mapping.invalid[key] { return .invalid(mark) }
        return .defaulted
    }

    /// The decoded value of `key`, if it decoded, and where it came from; one look-up for both.
    private func lookUp(_ key: String) -> (value: DecodedValue?, origin: Origin) {
        let field = mapping[key]
        return (field?.value, origin(key, field))
    }

    /// The default of `key`, read once per table (`Table.defaults`).
    private func defaultValue(_ key: String) -> ParsedDefault {
        guard let index = table.index(of: key), let parsed = table.defaults[index] else {
            preconditionFailure("key \(key) of \(table.name) has no default")
        }
        return parsed
    }

    func duration(_ key: String) -> Located<Duration> {
        let (found, origin) = lookUp(key)
        if case .duration(let value)? = found { return Located(value, origin) }
        guard let value = defaultValue(key).duration else { preconditionFailure("the default of \(key) is no duration") }
        return Located(value, origin)
    }

    func optionalDuration(_ key: String) -> Located<Duration>? {
        let (found, origin) = lookUp(key)
        if case .duration(let value)? = found { return Located(value, origin) }
        return nil
    }

    func percentage(_ key: String) -> Located<Double> {
        let (found, origin) = lookUp(key)
        if case .percentage(let value)? = found { return Located(value, origin) }
        return Located(defaultValue(key).percentage, origin)
    }

    func fraction(_ key: String) -> Located<Double> {
        let (found, origin) = lookUp(key)
        if case .fraction(let value)? = found { return Located(value, origin) }
        return Located(defaultValue(key).fraction, origin)
    }

    func integer(_ key: String) -> Located<Int> {
        let (found, origin) = lookUp(key)
        if case .integer(let value)? = found { return Located(value, origin) }
        return Located(defaultValue(key).integer, origin)
    }

    func text(_ key: String) -> Located<String> {
        let (found, origin) = lookUp(key)
        if case .text(let value)? = found { return Located(value, origin) }
        return Located(defaultValue(key).text, origin)
    }

    func optionalText(_ key: String) -> Located<String>? {
        let (found, origin) = lookUp(key)
        if case .text(let value)? = found { return Located(value, origin) }
        return nil
    }

    func url(_ key: String) -> Located<PolicyURL>? {
        let (found, origin) = lookUp(key)
        if case .url(let value)? = found { return Located(value, origin) }
        return nil
    }

    func urls(_ key: String) -> Located<[PolicyURL]>? {
        guard case .list(let items)? = mapping[key]?.value else { return nil }
        return Located(items.compactMap { if case .url(let url) = $0 { url } else { nil } }, origin(key))
    }

    func command(_ key: String) -> Located<[String]>? {
        let (found, origin) = lookUp(key)
        if case .command(let value)? = found { return Located(value, origin) }
        return nil
    }

    /// A list of commands, where the list was written; nil when it did not decode.
    func commands(_ key: String) -> [Located<[String]>]? {
        let (found, origin) = lookUp(key)
        guard case .list(let items)? = found else { return nil }
        return items.compactMap { if case .command(let argv) = $0 { Located(argv, origin) } else { nil } }
    }

    func time(_ key: String) -> Located<TimeOfDay>? {
        let (found, origin) = lookUp(key)
        if case .time(let value)? = found { return Located(value, origin) }
        return nil
    }

    /// The window a `timeRange` key gives: nil when absent, `.some(nil)` when empty (always open).
    func timeRange(_ key: String) -> Located<TimeRange?>? {
        let (found, origin) = lookUp(key)
        if case .timeRange(let value)? = found { return Located(value, origin) }
        return nil
    }

    func days(_ key: String) -> Located<[Weekday]> {
        let (found, origin) = lookUp(key)
        if case .days(let value)? = found { return Located(value, origin) }
        return Located(Weekday.allCases, origin)
    }

    func address(_ key: String) -> Located<HostPort>? {
        let (found, origin) = lookUp(key)
        if case .address(let value)? = found { return Located(value, origin) }
        return nil
    }

    func rate(_ key: String) -> Located<Int> {
        let (found, origin) = lookUp(key)
        if case .rate(let value)? = found { return Located(value, origin) }
        return Located(defaultValue(key).rate, origin)
    }

    func size(_ key: String) -> Located<Int> {
        let (found, origin) = lookUp(key)
        if case .size(let value)? = found { return Located(value, origin) }
        return Located(defaultValue(key).size, origin)
    }

    func boolean(_ key: String) -> Located<Bool> {
        let (found, origin) = lookUp(key)
        if case .boolean(let value)? = found { return Located(value, origin) }
        return Located(defaultValue(key).boolean, origin)
    }

    func nested(_ key: String, _ nestedTable: Table) -> Fields {
        if case .mapping(let value)? = mapping[key]?.value { return Fields(mapping: value, table: nestedTable) }
        return Fields(mapping: DecodedMapping(node: mapping.node), table: nestedTable)
    }

    func entries(_ key: String) -> [DecodedEntry]? {
        if case .entries(let value)? = mapping[key]?.value { return value }
        return nil
    }
}
