import YAMLTree

/// What YAML 1.1 tools (cloud-init's PyYAML, older go-yaml) make of a plain scalar that updatectl,
/// typing by the schema, reads as text.
enum YAML11 {
    enum Reading {
        case boolean(Bool)
        case octal(Int)
        case sexagesimal(Int)
    }

    static func reading(of scalar: Scalar) -> Reading? {
        guard scalar.style == .plain else { return nil }
        let text = scalar.value
        // Fast exit: every YAML 1.1 boolean starts with y, n, o, t or f (any case), every octal
        // with 0, every base-60 number with a digit; most text starts otherwise or is long.
        guard let first = text.utf8.first else { return nil }
        let lower = first | 0x20
        let isDigit = first >= 48 && first <= 57
        guard
            isDigit || lower == UInt8(ascii: "y") || lower == UInt8(ascii: "n") || lower == UInt8(ascii: "o")
                || lower == UInt8(ascii: "t") || lower == UInt8(ascii: "f")
        else { return nil }
        if !isDigit, text.utf8.count > 5 { return nil }
        if isDigit, !text.utf8.allSatisfy({ ($0 >= 48 && $0 <= 58) || $0 == 95 }) { return nil }
        // A number without a leading 0 (octal) or a `:` (base 60) reads the same in both.
        if isDigit, first != UInt8(ascii: "0"), !text.utf8.contains(UInt8(ascii: ":")) { return nil }
        switch text {
        case "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE": return .boolean(true)
        case "n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE": return .boolean(false)
        default: break
        }
        let digits = text.filter { $0 != "_" }
        if digits.count > 1, digits.hasPrefix("0"), digits.allSatisfy({ ("0"..."7").contains($0) }),
            let value = Int(digits, radix: 8)
        {
            return .octal(value)
        }
        let parts = digits.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count >= 2, let first = parts.first, !first.isEmpty, first.first != "0",
            first.allSatisfy(\.isNumber),
            parts.dropFirst().allSatisfy({ (1...2).contains($0.count) && $0.allSatisfy(\.isNumber) }),
            parts.dropFirst().allSatisfy({ Int($0)! < 60 })
        {
            var value = 0
            for part in parts { value = value * 60 + Int(part)! }
            return .sexagesimal(value)
        }
        return nil
    }

    /// "the boolean true", "the octal number 493", "the number 79200 (base 60)".
    static func describe(_ reading: Reading) -> String {
        switch reading {
        case .boolean(let value): "the boolean \(value)"
        case .octal(let value): "the number \(value) (octal)"
        case .sexagesimal(let value): "the number \(value) (base 60)"
        }
    }
}
