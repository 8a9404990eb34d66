import YAMLTree

/// The lines of a source buffer, for showing a finding's line with a caret under its span.
struct SourceLines {
    private let source: [UInt8]
    private var starts: [Int] = [0]

    init(_ source: [UInt8]) {
        self.source = source
        for (index, byte) in source.enumerated() where byte == 0x0A { starts.append(index + 1) }
    }

    /// Line `number` (1-based) without its line break, or nil past the end.
    func line(_ number: Int) -> String? {
        guard number >= 1, number <= starts.count else { return nil }
        let start = starts[number - 1]
        var end = number < starts.count ? starts[number] - 1 : source.count
        if end > start, source[end - 1] == 0x0D { end -= 1 }
        guard start <= end else { return nil }
        var text = String(decoding: source[start..<end], as: UTF8.self)
        if number == 1, text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        return text
    }

    /// The line with tabs shown as spaces, and a caret line under columns `from..<to` (1-based,
    /// Unicode scalars); the caret runs to the line's end when `to` is nil.
    /// A character as the excerpt shows it, one column wide: a control character a terminal would
    /// obey (ESC, a bidi override…) as its Control Pictures symbol (`␛`) or `�`, never itself.
    static func visible(_ scalar: Unicode.Scalar) -> String {
        switch scalar.value {
        case 0..<0x20: String(Unicode.Scalar(0x2400 + scalar.value)!)
        case 0x7F: "\u{2421}"
        case 0x80..<0xA0, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: "\u{FFFD}"
        default: String(scalar)
        }
    }

    static func caret(_ line: String, from: Int, to: Int?) -> (line: String, caret: String) {
        var shown = ""
        var caret = ""
        var column = 1
        var marked = false
        for scalar in line.unicodeScalars {
            let text = scalar == "\t" ? "    " : Self.visible(scalar)
            let width = scalar == "\t" ? 4 : 1
            shown += text
            let inside = column >= from && column < (to ?? Int.max)
            caret += String(repeating: inside ? "^" : " ", count: width)
            if inside { marked = true }
            column += 1
        }
        if !marked { caret += "^" }
        while caret.hasSuffix(" ") { caret.removeLast() }
        return (shown, caret)
    }
}
