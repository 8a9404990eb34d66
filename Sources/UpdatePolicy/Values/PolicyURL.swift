/// An absolute URL of one of the schemes a key accepts, split into what the executor needs.
public struct PolicyURL: Sendable, Hashable, CustomStringConvertible {
    public var text: String
    public var scheme: String
    /// Host, with a port when one was given; empty for `file` URLs.
    public var authority: String
    /// The path, starting with `/` (may be empty for `http://host`), with the query and fragment
    /// (`?…`, `#…`) when there are any.
    public var path: String

    public var description: String { text }

    public enum Problem: Error, Equatable {
        case notAbsolute
        case scheme(String)
        case noHost
        case whitespace
        case badPort
    }

    /// Parses `text` as an absolute URL whose scheme is one of `schemes`. Works on the UTF-8
    /// bytes: large policies hold thousands of URLs.
    public static func parse(_ text: String, schemes: [String]) -> Result<PolicyURL, Problem> {
        var bytes = text
        return bytes.withUTF8 { parse(text, $0, schemes: schemes) }
    }

    /// `parse` over `text`'s bytes, read in place.
    private static func parse(_ text: String, _ b: UnsafeBufferPointer<UInt8>, schemes: [String]) -> Result<PolicyURL, Problem> {
        if b.contains(where: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A }) { return .failure(.whitespace) }
        var colon = 0
        while colon < b.count, b[colon] != UInt8(ascii: ":") { colon += 1 }
        guard colon > 0, colon + 2 < b.count, b[colon + 1] == UInt8(ascii: "/"), b[colon + 2] == UInt8(ascii: "/") else {
            return .failure(.notAbsolute)
        }
        var scheme = ""
        for byte in b[0..<colon] {
            let lower = byte >= 65 && byte <= 90 ? byte + 32 : byte
            guard (lower >= 97 && lower <= 122) || (lower >= 48 && lower <= 57) || lower == 43 || lower == 45 || lower == 46
            else { return .failure(.notAbsolute) }
            scheme.unicodeScalars.append(Unicode.Scalar(lower))
        }
        guard schemes.contains(scheme) else { return .failure(.scheme(scheme)) }
        let restStart = colon + 3
        // The authority ends at the path, the query or the fragment (RFC 3986 3.2).
        var slash = restStart
        while slash < b.count, b[slash] != UInt8(ascii: "/"), b[slash] != UInt8(ascii: "?"), b[slash] != UInt8(ascii: "#") {
            slash += 1
        }
        let authority = String(decoding: b[restStart..<slash], as: UTF8.self)
        let path = String(decoding: b[slash...], as: UTF8.self)
        if scheme == "file" {
            guard authority.isEmpty || authority == "localhost", path.hasPrefix("/") else { return .failure(.noHost) }
        } else {
            guard slash > restStart, b[restStart] != UInt8(ascii: ":") else { return .failure(.noHost) }
            var hostStart = restStart
            for index in restStart..<slash where b[index] == UInt8(ascii: "@") { hostStart = index + 1 }
            let hostPort = b[hostStart..<slash]
            var portStart: Int?
            if hostPort.first == UInt8(ascii: "[") {
                if let close = hostPort.firstIndex(of: UInt8(ascii: "]")), close + 1 < slash, b[close + 1] == UInt8(ascii: ":") {
                    portStart = close + 2
                }
            } else if let last = hostPort.lastIndex(of: UInt8(ascii: ":")) {
                portStart = last + 1
            }
            if let portStart {
                let digits = b[portStart..<slash]
                guard !digits.isEmpty, digits.count <= 5, digits.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                    let port = Int(String(decoding: digits, as: UTF8.self)), (1...65535).contains(port)
                else { return .failure(.badPort) }
            }
        }
        return .success(PolicyURL(text: text, scheme: scheme, authority: authority, path: path))
    }
}

/// `host:port`, with `[v6]:port` for IPv6.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public static func parse(_ text: String) -> HostPort? {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()), (1...65535).contains(port), !host.isEmpty
            else { return nil }
            return HostPort(host: host, port: port)
        }
        // By UTF-8 bytes: a colon or space is one byte, and the slices stay on character bounds.
        guard let colon = text.utf8.lastIndex(of: UInt8(ascii: ":")) else { return nil }
        let host = String(text[..<colon])
        guard !host.isEmpty, !host.containsByte(UInt8(ascii: ":")), !host.containsByte(UInt8(ascii: " ")),
            let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port)
        else { return nil }
        return HostPort(host: host, port: port)
    }

    /// The text after the port colon of an authority, if there is one.
    static func portPart(of authority: String) -> Substring? {
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            let rest = authority[authority.index(after: close)...]
            return rest.hasPrefix(":") ? rest.dropFirst() : nil
        }
        guard let colon = authority.lastIndex(of: ":") else { return nil }
        return authority[authority.index(after: colon)...]
    }
}
