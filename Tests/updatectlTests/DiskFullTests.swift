import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A small tmpfs, where the machine lets the tests mount one (root, and mounts allowed).
final class SmallFileSystem {
    let path: String

    static let available: Bool = {
        guard getuid() == 0, let probe = try? SmallFileSystem(bytes: 65536) else { return false }
        probe.unmount()
        return true
    }()

    init(bytes: Int) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("updatectl-tmpfs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard mount("tmpfs", path, "tmpfs", 0, "size=\(bytes),mode=0755") == 0 else {
            rmdir(path)
            throw CocoaError(.fileWriteNoPermission)
        }
    }

    func unmount() {
        umount(path)
        rmdir(path)
    }

    /// Fills the file system to the last byte.
    func fill() {
        let fd = open(path + "/filler", O_WRONLY | O_CREAT, 0o600)
        var block = [UInt8](repeating: 0xAB, count: 4096)
        while write(fd, &block, block.count) > 0 {}
        var byte: UInt8 = 1
        while write(fd, &byte, 1) > 0 {}
        close(fd)
    }
}

@Suite(.serialized, .enabled(if: SmallFileSystem.available, "needs root and a tmpfs mount"))
struct DiskFullTests {
    @Test func aSaveOnAFullDiskFailsAndKeepsTheOldState() throws {
        let disk = try SmallFileSystem(bytes: 64 << 10)
        defer { disk.unmount() }
        let state = disk.path + "/state.json"
        let old =
            "{\"phase\": \"failed\", \"to_version\": \"1.1.0\", \"started_at\": \"0001-01-01T00:00:00Z\", \"updated_at\": \"2026-05-14T19:09:00Z\", \"last_error\": \"x\", \"attempt_count\": 2}\n"
        try old.write(toFile: state, atomically: false, encoding: .utf8)
        disk.fill()
        let result = try CLI.run(["state", "reset", "--yes", "--state", state])
        #expect(result.status != 0)
        #expect(result.stderr.contains("No space left on device"))
        #expect(try String(contentsOfFile: state, encoding: .utf8) == old)
        let files = try FileManager.default.contentsOfDirectory(atPath: disk.path).sorted()
        #expect(files == ["filler", "state.json", "state.json.lock"])
    }

    @Test func aDownloadOnAFullDiskFailsCleanly() async throws {
        let disk = try SmallFileSystem(bytes: 128 << 10)
        defer { disk.unmount() }
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let release = ReleaseFixture()
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(400_000))
        let node = try TestNode()
        try node.directory.write(
            "policy.yaml",
            """
            updates:
              server: \(server.base)
              layout: per_channel
              public_key: \(release.publicKeyText)
              data_dir: \(node.data)
              preflight: []  # updatectl: disable=UPD405
              backend: {type: directory, root: \(disk.path)/slots, initial_version: 1.0.0}

            """)
        let result = try await node.apply()
        #expect(result.status == 1)
        #expect(result.stderr.contains("No space left on device"))
        #expect(try node.state()["phase"] as? String == "failed")
        let booted = try String(contentsOfFile: disk.path + "/slots/booted", encoding: .utf8)
        let next = try String(contentsOfFile: disk.path + "/slots/next", encoding: .utf8)
        #expect(booted == "a\n" && next == "a\n")
        #expect(!FileManager.default.fileExists(atPath: disk.path + "/slots/b/image"))
    }
}
