import Crypto
import UpdatePolicy

#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The scripted outside world of a scenario: the update server, the node's facts, kubectl, the
/// A/B backend. The executor and the state machine that run against it are the real ones.
/// `@unchecked Sendable`: `files` and `metadata` are written in `init` only; `dropsLeft` and
/// `firstAsked` are read and written under `lock`.
final class SimulatedWorld: @unchecked Sendable {
    let scenario: Scenario
    let clock: FixedWallClock
    let metadataURL: String
    /// The release's files by URL, with their slot names, in download order.
    private(set) var files: [(url: String, name: String, bytes: [UInt8])] = []
    /// A throwaway key for this simulation's releases (swift-crypto signs: updatectl has no
    /// signing code of its own).
    let signingKey = Curve25519.Signing.PrivateKey()
    private(set) var metadata: [UInt8] = []
    private let lock = Mutex()
    /// Drops of the link still to come (`download.drops`).
    private var dropsLeft: Int
    /// When the last file was first asked for, for `download.unavailable_for`.
    private var firstAsked: Duration?

    init(scenario: Scenario, clock: FixedWallClock, metadataURL: String) {
        self.scenario = scenario
        self.clock = clock
        self.metadataURL = metadataURL
        dropsLeft = scenario.downloadDrops
        let base = String(metadataURL[..<(metadataURL.lastIndex(of: "/").map { metadataURL.index(after: $0) } ?? metadataURL.endIndex)])
        func content(_ seed: Int, _ size: Int) -> [UInt8] { (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ seed) } }
        let version = scenario.releaseVersion
        var fields = ["\"version\": \"\(version)\""]
        if scenario.releaseFormat == "image" {
            let image = content(11, 4096)
            files = [(base + "image-\(version).img", "image", image)]
            fields += ["\"url\": \"image-\(version).img\"", "\"sha256\": \"\(SHA256Stream.hex(image))\"", "\"size\": \(image.count)"]
        } else {
            let kernel = content(5, 2048)
            let initramfs = content(11, 4096)
            files = [
                (base + "vmlinuz-\(version)", ReleaseMetadata.kernelName, kernel),
                (base + "kubesolo-os-\(version).gz", ReleaseMetadata.initramfsName, initramfs),
            ]
            fields += [
                "\"vmlinuz_url\": \"vmlinuz-\(version)\"", "\"vmlinuz_sha256\": \"\(SHA256Stream.hex(kernel))\"",
                "\"vmlinuz_sig_url\": \"vmlinuz-\(version).sig\"",
                "\"initramfs_url\": \"kubesolo-os-\(version).gz\"", "\"initramfs_sha256\": \"\(SHA256Stream.hex(initramfs))\"",
                "\"initramfs_sig_url\": \"kubesolo-os-\(version).gz.sig\"", "\"metadata_sig_url\": \"latest.json.sig\"",
            ]
        }
        if let channel = scenario.releaseChannel { fields.append("\"channel\": \"\(channel)\"") }
        if let architecture = scenario.releaseArchitecture { fields.append("\"architecture\": \"\(architecture)\"") }
        if let minimum = scenario.releaseMinCompatibleVersion { fields.append("\"min_compatible_version\": \"\(minimum)\"") }
        if let expires = scenario.expires { fields.append("\"expires\": \"\(expires)\"") }
        if let wave = scenario.rollout { fields.append("\"rollout\": \(wave)") }
        // Signed an hour before the scenario starts: current under any `max_metadata_age` of an hour or more.
        fields.append("\"release_date\": \"\(clock.now() + .seconds(-3600))\"")
        metadata = Array(("{" + fields.joined(separator: ", ") + "}\n").utf8)
    }

    /// The key the simulated server signs with; the policy's key is replaced by it.
    var publicKey: [UInt8] { Array(signingKey.publicKey.rawRepresentation) }

    /// The metadata's signature as served: base64 for the image form, hex (KubeSolo OS's) for the pair.
    func signature() -> [UInt8]? {
        let key: Curve25519.Signing.PrivateKey
        switch scenario.signature {
        case "missing": return nil
        case "bad": key = Curve25519.Signing.PrivateKey()
        default: key = signingKey
        }
        let signature = Self.sign(metadata, key)
        return scenario.releaseFormat == "image" ? Array(Base64.encode(signature).utf8) : Array(Hex.encode(signature).utf8)
    }

    /// A file's detached signature, raw (KubeSolo OS's binary form).
    func signature(of bytes: [UInt8]) -> [UInt8] { Self.sign(bytes, signingKey) }

    private static func sign(_ bytes: [UInt8], _ key: Curve25519.Signing.PrivateKey) -> [UInt8] {
        // BoringSSL's ED25519_sign fails only on an allocation failure.
        guard let signature = try? key.signature(for: bytes) else { preconditionFailure("Ed25519 signing failed") }
        return Array(signature)
    }

    /// Whether the server still answers 503 to the last file (`download.unavailable_for`).
    func unavailable() -> Bool {
        guard scenario.downloadUnavailableFor > .zero else { return false }
        let now = clock.instant()
        let first = lock.withLock {
            if firstAsked == nil { firstAsked = now }
            return firstAsked!
        }
        return now - first < scenario.downloadUnavailableFor
    }

    /// Takes one of the scripted drops, if any are left.
    func takeDrop() -> Bool {
        lock.withLock {
            guard dropsLeft > 0 else { return false }
            dropsLeft -= 1
            return true
        }
    }

    /// The bytes served for a file: the last file is the one the scenario's download outcome hits.
    func served(_ index: Int) -> [UInt8] {
        var bytes = files[index].bytes
        guard index == files.count - 1 else { return bytes }
        switch scenario.downloadOutcome {
        case "corrupt": bytes[bytes.count / 2] ^= 0xFF
        case "larger": bytes += [0, 0, 0, 0]
        default: break
        }
        return bytes
    }
}

/// The simulated update server.
struct SimulatedTransport: Transport {
    let world: SimulatedWorld

    func get(_ request: TransportRequest, onData: (UnsafeRawBufferPointer) throws -> Void) throws -> TransportResponse {
        let url = request.url
        if request.method == "HEAD" {
            guard let file = world.files.first(where: { $0.url == url }) else { return TransportResponse(status: 404, bytes: 0) }
            return TransportResponse(status: 200, bytes: 0, headers: [("Content-Length", String(file.bytes.count))])
        }
        if url == world.metadataURL {
            try world.metadata.withUnsafeBytes { try onData($0) }
            return TransportResponse(status: 200, bytes: world.metadata.count)
        }
        if url == world.metadataURL + ".sig" {
            guard let signature = world.signature() else { return TransportResponse(status: 404, bytes: 0) }
            try signature.withUnsafeBytes { try onData($0) }
            return TransportResponse(status: 200, bytes: signature.count)
        }
        if let index = world.files.firstIndex(where: { $0.url + ".sig" == url }) {
            let signature = world.signature(of: world.files[index].bytes)
            try signature.withUnsafeBytes { try onData($0) }
            return TransportResponse(status: 200, bytes: signature.count)
        }
        if let index = world.files.firstIndex(where: { $0.url == url }) {
            let last = index == world.files.count - 1
            if last, world.unavailable() {
                world.clock.sleep(for: .seconds(1))
                return TransportResponse(status: 503, bytes: 0)
            }
            let bytes = world.served(index)
            if last, world.scenario.downloadOutcome == "interrupted" {
                world.clock.sleep(for: world.scenario.downloadDuration)
                try bytes.prefix(bytes.count / 2).withUnsafeBytes { try onData($0) }
                throw TransportError.failed("the connection was reset (simulated)")
            }
            if bytes.count > request.maxBytes { throw TransportError.tooLarge(limit: request.maxBytes) }
            // Ranges as a good server honours them, validated by a fixed ETag.
            let etag = "\"simulated-\(world.scenario.releaseVersion)\""
            var start = 0
            if let range = request.headers.first(where: { $0.hasPrefix("Range: bytes=") }), request.headers.contains("If-Range: \(etag)"),
                let from = Int(range.dropFirst(13).dropLast()), from < bytes.count
            {
                start = from
            }
            var headers: [(name: String, value: String)] = [("ETag", etag)]
            if start > 0 { headers.append(("Content-Range", "bytes \(start)-\(bytes.count - 1)/\(bytes.count)")) }
            try request.onResponse?(start > 0 ? 206 : 200, headers)
            var end = bytes.count
            let drop = last && world.takeDrop()
            if drop { end = min(bytes.count, start + max(1, bytes.count / (world.scenario.downloadDrops + 1))) }
            // The time the part takes, out of the whole file's `download.duration`.
            if last {
                world.clock.sleep(for: world.scenario.downloadDuration * (Double(end - start) / Double(max(1, bytes.count))))
            }
            try bytes[start..<end].withUnsafeBytes { try onData($0) }
            if drop { throw TransportError.failed("the connection dropped (simulated)") }
            return TransportResponse(status: start > 0 ? 206 : 200, bytes: end - start, headers: headers)
        }
        // Anything else (an http gate): the scenario's gate answers decide; the server says 200.
        return TransportResponse(status: 200, bytes: 0)
    }
}

/// The node's facts, as the scenario's facts set them through the kinds that read them.
struct SimulatedSystem: SystemProbe {
    let node: SimulatedNode

    func hostname() -> String { "simulated-node" }
    func machineID() throws -> String { node.machineID }
    func architecture() -> String { node.architecture }
    func freeBytes(at path: String) throws -> UInt64 { node.freeBytes }
    func kubectl() -> String? { node.kubernetes ? "/usr/bin/kubectl" : nil }
    func fileExists(_ path: String) -> Bool { node.files[path] != nil }
    func environment(_ name: String) -> String? { nil }

    func readText(_ path: String, limit: Int) throws -> String {
        guard let text = node.files[path] else { throw SystemError("cannot read", path, code: ENOENT) }
        return text
    }
}

/// The cluster: the API objects the kinds' facts put there.
struct SimulatedKubernetes: KubernetesAPI {
    let node: SimulatedNode

    func access(kubeconfig: String?) -> KubernetesAccess {
        node.kubernetes
            ? .ready(.init(kubectl: "/usr/bin/kubectl", kubeconfig: "/simulated/kubeconfig"))
            : .noKubernetes("no kubectl and no kubeconfig (simulated): this node runs no Kubernetes")
    }

    func get(_ path: String, _ access: KubernetesAccess.Ready, timeout: Duration) -> KubernetesAnswer {
        node.apiObjects.first { path.hasPrefix($0.prefix) }.map { .json($0.object) } ?? .status(404)
    }
}

/// Commands: every command exits 0 (the scenario's gate answers script exec gates).
/// Commands exit 0 at once, except hook commands (`UPDATECTL_HOOK` in their environment), which
/// end as the scenario's `hooks:` says: a `hang` takes the timeout on the virtual clock.
struct SimulatedRunner: CommandRunner {
    var clock: FixedWallClock
    var hooks: [HookPoint: String]

    func run(
        _ argv: [String], timeout: Duration, environment: [String: String], stdout: OutputCapture,
        holdingLocks: Bool
    ) throws -> CommandResult {
        switch environment["UPDATECTL_HOOK"].flatMap(HookPoint.init(rawValue:)).flatMap({ hooks[$0] }) {
        case "fail":
            return CommandResult(termination: .exited(1), stdout: "", stderr: "the scenario makes this hook fail")
        case "hang":
            clock.sleep(for: timeout)
            return CommandResult(termination: .timedOut, stdout: "", stderr: "")
        default:
            return CommandResult(termination: .exited(0), stdout: "", stderr: "")
        }
    }
}

/// An in-memory A/B pair whose reboot comes up on the new or the old slot, as scripted.
/// `@unchecked Sendable`: every mutable property is read and written under `lock`.
final class SimulatedBackend: UpdateBackend, @unchecked Sendable {
    private let lock = Mutex()
    private var booted = Slot.a
    private var next = Slot.a
    private var versions: [Slot: String]
    private let bootsNew: Bool
    private var activated: Slot?
    private var rebooted = 0

    private let scratch: String

    init(runningVersion: String, bootsNew: Bool, scratch: String) {
        versions = [.a: runningVersion]
        self.bootsNew = bootsNew
        self.scratch = scratch
    }

    var bootedNow: Slot { lock.withLock { booted } }

    func bootedSlot() throws -> Slot { lock.withLock { booted } }
    func runningVersion() throws -> String { lock.withLock { versions[booted] ?? "" } }
    func imageDirectory(for slot: Slot) -> String { scratch }
    func prepareFiles(for slot: Slot, names: [String]) throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: names.map { ($0, scratch + "/\(slot.rawValue)-\($0)") })
    }
    func stage(files: [String: String], slot: Slot, version: String, fromVersion: String) throws {
        lock.withLock { versions[slot] = version }
    }
    func invalidate(slot: Slot, keepingDownloads: Bool) {}
    func activate(slot: Slot, version: String, fromVersion: String) throws {
        lock.withLock {
            next = slot
            activated = slot
        }
    }

    func reboot() throws {
        lock.withLock {
            rebooted += 1
            // Booting the newly activated slot may fail and fall back; going back always works.
            if next == activated, !bootsNew { return }
            booted = next
        }
    }
    func rollback(to slot: Slot, version: String, fromVersion: String) throws { lock.withLock { next = slot } }
    func nextSlot() throws -> Slot? { lock.withLock { next } }
    func commit(slot: Slot, version: String) throws {}
    func bootID() throws -> String { "simulated-boot-\(lock.withLock { rebooted })" }
}

/// Gate answers from the scenario where it gives them; the real gate logic on the simulated facts
/// elsewhere.
struct ScenarioGates: GateEvaluator {
    let world: SimulatedWorld
    let real: Gates

    func evaluate(_ gate: Gate, _ input: GateInput) -> GateOutcome {
        if input.force, type(of: gate.kind).skippedByForce { return .skipped("skipped by --force") }
        switch world.scenario.gates[gate.name.value] {
        case "pass"?: return .pass("passes (scripted)")
        case "block"?: return .block("says no (scripted)")
        case "error"?: return .error("fails to decide (scripted)")
        default: return real.evaluate(gate, input)
        }
    }
}

/// Probe outcomes from the scenario, round by round across runs; each round takes as long as its
/// slowest probe, and a hanging probe as long as its timeout.
/// `@unchecked Sendable`: `round`, its only mutable property, is read and written under `lock`.
final class ScenarioProbes: ProbeRunner, @unchecked Sendable {
    let world: SimulatedWorld
    private let lock = Mutex()
    private var round = 0

    init(world: SimulatedWorld) { self.world = world }

    func round(_ probes: [Probe], variables: [String: String]) -> (results: [ProbeResult], duration: Duration) {
        let index = lock.withLock { () -> Int in
            defer { round += 1 }
            return round
        }
        var longest = Duration.milliseconds(50)
        let results = probes.map { probe -> ProbeResult in
            let script =
                world.scenario.probes[probe.name.value].flatMap { $0.isEmpty ? nil : $0[min(index, $0.count - 1)] }
                ?? ProbeScript(result: .pass, latency: nil)
            let timeout = probe.timeout.value
            var latency = script.latency ?? .milliseconds(50)
            let passed: Bool
            let detail: String
            switch script.result {
            case .pass where latency <= timeout:
                passed = true
                detail = "passed in \(DurationText.format(latency)) (scripted)"
            case .pass, .hang:
                latency = timeout
                passed = false
                detail = "did not answer within its \(DurationText.format(timeout)) timeout (scripted)"
            case .fail:
                latency = min(latency, timeout)
                passed = false
                detail = "failed (scripted)"
            }
            longest = max(longest, latency)
            return ProbeResult(name: probe.name.value, passed: passed, detail: detail, duration: latency)
        }
        return (results, longest)
    }
}

/// The fleet lock as the scenario scripts it: each request for a slot takes the next answer
/// (`granted`, `denied`, `down`; the last repeats); giving a slot back always works.
/// `@unchecked Sendable`: `asked`, its only mutable property, is read and written under `lock`.
final class ScriptedFleet: FleetEngines, FleetEngine, @unchecked Sendable {
    private let lock = Mutex()
    private let script: [String]
    private var asked = 0

    init(script: [String]) { self.script = script.isEmpty ? ["granted"] : script }

    func engine(_ spec: FleetEngineSpec) -> any FleetEngine { self }

    /// A scenario's machine id is any text; the simulated node goes by its own name.
    func identity(_ derived: Result<String, FleetError>) -> Result<String, FleetError> {
        if case .success = derived { return derived }
        return .success("simulated-node")
    }

    func lock(id: String) -> FleetAnswer {
        let answer = lock.withLock {
            defer { asked += 1 }
            return script[min(asked, script.count - 1)]
        }
        switch answer {
        case "granted": return .done("the fleet lock granted a reboot slot (simulated)")
        case "denied": return .refused("every slot of the group is held by other nodes (simulated)")
        default: return .unreachable("the fleet lock is down (simulated)")
        }
    }

    func unlock(id: String) -> FleetAnswer { .done("gave back the reboot slot (simulated)") }

    func snapshot() throws(FleetError) -> FleetSnapshot? { nil }
}
