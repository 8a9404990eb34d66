/// Durations as policies write them: `250ms`, `30s`, `5m`, `1h30m`, `2h`, or whole seconds.
public enum DurationText {
    /// The longest duration a policy may give: 30 days.
    public static let maximum = Duration.seconds(30 * 24 * 3600)

    /// Parses `text`; nil when it is not a duration.
    public static func parse(_ text: String) -> Duration? {
        // The bytes in place (no copy into an array): every entry has a timeout or two.
        var text = text
        return text.withUTF8(parse(bytes:))
    }

    private static func parse(bytes: UnsafeBufferPointer<UInt8>) -> Duration? {
        guard !bytes.isEmpty else { return nil }
        if bytes.allSatisfy(isDigit) {
            guard bytes.count <= 9 else { return nil }
            return .seconds(bytes.reduce(Int64(0)) { $0 * 10 + Int64($1 - 48) })
        }
        var total: Int64 = 0
        var index = 0
        var lastRank = Int.max
        while index < bytes.count {
            var number: Int64 = 0
            let digitsStart = index
            while index < bytes.count, isDigit(bytes[index]) {
                guard index - digitsStart < 9 else { return nil }
                number = number * 10 + Int64(bytes[index] - 48)
                index += 1
            }
            guard index > digitsStart, index < bytes.count else { return nil }
            let unit: (millis: Int64, rank: Int)
            if bytes[index] == UInt8(ascii: "m"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "s") {
                unit = (1, 0)
                index += 2
            } else {
                switch bytes[index] {
                case UInt8(ascii: "s"): unit = (1_000, 1)
                case UInt8(ascii: "m"): unit = (60_000, 2)
                case UInt8(ascii: "h"): unit = (3_600_000, 3)
                default: return nil
                }
                index += 1
            }
            // Units go from large to small, each once: 1h30m, not 30m1h.
            guard unit.rank < lastRank else { return nil }
            lastRank = unit.rank
            total += number * unit.millis
        }
        return .milliseconds(total)
    }

    /// The shortest text that parses back to `duration`: `1h30m`, `250ms`, `0s`.
    public static func format(_ duration: Duration) -> String {
        var millis = milliseconds(duration)
        if millis == 0 { return "0s" }
        var out = millis < 0 ? "-" : ""
        millis = abs(millis)
        let hours = millis / 3_600_000
        let minutes = millis / 60_000 % 60
        let seconds = millis / 1_000 % 60
        let rest = millis % 1_000
        if hours > 0 { out += "\(hours)h" }
        if minutes > 0 { out += "\(minutes)m" }
        if seconds > 0 { out += "\(seconds)s" }
        if rest > 0 { out += "\(rest)ms" }
        return out
    }

    /// Whole milliseconds in a duration.
    public static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }
}
