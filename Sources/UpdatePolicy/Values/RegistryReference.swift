/// An OCI repository as a policy names it: `host[:port]/path`, https unless written `http://`.
public struct RegistryReference: Sendable, Hashable, CustomStringConvertible {
    /// `registry.example.com`, `127.0.0.1:5000`.
    public var host: String
    /// `kubesolo/os`.
    public var repository: String
    public var plainHTTP: Bool

    public static func parse(_ text: String) -> RegistryReference? {
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
        return RegistryReference(host: host, repository: repository, plainHTTP: plain)
    }

    /// `https://host/v2/repository`.
    public var base: String { (plainHTTP ? "http://" : "https://") + host + "/v2/" + repository }

    public var description: String { (plainHTTP ? "http://" : "") + host + "/" + repository }
}
