import JSONValue

/// Transfer rates as policies write them: a number, a unit and `/s` — `32KiB/s`, `2MiB/s`,
/// `500kB/s`, `1000B/s`. IEC units (`KiB`, `MiB`, `GiB`) count 1024s, SI units (`kB`, `MB`, `GB`)
/// 1000s; `0` means no limit.
public enum RateText {
    static let units: [(String, Int)] = [
        ("B", 1), ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("kB", 1000), ("KB", 1000), ("MB", 1_000_000),
        ("GB", 1_000_000_000),
    ]

    /// Bytes per second; nil when `text` is not a rate.
    public static func parse(_ text: String) -> Int? {
        if text == "0" { return 0 }
        guard text.hasSuffix("/s") else { return nil }
        let body = text.dropLast(2)
        let digits = body.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 9, let number = Int(digits) else { return nil }
        let unit = String(body.dropFirst(digits.count))
        guard let factor = units.first(where: { $0.0 == unit })?.1 else { return nil }
        return number * factor
    }

    /// `2MiB/s`, `32KiB/s`, `1500B/s`: the largest IEC unit that divides the value.
    public static func format(_ bytesPerSecond: Int) -> String {
        if bytesPerSecond == 0 { return "0" }
        for (unit, factor) in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] where bytesPerSecond % factor == 0 {
            return "\(bytesPerSecond / factor)\(unit)/s"
        }
        return "\(bytesPerSecond)B/s"
    }

    /// The JSON Schema pattern of the same syntax.
    public static let pattern = "^(0|[0-9]{1,9}(B|KiB|MiB|GiB|kB|KB|MB|GB)/s)$"

    /// Bytes written as sizes are (`4GiB`, `500MB`, `1024B`, the units of rates without `/s`);
    /// nil when `text` is not a size.
    public static func parseSize(_ text: String) -> Int? {
        parse(text == "0" ? text : text + "/s")
    }

    /// `4GiB`, `512MiB`, `1500B`.
    public static func formatSize(_ bytes: Int) -> String {
        let rate = format(bytes)
        return rate.hasSuffix("/s") ? String(rate.dropLast(2)) : rate
    }

    /// The JSON Schema pattern of sizes.
    public static let sizePattern = "^(0|[0-9]{1,9}(B|KiB|MiB|GiB|kB|KB|MB|GB))$"
}
