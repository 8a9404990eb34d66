/// An OCI repository as a policy names it: `host[:port]/path`, https unless written `http://`,
/// optionally pinned to a manifest or index by digest (`host/path@sha256:<hex>`).
public struct RegistryReference: Sendable, Hashable, CustomStringConvertible {
    /// `registry.example.com`, `127.0.0.1:5000`.
    public var host: String
    /// `kubesolo/os`.
    public var repository: String
    public var plainHTTP: Bool
    /// The digest after `@`, when the reference pins one.
    public var digest: String?

    public init(host: String, repository: String, plainHTTP: Bool, digest: String? = nil) {
        self.host = host
        self.repository = repository
        self.plainHTTP = plainHTTP
        self.digest = digest
    }

    /// `sha256:` and 64 lower-case hex digits: the one digest form updatectl puts in a URL.
    public static func isDigest(_ text: String) -> Bool {
        let hex = text.utf8.dropFirst(7)
        return text.hasPrefix("sha256:") && hex.count == 64
            && hex.allSatisfy {
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0)
            }
    }

    /// An OCI tag: letters, digits, `_`, `.` and `-`, at most 128, not starting with `.` or `-`.
    public static func isTag(_ text: String) -> Bool {
        guard let first = text.first, text.count <= 128, first != ".", first != "-" else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }
    }

    /// `host/path:tag`, or `host/path@sha256:…` for a digest.
    public func named(_ tagOrDigest: String) -> String {
        "\(self)" + (tagOrDigest.hasPrefix("sha256:") ? "@" : ":") + tagOrDigest
    }

    public static func parse(_ text: String) -> RegistryReference? {
        var pinned: String?
        var text = text
        if let at = text.firstIndex(of: "@") {
            pinned = String(text[text.index(after: at)...])
            text = String(text[..<at])
            guard let pinned, isDigest(pinned) else { return nil }
        }
        var rest = Substring(text)
        var plain = false
        if rest.hasPrefix("http://") {
            plain = true
            rest = rest.dropFirst(7)
        } else if rest.hasPrefix("https://") {
            rest = rest.dropFirst(8)
        }
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        let host = String(rest[..<slash])
        let repository = String(rest[rest.index(after: slash)...])
        let hostOK = !host.isEmpty && host.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ".-:".contains($0)) }
        // Distribution's grammar: lower-case components separated by `/`, each with `.`, `_`, `-`.
        let components = repository.split(separator: "/", omittingEmptySubsequences: false)
        let repositoryOK =
            !components.isEmpty
            && components.allSatisfy { part in
                !part.isEmpty && part.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || "._-".contains($0)) }
                    && part.first!.isASCII && (part.first!.isLowercase || part.first!.isNumber)
            }
        guard hostOK, repositoryOK else { return nil }
        return RegistryReference(host: host, repository: repository, plainHTTP: plain, digest: pinned)
    }

    /// `https://host/v2/repository` (without the digest).
    public var base: String { (plainHTTP ? "http://" : "https://") + host + "/v2/" + repository }

    public var description: String { (plainHTTP ? "http://" : "") + host + "/" + repository }
}
