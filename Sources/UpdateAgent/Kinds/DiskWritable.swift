public import UpdatePolicy

#if canImport(Glibc)
import Glibc
#endif

extension DiskWritableProbe: ProbeEvaluating {
    /// Writes, fsyncs, reads back and removes 1 KiB under the path.
    func evaluate(_ probe: Probe, variables: [String: String], _ env: CheckEnvironment) -> (passed: Bool, detail: String) {
        let directory = path.value
        let file = directory + "/.updatectl-probe-\(getpid())-\(Monotonic.now() % 1_000_000)"
        var bytes = [UInt8](repeating: 0, count: 1024)
        for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index &* 131 &+ Int(getpid())) }
        defer { unlink(file) }
        let fd = open(file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return (false, "cannot create a file in \(directory): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        do {
            try AtomicFile.writeAll(fd, bytes, path: file)
        } catch {
            return (false, "\(error)")
        }
        guard fsync(fd) == 0 else { return (false, "fsync in \(directory) failed: \(String(cString: strerror(errno)))") }
        var back = [UInt8](repeating: 0, count: 1024)
        guard pread(fd, &back, back.count, 0) == back.count, back == bytes else {
            return (false, "what was written in \(directory) did not read back the same")
        }
        return (true, "wrote, synced and read back 1 KiB in \(directory)")
    }
}
