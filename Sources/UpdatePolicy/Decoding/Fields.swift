import YAMLTree

/// Typed access to a decoded mapping, with defaults read from the same key table that decoded it.
struct Fields {
    let mapping: DecodedMapping
    let table: Table

    func origin(_ key: String) -> Origin {
        if let field = mapping[key] {
            switch field.source {
            case nil: return .policy(field.start)
            case .file(let path)?: return .file(path, field.start)
            case .flags?: return .flag(PolicyLayer.flagName(key))
            }
        }
        if let mark = mapping.invalid[key] { return .invalid(mark) }
        return .defaulted
    }

    private func defaultText(_ key: String) -> String {
        guard let text = table.key(key)?.defaultText else {
            preconditionFailure("key \(key) of \(table.name) has no default")
        }
        return text.hasPrefix("\"") && text.hasSuffix("\"") && text.count >= 2 ? String(text.dropFirst().dropLast()) : text
    }

    func duration(_ key: String) -> Located<Duration> {
        if case .duration(let value)? = mapping[key]?.value { return Located(value, origin(key)) }
        return Located(DurationText.parse(defaultText(key))!, origin(key))
    }

    func optionalDuration(_ key: String) -> Located<Duration>? {
        if case .duration(let value)? = mapping[key]?.value { return Located(value, origin(key)) }
        return nil
    }

    func percentage(_ key: String) -> Located<Double> {
        if case .percentage(let value)? = mapping[key]?.value { return Located(value, origin(key)) }
        let text = defaultText(key)
        return Located(Double(text.hasSuffix("%") ? String(text.dropLast()) : text) ?? 0, origin(key))
    }

    func integer(_ key: String) -> Located<Int> {
        if case .integer(let value)? = mapping[key]?.value { return Located(value, origin(key)) }
        return Located(Int(defaultText(key)) ?? 0, origin(key))
    }

    func text(_ key: String) -> Located<String> {
        if case .text(let value)? = mapping[key]?.value { return Located(value, origin(key)) }
        return Located(defaultText(key), origin(key))
    }

    func optionalText(_ key: String) -> Located<String>? {
        if case .text(let value)? = mapping[key]?.value { return Located(value, origin(key)) }
        return nil
    }

    func url(_ key: String) -> Located<PolicyURL>? {
        if case .url(let value)? = mapping[key]?.value { return Located(value, origin(key)) }
        return nil
    }

    func urls(_ key: String) -> Located<[PolicyURL]>? {
        guard case .list(let items)? = mapping[key]?.value else { return nil }
        return Located(items.compactMap { if case .url(let url) = $0 { url } else { nil } }, origin(key))
    }

    func command(_ key: String) -> Located<[String]>? {
        if case .command(let value)? = mapping[key]?.value { return Located(value, origin(key)) }
        return nil
    }

    func time(_ key: String) -> Located<TimeOfDay>? {
        if case .time(let value)? = mapping[key]?.value { return Located(value, origin(key)) }
        return nil
    }

    /// The window a `timeRange` key gives: nil when absent, `.some(nil)` when empty (always open).
    func timeRange(_ key: String) -> Located<TimeRange?>? {
        if case .timeRange(let value)? = mapping[key]?.value { return Located(value, origin(key)) }
        return nil
    }

    func days(_ key: String) -> Located<[Weekday]> {
        if case .days(let value)? = mapping[key]?.value { return Located(value, origin(key)) }
        return Located(Weekday.allCases, origin(key))
    }

    func address(_ key: String) -> Located<HostPort>? {
        if case .address(let value)? = mapping[key]?.value { return Located(value, origin(key)) }
        return nil
    }

    func rate(_ key: String) -> Located<Int> {
        if case .rate(let value)? = mapping[key]?.value { return Located(value, origin(key)) }
        return Located(RateText.parse(defaultText(key)) ?? 0, origin(key))
    }

    func boolean(_ key: String) -> Located<Bool> {
        if case .boolean(let value)? = mapping[key]?.value { return Located(value, origin(key)) }
        return Located(defaultText(key) == "true", origin(key))
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
