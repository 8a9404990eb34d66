/// RFC 3339 instants as scenarios write them (`2026-01-05T02:00:00Z`, with an offset or fraction).
public enum TimestampText {
    public static func isValid(_ text: String) -> Bool {
        let b = Array(text.utf8)
        guard b.count >= 20, b[4] == 45, b[7] == 45, b[10] == 84 || b[10] == 116, b[13] == 58, b[16] == 58 else { return false }
        let digits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
        guard digits.allSatisfy({ b[$0] >= 48 && b[$0] <= 57 }) else { return false }
        let last = b[b.count - 1]
        return last == 90 || last == 122 || (b.count >= 25 && b[b.count - 3] == 58)
    }
}
