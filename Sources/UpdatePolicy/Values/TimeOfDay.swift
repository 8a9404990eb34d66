/// A wall-clock time `HH:MM`, 00:00 to 23:59.
public struct TimeOfDay: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var minutes: Int

    public init(hour: Int, minute: Int) { minutes = hour * 60 + minute }

    /// `H:MM` or `HH:MM`, read byte by byte (every maintenance window of every file has two).
    public static func parse(_ text: String) -> TimeOfDay? {
        var text = text
        return text.withUTF8(parse)
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> TimeOfDay? {
        let colon = bytes.count - 3
        guard colon == 1 || colon == 2, bytes[colon] == UInt8(ascii: ":"), let hour = number(bytes[..<colon]),
            let minute = number(bytes[(colon + 1)...]), hour < 24, minute < 60
        else { return nil }
        return TimeOfDay(hour: hour, minute: minute)
    }

    /// The ASCII digits of `bytes` as a number; nil for anything else.
    private static func number(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Int? {
        var value = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    public var description: String {
        let h = minutes / 60
        let m = minutes % 60
        return (h < 10 ? "0" : "") + "\(h):" + (m < 10 ? "0" : "") + "\(m)"
    }

    public static func < (lhs: TimeOfDay, rhs: TimeOfDay) -> Bool { lhs.minutes < rhs.minutes }
}

/// A day of the week as policies write it.
public enum Weekday: String, Sendable, Hashable, CaseIterable, Comparable {
    case mon, tue, wed, thu, fri, sat, sun

    public static func < (lhs: Weekday, rhs: Weekday) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// KubeSolo OS's maintenance window, `HH:MM-HH:MM`: an end before the start crosses midnight.
public struct TimeRange: Sendable, Hashable, CustomStringConvertible {
    public var start: TimeOfDay
    public var end: TimeOfDay

    public static func parse(_ text: String) -> TimeRange? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let start = TimeOfDay.parse(String(parts[0]).filter { $0 != " " }),
            let end = TimeOfDay.parse(String(parts[1]).filter { $0 != " " })
        else { return nil }
        return TimeRange(start: start, end: end)
    }

    public var description: String { "\(start)-\(end)" }
}
