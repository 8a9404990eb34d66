import Crypto
import Foundation
import Testing

/// Downloads over links that drop, fail for a while, ignore `Range` or change under them, from
/// a server written on sockets (`FlakyServer`): KubeSolo OS's release form, signed.
@Suite struct FlakyLinkTests {
    static let kernel = Array(UpstreamRelease.content("vmlinuz 1.1.0", size: 20_000))
    /// 1.5 MiB of bytes that differ everywhere, so a splice or an offset error shows in the hash.
    static let initramfs: [UInt8] = (0..<(3 << 19)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
    static let initramfsPath = "/1.1.0/kubesolo-os.gz"

    /// Publishes the release on `server` (ETags on the files) and a node that applies it.
    func setUp(extra: String = "") throws -> (FlakyServer, TestNode) {
        let server = try FlakyServer()
        let release = UpstreamRelease()
        func hex(_ bytes: [UInt8]) -> String { SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }
        server.set("/1.1.0/vmlinuz", Self.kernel, etag: "\"k1\"")
        server.set(Self.initramfsPath, Self.initramfs, etag: "\"i1\"", lastModified: "Thu, 26 Nov 2026 10:00:00 GMT")
        server.set("/1.1.0/vmlinuz.sig", try #require(try release.signature(Data(Self.kernel), .raw)))
        server.set("/1.1.0/kubesolo-os.gz.sig", try #require(try release.signature(Data(Self.initramfs), .raw)))
        let metadata = """
            {"version": "1.1.0", "vmlinuz_url": "1.1.0/vmlinuz", "vmlinuz_sha256": "\(hex(Self.kernel))",
             "vmlinuz_sig_url": "1.1.0/vmlinuz.sig", "initramfs_url": "1.1.0/kubesolo-os.gz",
             "initramfs_sha256": "\(hex(Self.initramfs))", "initramfs_sig_url": "1.1.0/kubesolo-os.gz.sig",
             "metadata_sig_url": "latest.json.sig", "channel": "stable", "architecture": "amd64"}
            """
        server.set("/latest.json", Data(metadata.utf8))
        server.set("/latest.json.sig", try #require(try release.signature(Data(metadata.utf8), .hex)))
        let node = try TestNode()
        try node.directory.write("release.pub", release.publicKeyHex)
        try node.directory.write(
            "policy.yaml",
            """
            updates:
              server: \(server.base)  # updatectl: disable=UPD406
              pubkey: \(node.root.appendingPathComponent("release.pub").path)
              data_dir: \(node.data)
              reboot: auto
              kube_system_settle: 0
              preflight:
                - free_space: {headroom: 10%}
              backend: {type: directory, root: \(node.slots), initial_version: 1.0.0}
            \(extra)
            """)
        return (server, node)
    }

    /// Runs `apply` in the background and SIGKILLs it 64 KiB into a download.
    func killPartway(_ node: TestNode) async throws {
        let process = try BackgroundProcess(
            ["apply", node.policyPath],
            environment: node.environment.merging(node.amd64) { $1 }
                .merging(["UPDATECTL_TEST_PAUSE": "download.partway"]) { $1 })
        let reached = await process.reached("paused at download.partway")
        #expect(reached, "never reached download.partway: \(process.stderr)")
        process.kill()
    }

    func staged(_ node: TestNode) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: node.slots).appendingPathComponent("b/kubesolo-os.gz")))
    }

    /// Every answer ends after 256 KiB: each try goes on from where the last stopped, in one run,
    /// and no byte is sent twice.
    @Test func aLinkThatDropsEveryFewHundredKiBStillDeliversInOneRun() async throws {
        let (server, node) = try setUp()
        defer { server.stop() }
        server.dropEvery(256 << 10)
        let applied = try await node.apply(environment: node.amd64)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(try staged(node) == Self.initramfs)
        #expect(
            applied.stdout.contains(
                "verify.signatures                pass  vmlinuz: signature verifies; kubesolo-os.gz: signature verifies"))
        let gets = server.requests.filter { $0.path == Self.initramfsPath && $0.method == "GET" }
        #expect(gets.count == 6, "\(gets.map { "\($0.range ?? "-") \($0.status) \($0.sent)" })")
        #expect(gets.dropFirst().allSatisfy { $0.status == 206 && $0.ifRange == "\"i1\"" })
        #expect(server.sent(Self.initramfsPath) == Self.initramfs.count)
        #expect(applied.stdout.contains("kubesolo-os.gz: transfer closed with"), "\(applied.stdout)")
        #expect(node.resumeRecords.isEmpty, "left behind once staged: \(node.resumeRecords)")
        #expect(applied.stdout.contains("trying again in"))
    }

    /// A server without validators that cuts every answer short, one try further than the next:
    /// each try starts again from byte 0, and one that does not get past the furthest byte
    /// reached counts as failed, so the run ends after `retries` of them.
    @Test(.timeLimit(.minutes(2))) func triesThatNeverGetPastTheFurthestByteEndTheRun() async throws {
        let (server, node) = try setUp(extra: "  download: {retries: 3}")
        defer { server.stop() }
        server.set(Self.initramfsPath, Self.initramfs)
        server.cutForever(Self.initramfsPath, after: [200 << 10, 100 << 10])
        let applied = try await node.apply(environment: node.amd64)
        #expect(applied.status == 1, "\(applied.stdout)\(applied.stderr)")
        #expect(
            applied.stderr.contains("failed 4 times in a row without getting past byte \(200 << 10)"), "\(applied.stderr)")
        let gets = server.requests.filter { $0.path == Self.initramfsPath && $0.method == "GET" }
        #expect(gets.count == 4, "\(gets.map { "\($0.range ?? "-") \($0.status) \($0.sent)" })")
        // Without a validator nothing is resumed, and the notes say so.
        #expect(gets.allSatisfy { $0.range == nil })
        #expect(
            applied.stdout.contains("from byte 0 (the server gives no ETag or Last-Modified to go on from byte \(200 << 10) by)"),
            "\(applied.stdout)")
    }

    /// A server that gives each try a little more (it resumes, it never stalls long enough for
    /// the low-speed limit) is held to the file's deadline across all its tries: the size at
    /// `min_rate` plus a minute, on the run's clock.
    @Test func aTricklingServerIsHeldToOneDeadlineAcrossTries() async throws {
        let (server, node) = try setUp(extra: "  download: {min_rate: 1MiB/s}")
        defer { server.stop() }
        server.cutForever(Self.initramfsPath, after: [4 << 10])
        let applied = try await node.apply(environment: node.amd64)
        #expect(applied.status == 1, "\(applied.stdout)\(applied.stderr)")
        #expect(applied.stderr.contains("did not finish within 1m2s"), "\(applied.stderr)")
        #expect(applied.stderr.contains("the server sends it slower than that"), "\(applied.stderr)")
        #expect(server.sent(Self.initramfsPath) < Self.initramfs.count)
    }

    /// 503 twice, then the file: retried, with the waits on the run's clock.
    @Test func aServerAnswering503ForAWhileIsWaitedOut() async throws {
        let (server, node) = try setUp()
        defer { server.stop() }
        server.script(Self.initramfsPath, [.status(503), .status(503)])
        let applied = try await node.apply(environment: node.amd64)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(applied.stdout.contains("kubesolo-os.gz: HTTP 503; trying again in"), "\(applied.stdout)")
        #expect(try staged(node) == Self.initramfs)
    }

    /// A 404 is not a bad link: not retried, and named.
    @Test func aMissingFileIsNotRetried() async throws {
        let (server, node) = try setUp()
        defer { server.stop() }
        server.script(Self.initramfsPath, [.status(404)])
        let applied = try await node.apply(environment: node.amd64)
        #expect(applied.status == 1)
        #expect(applied.stdout.contains("GET \(server.base)\(Self.initramfsPath) answered HTTP 404"), "\(applied.stdout)")
        #expect(server.requests.filter { $0.path == Self.initramfsPath && $0.method == "GET" }.count == 1)
    }

    /// A server that ignores `Range` sends the whole file again: it is written from byte 0, and said.
    @Test func aServerWithoutRangesDownloadsWholeAgainAndSaysSo() async throws {
        let (server, node) = try setUp()
        defer { server.stop() }
        server.script(Self.initramfsPath, [.cut(after: 100_000), .ignoreRange])
        let applied = try await node.apply(environment: node.amd64)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(applied.stdout.contains("kubesolo-os.gz: the server sent the whole file"), "\(applied.stdout)")
        let gets = server.requests.filter { $0.path == Self.initramfsPath && $0.method == "GET" }
        #expect(gets.count == 2 && gets[1].range == "bytes=100000-" && gets[1].status == 200)
        #expect(try staged(node) == Self.initramfs)
    }

    /// The file changes on the server between two tries (a new ETag): `If-Range` no longer
    /// matches, the server sends the new file whole, it is written from byte 0 — and it is not
    /// the file the signed metadata names, so the SHA-256 check fails. Never a splice that passes.
    @Test func aFileThatChangesBetweenTriesIsNeverSpliced() async throws {
        let (server, node) = try setUp()
        defer { server.stop() }
        server.script(Self.initramfsPath, [.cut(after: 300_000)])
        var changed = Self.initramfs
        changed[500_000] ^= 0xFF
        let replacement = changed
        server.onRequest { hit in
            if hit.path == Self.initramfsPath, hit.range != nil {
                server.set(Self.initramfsPath, replacement, etag: "\"i2\"", lastModified: "Fri, 27 Nov 2026 10:00:00 GMT")
            }
        }
        let applied = try await node.apply(environment: node.amd64)
        #expect(applied.status == 1)
        #expect(applied.stdout.contains("sha256 mismatch: kubesolo-os.gz hashes to"), "\(applied.stdout)\(applied.stderr)")
        let gets = server.requests.filter { $0.path == Self.initramfsPath && $0.method == "GET" }
        #expect(gets.count == 2 && gets[1].ifRange == "\"i1\"" && gets[1].status == 200)
        #expect(node.marker("booted") == "a" && node.marker("b/version") == nil)
    }

    /// A run that gives up keeps the bytes it has; the next run asks only for the rest.
    @Test func aFailedRunKeepsItsBytesAndTheNextGoesOn() async throws {
        let (server, node) = try setUp(extra: "  download: {retries: 0}\n")
        defer { server.stop() }
        server.script(Self.initramfsPath, [.cut(after: 400_000)])
        let first = try await node.apply(environment: node.amd64)
        #expect(first.status == 1)
        #expect(first.stdout.contains("are kept and the next run goes on from there"), "\(first.stdout)")
        let again = try await node.apply(environment: node.amd64)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("kubesolo-os.gz: going on from byte 400000 of an earlier download"), "\(again.stdout)")
        let gets = server.requests.filter { $0.path == Self.initramfsPath && $0.method == "GET" }
        #expect(gets.last?.range == "bytes=400000-" && gets.last?.status == 206)
        #expect(server.sent(Self.initramfsPath) == Self.initramfs.count)
        #expect(try staged(node) == Self.initramfs)
    }

    /// The crash matrix's case for resume: a run gives up with bytes kept, the next is killed in
    /// the middle of going on from them, and a third goes on from where the killed one stopped.
    @Test func aResumedDownloadKilledHalfwayGoesOnAgain() async throws {
        let (server, node) = try setUp(extra: "  download: {retries: 0}\n")
        defer { server.stop() }
        server.script(Self.initramfsPath, [.cut(after: 100_000)])
        #expect(try await node.apply(environment: node.amd64).status == 1)
        try await killPartway(node)
        let again = try await node.apply(environment: node.amd64)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        let gets = server.requests.filter { $0.path == Self.initramfsPath && $0.method == "GET" }
        #expect(gets.count == 3 && gets[1].range == "bytes=100000-", "\(gets.map { $0.range ?? "-" })")
        let last = try #require(gets.last?.range.flatMap { Int($0.dropFirst(6).dropLast()) })
        #expect(last >= 100_000 + (64 << 10), "the third run began at \(last)")
        #expect(try staged(node) == Self.initramfs)
    }

    /// A `file:` server (a mounted medium) has no status line and no validator: its files are
    /// read whole, as a 200.
    @Test func aFileServerIsReadWhole() async throws {
        let node = try TestNode()
        let served = node.root.appendingPathComponent("srv")
        try FileManager.default.createDirectory(at: served.appendingPathComponent("1.1.0"), withIntermediateDirectories: true)
        try Data(Self.kernel).write(to: served.appendingPathComponent("1.1.0/vmlinuz"))
        try Data(Self.initramfs).write(to: served.appendingPathComponent("1.1.0/kubesolo-os.gz"))
        func hex(_ bytes: [UInt8]) -> String { SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }
        try Data(
            """
            {"version": "1.1.0", "vmlinuz_url": "1.1.0/vmlinuz", "vmlinuz_sha256": "\(hex(Self.kernel))",
             "initramfs_url": "1.1.0/kubesolo-os.gz", "initramfs_sha256": "\(hex(Self.initramfs))"}
            """.utf8
        ).write(to: served.appendingPathComponent("latest.json"))
        try node.directory.write(
            "policy.yaml",
            """
            updates:
              server: file://\(served.path)
              data_dir: \(node.data)
              reboot: auto
              kube_system_settle: 0
              backend: {type: directory, root: \(node.slots), initial_version: 1.0.0}
            """)
        let applied = try await node.apply(environment: node.amd64)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(try staged(node) == Self.initramfs)
    }

    /// SIGKILL in the middle of a download, then a run that goes on from the bytes on disk.
    @Test func aDownloadKilledHalfwayGoesOnInTheNextRun() async throws {
        let (server, node) = try setUp()
        defer { server.stop() }
        try await killPartway(node)
        let again = try await node.apply(environment: node.amd64)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("interrupted in phase downloading"), "\(again.stdout)")
        #expect(again.stdout.contains("kubesolo-os.gz: going on from byte"), "\(again.stdout)")
        let resumed = try #require(server.requests.last { $0.path == Self.initramfsPath && $0.method == "GET" })
        #expect(resumed.status == 206 && resumed.ifRange == "\"i1\"")
        #expect(try staged(node) == Self.initramfs)
    }
}

/// `download.proxy`: every request of a run goes through it, `http` forwarded and `https`
/// tunnelled (TLS checked end to end); `no_proxy` hosts go direct.
@Suite struct ProxyTests {
    @Test func theServerIsReachedThroughTheProxy() async throws {
        let proxy = try TestProxy()
        defer { proxy.stop() }
        let (server, node) = try FlakyLinkTests().setUp(extra: "  download: {proxy: \(proxy.url)}\n")
        defer { server.stop() }
        let applied = try await node.apply(environment: node.amd64)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        let seen = proxy.requests
        for path in ["/latest.json", "/latest.json.sig", "/1.1.0/vmlinuz", "/1.1.0/kubesolo-os.gz", "/1.1.0/kubesolo-os.gz.sig"] {
            #expect(seen.contains("GET \(server.base)\(path) HTTP/1.1"), "\(seen)")
        }
        #expect(seen.contains("HEAD \(server.base)/1.1.0/kubesolo-os.gz HTTP/1.1"), "\(seen)")
    }

    /// Without `download.proxy`, libcurl's environment variables apply, as the service's unit may set them.
    @Test func theEnvironmentsProxyAppliesWithoutTheKey() async throws {
        let proxy = try TestProxy()
        defer { proxy.stop() }
        let (server, node) = try FlakyLinkTests().setUp()
        defer { server.stop() }
        let applied = try await node.apply(environment: node.amd64.merging(["http_proxy": proxy.url]) { $1 })
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(proxy.requests.contains("GET \(server.base)/latest.json HTTP/1.1"), "\(proxy.requests)")
    }

    @Test func noProxyHostsGoDirect() async throws {
        let proxy = try TestProxy()
        defer { proxy.stop() }
        let (server, node) = try FlakyLinkTests().setUp(extra: "  download: {proxy: \(proxy.url), no_proxy: 127.0.0.1}\n")
        defer { server.stop() }
        let applied = try await node.apply(environment: node.amd64)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(proxy.requests.isEmpty, "\(proxy.requests)")
    }

    /// Fleet traffic to an etcd that speaks TLS goes through the proxy in a CONNECT tunnel, and
    /// the etcd's certificate is still checked against the policy's CA.
    @Test(.enabled(if: TestEtcd.available && TestEtcd.openssl != nil))
    func fleetTrafficToATLSEtcdIsTunnelled() async throws {
        let proxy = try TestProxy()
        defer { proxy.stop() }
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let release = ReleaseFixture()
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(3000))
        let etcd = try TestEtcd(tls: true)
        defer { etcd.stop() }
        let node = try TestNode()
        try node.writePolicy(
            server: server.base, publicKey: release.publicKeyText,
            preflight: "    - fleet_lock: {engine: etcd, endpoints: [\"\(etcd.endpoint)\"], id: node-a, ca_file: \(etcd.caFile)"
                + ", cert_file: \(etcd.clientCert), key_file: \(etcd.clientKey)}\n",
            extra: "  download: {proxy: \(proxy.url)}\n")
        let granted = try await node.apply()
        #expect(granted.status == 0, "\(granted.stdout)\(granted.stderr)")
        let authority = etcd.endpoint.replacingOccurrences(of: "https://", with: "")
        #expect(proxy.requests.contains("CONNECT \(authority) HTTP/1.1"), "\(proxy.requests)")
        #expect(proxy.requests.contains { $0.hasPrefix("GET \(server.base)/") }, "\(proxy.requests)")
        #expect(try etcd.value(TestEtcd.semaphoreKey(group: "default")) == #"{"total_slots":1,"holders":["node-a"]}"#)
    }
}
