#if canImport(Glibc)
import Glibc
#endif

/// Facts about the machine that gates and probes read.
public protocol SystemProbe: Sendable {
    func hostname() -> String
    /// `/etc/machine-id`, trimmed.
    func machineID() throws -> String
    /// Bytes free for an unprivileged writer on the file system holding `path` (statfs).
    func freeBytes(at path: String) throws -> UInt64
    /// The kubectl to run, or nil when there is none.
    func kubectl() -> String?
    func fileExists(_ path: String) -> Bool
    func environment(_ name: String) -> String?
}

public struct LiveSystem: SystemProbe {
    public init() {}

    public func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public func machineID() throws -> String {
        // A test-only override, since a test cannot write /etc/machine-id.
        if let override = environment("UPDATECTL_TEST_MACHINE_ID") { return override }
        guard let bytes = try AtomicFile.read("/etc/machine-id", limit: 4096) else {
            throw SystemError("cannot read", "/etc/machine-id", code: ENOENT)
        }
        return String(decoding: bytes, as: UTF8.self).trimmingSpaces
    }

    public func freeBytes(at path: String) throws -> UInt64 {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { throw SystemError("cannot statfs", path) }
        return UInt64(info.f_bavail) * UInt64(info.f_frsize)
    }

    public func kubectl() -> String? {
        if let explicit = environment("UPDATECTL_KUBECTL") { return explicit }
        let search = environment("PATH") ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in search.split(separator: ":") {
            let candidate = String(directory) + "/kubectl"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    public func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
}
