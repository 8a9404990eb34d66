/// `tcp`: a TCP connection to an address opens.
public struct TCPProbe: DecodableProbe {
    public var address: Located<HostPort>

    public static let entry = EntryKind.probe(
        "tcp", example: #"- tcp: {name: apiserver, address: "127.0.0.1:6443", timeout: 2s}"#, timeout: "5s",
        "Passes when a TCP connection to `address` opens.",
        [
            Key("address", .hostPort, required: true, "`host:port`, `[v6]:port` for IPv6.")
        ], type: TCPProbe.self)

    init?(_ options: Fields, _ context: inout KindContext) {
        guard let address = options.address("address") else { return nil }
        self.address = address
    }

    public var summary: String { "TCP connect to \(address.value)" }
    public var parameters: [Parameter] { [Parameter("address", .text(address.value.description), address.origin)] }
}
