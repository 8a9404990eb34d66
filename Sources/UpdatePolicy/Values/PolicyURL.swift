/// An absolute URL of one of the schemes a key accepts, split into what the executor needs.
public struct PolicyURL: Sendable, Hashable, CustomStringConvertible {
    public var text: String
    public var scheme: String
    /// Host, with a port when one was given; empty for `file` URLs.
    public var authority: String
    /// The path, starting with `/` (may be empty for `http://host`).
    public var path: String

    public var description: String { text }

    public enum Problem: Error, Equatable {
        case notAbsolute
        case scheme(String)
        case noHost
        case whitespace
        case badPort
    }

    /// Parses `text` as an absolute URL whose scheme is one of `schemes`.
    public static func parse(_ text: String, schemes: [String]) -> Result<PolicyURL, Problem> {
        guard !text.contains(where: { $0 == " " || $0 == "\t" || $0 == "\n" }) else { return .failure(.whitespace) }
        guard let colon = text.firstIndex(of: ":"), text[colon...].hasPrefix("://") else { return .failure(.notAbsolute) }
        let scheme = text[..<colon].lowercased()
        guard !scheme.isEmpty, scheme.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." })
        else { return .failure(.notAbsolute) }
        guard schemes.contains(scheme) else { return .failure(.scheme(scheme)) }
        let rest = text[text.index(colon, offsetBy: 3)...]
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = String(rest[..<slash])
        let path = String(rest[slash...])
        if scheme == "file" {
            guard authority.isEmpty || authority == "localhost", path.hasPrefix("/") else { return .failure(.noHost) }
        } else {
            guard !authority.isEmpty, !authority.hasPrefix(":") else { return .failure(.noHost) }
            let hostPort = authority.split(separator: "@").last.map(String.init) ?? authority
            if let portText = HostPort.portPart(of: hostPort) {
                guard let port = Int(portText), (1...65535).contains(port) else { return .failure(.badPort) }
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
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let host = String(text[..<colon])
        guard !host.isEmpty, !host.contains(":"), !host.contains(" "),
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
