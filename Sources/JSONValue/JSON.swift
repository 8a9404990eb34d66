/// A JSON value with ordered object keys, and a writer whose output is stable byte for byte
/// (golden files and CI diffs depend on it).
public indirect enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public static func == (lhs: JSON, rhs: JSON) -> Bool { lhs.render() == rhs.render() }

    /// Renders the value; `indent` > 0 pretty-prints with that many spaces per level.
    public func render(indent: Int = 2) -> String {
        var out = ""
        write(into: &out, indent: indent, level: 0)
        return out
    }

    private func write(into out: inout String, indent: Int, level: Int) {
        let pretty = indent > 0
        let newline = pretty ? "\n" : ""
        let pad = String(repeating: " ", count: pretty ? indent * (level + 1) : 0)
        let closePad = String(repeating: " ", count: pretty ? indent * level : 0)
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .int(let value): out += String(value)
        case .double(let value):
            if value == value.rounded(), abs(value) < 1e15 { out += String(Int(value)) } else { out += "\(value)" }
        case .string(let value): JSON.escape(value, into: &out)
        case .array(let items):
            if items.isEmpty {
                out += "[]"
                return
            }
            out += "[" + newline
            for (index, item) in items.enumerated() {
                out += pad
                item.write(into: &out, indent: indent, level: level + 1)
                out += (index + 1 < items.count ? "," : "") + newline
            }
            out += closePad + "]"
        case .object(let pairs):
            if pairs.isEmpty {
                out += "{}"
                return
            }
            out += "{" + newline
            for (index, (key, value)) in pairs.enumerated() {
                out += pad
                JSON.escape(key, into: &out)
                out += pretty ? ": " : ":"
                value.write(into: &out, indent: indent, level: level + 1)
                out += (index + 1 < pairs.count ? "," : "") + newline
            }
            out += closePad + "}"
        }
    }

    /// Characters a terminal or an editor acts on although JSON allows them raw: the line and
    /// paragraph separators and the bidirectional controls (written as `\u` escapes, as C1 and DEL
    /// are, so `status --format json | cat` cannot reorder or hide what follows).
    static func isInvisibleControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x061C, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// `text` as a JSON string literal, quotes included. `goStyle`: byte for byte as Go's
    /// `encoding/json` writes it (`<`, `>`, `&`, U+2028 and U+2029 escaped, DEL not), for values
    /// other Go programs compare (Airlock's semaphore).
    public static func quote(_ text: String, goStyle: Bool = false) -> String {
        var out = ""
        escape(text, into: &out, goStyle: goStyle)
        return out
    }

    static func escape(_ text: String, into out: inout String, goStyle: Bool = false) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                let escaped =
                    goStyle
                    ? scalar.value < 0x20 || scalar == "<" || scalar == ">" || scalar == "&" || scalar == "\u{2028}" || scalar == "\u{2029}"
                    : scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || isInvisibleControl(scalar)
                if escaped {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

extension JSON {
    /// `.string(text)`, or `.null` for nil.
    public static func optional(_ text: String?) -> JSON { text.map { .string($0) } ?? .null }
}
