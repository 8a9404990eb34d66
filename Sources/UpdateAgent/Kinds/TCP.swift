public import UpdatePolicy

#if canImport(Glibc)
import Glibc
#endif

extension TCPProbe: ProbeEvaluating {
    /// A non-blocking connect, then poll(2) until it completes or the timeout passes.
    func evaluate(_ probe: Probe, variables: [String: String], _ env: CheckEnvironment) -> (passed: Bool, detail: String) {
        let address = self.address.value
        let timeout = probe.timeout.value
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(address.host, String(address.port), &hints, &list) == 0, let first = list else {
            return (false, "cannot resolve \(address.host)")
        }
        defer { freeaddrinfo(list) }
        let fd = socket(
            first.pointee.ai_family, first.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
            first.pointee.ai_protocol)
        guard fd >= 0 else { return (false, "cannot make a socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        if Glibc.connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 { return (true, "connected to \(address)") }
        guard errno == EINPROGRESS else { return (false, "connect to \(address): \(String(cString: strerror(errno)))") }
        var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let milliseconds = Int32(min(Int64(Int32.max), DurationText.milliseconds(timeout)))
        guard poll(&entry, 1, milliseconds) > 0 else {
            return (false, "connect to \(address) timed out after \(DurationText.format(timeout))")
        }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        return error == 0 ? (true, "connected to \(address)") : (false, "connect to \(address): \(String(cString: strerror(error)))")
    }
}
