/// A transport whose requests trust the certificate authorities in `caFile` (PEM) instead of the
/// system's bundle, unless a request names its own: the policy's `ca_file`, for the update
/// server and the registry (and what they redirect to).
public struct CertificateAuthorities: Transport {
    public let base: any Transport
    public let caFile: String

    public init(base: any Transport, caFile: String) {
        self.base = base
        self.caFile = caFile
    }

    public func get(_ request: TransportRequest, onData: (UnsafeRawBufferPointer) throws -> Void) throws -> TransportResponse {
        var request = request
        if request.tls.caFile == nil { request.tls.caFile = caFile }
        return try base.get(request, onData: onData)
    }
}
