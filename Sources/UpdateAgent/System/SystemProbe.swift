import UpdatePolicy

#if canImport(Glibc)
import Glibc
#endif

/// Facts about the machine that gates and probes read.
public protocol SystemProbe: Sendable {
    func hostname() -> String
    /// `/etc/machine-id`, trimmed.
    func machineID() throws -> String
    /// This machine's architecture in Go's names (`amd64`, `arm64`…), as KubeSolo OS releases
    /// name theirs.
    func architecture() -> String
    /// Bytes free for an unprivileged writer on the file system holding `path` (statfs).
    func freeBytes(at path: String) throws -> UInt64
    /// The kubectl to run, or nil when there is none.
    func kubectl() -> String?
    func fileExists(_ path: String) -> Bool
    func environment(_ name: String) -> String?
    /// A small text file (sysfs, procfs, a status file), at most `limit` bytes, trimmed: what a
    /// kind reads of the machine without a method of its own here.
    func readText(_ path: String, limit: Int) throws -> String
}

public struct LiveSystem: SystemProbe {
    public init() {}

    public func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public func machineID() throws -> String {
        // A test-only override (debug builds), since a test cannot write /etc/machine-id.
        if let override = TestSwitches.value("MACHINE_ID") { return override }
        guard let bytes = try AtomicFile.read("/etc/machine-id", limit: 4096, followingLinks: true) else {
            throw SystemError("cannot read", "/etc/machine-id", code: ENOENT)
        }
        return String(decoding: bytes, as: UTF8.self).trimmingSpaces
    }

    public func architecture() -> String {
        // A test-only override (debug builds): tests offer releases for "another" machine.
        if let override = TestSwitches.value("ARCH") { return override }
        var name = utsname()
        uname(&name)
        let machine = withUnsafeBytes(of: name.machine) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return GoArchitecture.name(machine: machine)
    }

    /// For a path that does not exist yet (a slot folder before the first download, or a dry
    /// run, which creates nothing), the file system of its nearest existing parent.
    public func freeBytes(at path: String) throws -> UInt64 {
        var info = statvfs()
        var current = path
        while statvfs(current, &info) != 0 {
            guard errno == ENOENT, current != "/", !current.isEmpty else { throw SystemError("cannot statfs", path) }
            current = Paths.directory(of: current)
        }
        return UInt64(info.f_bavail) * UInt64(info.f_frsize)
    }

    public func kubectl() -> String? {
        let search = environment("PATH") ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in search.split(separator: ":") {
            let candidate = String(directory) + "/kubectl"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    public func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public func readText(_ path: String, limit: Int) throws -> String {
        guard let bytes = try AtomicFile.read(path, limit: limit, followingLinks: true) else {
            throw SystemError("cannot read", path, code: ENOENT)
        }
        return String(decoding: bytes.prefix(limit), as: UTF8.self).trimmingSpaces
    }

    public func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
}

/// Go's `GOARCH` names for what `uname -m` says.
public enum GoArchitecture {
    public static func name(machine: String) -> String {
        switch machine {
        case "x86_64", "amd64": "amd64"
        case "aarch64", "arm64": "arm64"
        case "i386", "i486", "i586", "i686": "386"
        case "riscv64": "riscv64"
        case "ppc64le": "ppc64le"
        case "ppc64": "ppc64"
        case "s390x": "s390x"
        case "loongarch64": "loong64"
        case "mips64": "mips64"
        case "mips64el": "mips64le"
        default: machine.hasPrefix("armv") || machine == "arm" ? "arm" : machine
        }
    }
}
