import Foundation
import Testing

@testable import UpdateAgent

#if canImport(Glibc)
import Glibc
#endif

/// GRUB's environment block as updatectl writes it, byte for byte against the real grub-editenv.
@Suite struct GrubEnvironmentTests {
    static let editenv = TestComponents.program("grub-editenv")

    @Test(.enabled(if: editenv != nil))
    func updatectlsWriterMatchesGrubEditenvByteForByte() throws {
        let editenv = try #require(Self.editenv)
        let directory = try TemporaryDirectory()
        let file = directory.url.appendingPathComponent("grubenv").path
        #expect(try CLI.runProgram(editenv, [file, "create"]).status == 0)
        var mine = GrubEnvironment()
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == Data(mine.bytes), "create")
        let steps: [(String, String?)] = [
            ("active_slot", "A"), ("boot_counter", "3"), ("boot_success", "0"), ("active_slot", "B"), ("boot_counter", "2"),
            ("boot_success", nil), ("weird", "a\\b\nc"), ("boot_success", "1"), ("long", String(repeating: "x", count: 300)),
            ("active_slot", nil), ("long", "short"), ("active_slot", "A"), ("weird", nil),
        ]
        for (name, value) in steps {
            if let value {
                #expect(try CLI.runProgram(editenv, [file, "set", "\(name)=\(value)"]).status == 0)
                try mine.set(name, value)
            } else {
                #expect(try CLI.runProgram(editenv, [file, "unset", name]).status == 0)
                mine.unset(name)
            }
            let theirs = try Data(contentsOf: URL(fileURLWithPath: file))
            #expect(theirs == Data(mine.bytes), "after \(name)=\(value ?? "(unset)")")
            let listed = try CLI.runProgram(editenv, [file, "list"]).stdout
            let read = try GrubEnvironment(bytes: Array(theirs)).variables.map { "\($0.name)=\($0.value)\n" }.joined()
            #expect(read == listed, "reading after \(name)")
        }
    }

    @Test func aDamagedBlockIsRefused() {
        #expect(throws: GrubEnvironment.Invalid.self) { try GrubEnvironment(bytes: [UInt8](repeating: 0x23, count: 1024)) }
        #expect(throws: GrubEnvironment.Invalid.self) { try GrubEnvironment(bytes: Array(GrubEnvironment().bytes.prefix(512))) }
        var full = GrubEnvironment()
        #expect(throws: GrubEnvironment.Invalid.self) { try full.set("big", String(repeating: "y", count: 2000)) }
    }
}

/// A KubeSolo OS node on real file systems: two ext4 images labelled as slots, attached as loop
/// devices, found by label with blkid; a grubenv edited by the real grub-editenv; the test plays
/// GRUB at every "reboot" (its fallback after three unverified boots included) and the booted
/// system (its /etc/os-release and initramfs).
final class LoopNode: @unchecked Sendable {
    static let tools = ["losetup", "mkfs.ext4", "mkfs.vfat", "blkid", "mount", "umount", "grub-editenv"]
    /// Loop devices and mounting need root; without them the test says what it skipped.
    static let available: Bool =
        getuid() == 0 && tools.allSatisfy { TestComponents.program($0) != nil || onSystemPath($0) }
        && FileManager.default.fileExists(atPath: "/dev/loop-control")

    static func onSystemPath(_ name: String) -> Bool { TestComponents.onPath(name) != nil }

    let node: TestNode
    let labels: (a: String, b: String)
    var devices: [String] = []
    var boot = 1
    var grubenv: String
    /// File systems the test mounted besides the slots (an EFI partition), unmounted at the end.
    var extraMounts: [String] = []
    var system: URL { node.root.appendingPathComponent("system") }
    var mounts: URL { node.root.appendingPathComponent("mnt") }

    static func tool(_ name: String) throws -> String { try #require(TestComponents.onPath(name), "\(name) is not installed") }

    init() throws {
        node = try TestNode()
        grubenv = node.root.appendingPathComponent("boot/grubenv").path
        let tag = String(UUID().uuidString.prefix(6)).lowercased()
        labels = ("KSA" + tag, "KSB" + tag)
        for label in [labels.a, labels.b] {
            let image = node.root.appendingPathComponent("\(label).img").path
            #expect(truncate(image, 24 << 20) == 0 || FileManager.default.createFile(atPath: image, contents: nil))
            _ = truncate(image, 24 << 20)
            let made = try CLI.runProgram(try Self.tool("mkfs.ext4"), ["-q", "-F", "-L", label, image])
            #expect(made.status == 0, "\(made.stderr)")
            let attached = try CLI.runProgram(try Self.tool("losetup"), ["--find", "--show", image])
            #expect(attached.status == 0, "\(attached.stderr)")
            devices.append(attached.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        // Slot A holds the installed system.
        try withSlot(devices[0]) { point in
            try Data("vmlinuz 1.0.0".utf8).write(to: point.appendingPathComponent("vmlinuz"))
            try Data("kubesolo-os 1.0.0 healthy".utf8).write(to: point.appendingPathComponent("kubesolo-os.gz"))
            try Data("1.0.0\n".utf8).write(to: point.appendingPathComponent("version"))
        }
        try FileManager.default.createDirectory(at: node.root.appendingPathComponent("boot"), withIntermediateDirectories: true)
        let editenv = try Self.tool("grub-editenv")
        #expect(try CLI.runProgram(editenv, [grubenv, "create"]).status == 0)
        #expect(try CLI.runProgram(editenv, [grubenv, "set", "active_slot=A", "boot_counter=3", "boot_success=1"]).status == 0)
        try boot(into: "A")
    }

    /// Mounts `device` for `body`, read-write, then unmounts it.
    func withSlot<T>(_ device: String, _ body: (URL) throws -> T) throws -> T {
        let point = mounts.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: point, withIntermediateDirectories: true)
        #expect(try CLI.runProgram(try Self.tool("mount"), [device, point.path]).status == 0)
        defer { _ = try? CLI.runProgram(try Self.tool("umount"), [point.path]) }
        return try body(point)
    }

    func device(_ slot: String) -> String { slot == "A" ? devices[0] : devices[1] }

    /// The booted system: its os-release says the slot's version; its initramfs is the slot's.
    func boot(into slot: String) throws {
        let (version, initramfs) = try withSlot(device(slot)) { point in
            (
                try String(contentsOf: point.appendingPathComponent("version"), encoding: .utf8).trimmingCharacters(
                    in: .whitespacesAndNewlines),
                try Data(contentsOf: point.appendingPathComponent("kubesolo-os.gz"))
            )
        }
        try FileManager.default.createDirectory(at: system.appendingPathComponent("etc"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: system.appendingPathComponent("proc"), withIntermediateDirectories: true)
        try Data("NAME=\"KubeSolo OS\"\nVERSION_ID=\"\(version)\"\n".utf8).write(to: system.appendingPathComponent("etc/os-release"))
        try Data("BOOT_IMAGE=/vmlinuz console=ttyS0 quiet\n".utf8).write(to: system.appendingPathComponent("proc/cmdline"))
        try initramfs.write(to: system.appendingPathComponent("initramfs"))
        boot += 1
    }

    func environment() -> [String: String] {
        node.environment.merging(["UPDATECTL_TEST_ROOT": system.path, "UPDATECTL_TEST_BOOT_ID": "boot-\(boot)"]) { $1 }
    }

    func grub() throws -> [String: String] {
        let listed = try CLI.runProgram(try Self.tool("grub-editenv"), [grubenv, "list"]).stdout
        var out: [String: String] = [:]
        for line in listed.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { out[parts[0]] = parts[1] }
        }
        return out
    }

    /// What KubeSolo OS's GRUB script does at boot: when the slot was not verified and no tries
    /// are left, swap `active_slot` and reset the counter; an unverified slot spends a try.
    /// `strict`: the reading in which every boot, verified or not, clears `boot_success` and
    /// spends a try, so a slot must be marked good after each boot.
    @discardableResult
    func reboot(strict: Bool = false) throws -> String {
        var env = try grub()
        if strict || env["boot_success"] != "1" {
            if env["boot_success"] != "1" && env["boot_counter"] == "0" {
                env["active_slot"] = env["active_slot"] == "A" ? "B" : "A"
                env["boot_counter"] = "3"
            }
            env["boot_counter"] = String((Int(env["boot_counter"] ?? "3") ?? 3) - 1)
            env["boot_success"] = "0"
            #expect(
                try CLI.runProgram(
                    try Self.tool("grub-editenv"),
                    [
                        grubenv, "set", "active_slot=\(env["active_slot"]!)",
                        "boot_counter=\(env["boot_counter"]!)", "boot_success=0",
                    ]
                ).status == 0)
        }
        let slot = env["active_slot"] ?? "A"
        try boot(into: slot)
        return slot
    }

    func files(_ slot: String) throws -> [String: Data] {
        try withSlot(device(slot)) { point in
            var out: [String: Data] = [:]
            for name in ["vmlinuz", "kubesolo-os.gz", "version"] {
                out[name] = try? Data(contentsOf: point.appendingPathComponent(name))
            }
            return out
        }
    }

    func writePolicy(server: TestServer, release: UpstreamRelease, autoRollbackAfter: Int = 3) throws {
        try node.directory.write("release.pub", release.publicKeyHex)
        try node.directory.write(
            "policy.yaml",
            """
            updates:
              server: \(server.base)
              pubkey: \(node.root.appendingPathComponent("release.pub").path)
              data_dir: \(node.data)
              reboot: auto
              auto_rollback_after: \(autoRollbackAfter)
              kube_system_settle: 0
              preflight:
                - free_space: {headroom: 10%}
              healthcheck:
                timeout: 1m
                interval: 10s
                probes:
                  - exec: {name: system, command: [/bin/grep, -q, healthy, \(system.appendingPathComponent("initramfs").path)]}
              backend:
                type: kubesolo
                grubenv: \(grubenv)
                label_a: \(labels.a)
                label_b: \(labels.b)
                mount_dir: \(mounts.appendingPathComponent("updatectl").path)
                reboot: [/bin/true]

            """)
    }

    /// What the machine's devices look like, for a failure message.
    func diagnose() throws -> String {
        let losetup = try CLI.runProgram(try Self.tool("losetup"), ["-a"]).stdout
        let blkid = try CLI.runProgram(try Self.tool("blkid"), ["-c", "/dev/null"]).stdout
        return "devices \(devices)\nlosetup -a:\n\(losetup)blkid:\n\(blkid)"
    }

    /// Whether the running kernel mounts FAT (some build it without).
    static let kernelHasFAT: Bool =
        ((try? String(contentsOfFile: "/proc/filesystems", encoding: .utf8)) ?? "").split(separator: "\n")
        .contains { $0.hasSuffix("\tvfat") }

    /// Moves the grubenv onto its own file system on its own loop device (an EFI system
    /// partition), mounted at `efi/` in the node's root: FAT, or ext4 where the kernel has no FAT
    /// (said on standard output). Returns the file system's type.
    @discardableResult
    func moveGrubenvToEFIPartition() throws -> String {
        let image = node.root.appendingPathComponent("efi.img").path
        #expect(FileManager.default.createFile(atPath: image, contents: nil))
        _ = truncate(image, 8 << 20)
        let type = Self.kernelHasFAT ? "vfat" : "ext4"
        if !Self.kernelHasFAT { print("LoopNode: this kernel has no FAT driver; the EFI partition is ext4 instead") }
        let made =
            Self.kernelHasFAT
            ? try CLI.runProgram(try Self.tool("mkfs.vfat"), ["-n", "KSOLOEFI", image])
            : try CLI.runProgram(try Self.tool("mkfs.ext4"), ["-q", "-F", "-L", "KSOLOEFI" + labels.a.suffix(6), image])
        #expect(made.status == 0, "\(made.stderr)")
        let attached = try CLI.runProgram(try Self.tool("losetup"), ["--find", "--show", image])
        #expect(attached.status == 0, "\(attached.stderr)")
        devices.append(attached.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let point = node.root.appendingPathComponent("efi").path
        try FileManager.default.createDirectory(atPath: point + "/grub", withIntermediateDirectories: true)
        let mounted = try CLI.runProgram(try Self.tool("mount"), ["-t", type, devices.last!, point])
        #expect(mounted.status == 0, "\(mounted.stderr)")
        extraMounts.append(point)
        try FileManager.default.createDirectory(atPath: point + "/grub", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: grubenv, toPath: point + "/grub/grubenv")
        grubenv = point + "/grub/grubenv"
        return type
    }

    func detach() {
        if let umount = TestComponents.onPath("umount") {
            for point in extraMounts { _ = try? CLI.runProgram(umount, [point]) }
        }
        if let umount = TestComponents.onPath("umount"), let entries = try? FileManager.default.contentsOfDirectory(atPath: mounts.path) {
            for entry in entries { _ = try? CLI.runProgram(umount, [mounts.appendingPathComponent(entry).path]) }
            _ = try? CLI.runProgram(umount, [mounts.appendingPathComponent("updatectl/a").path])
            _ = try? CLI.runProgram(umount, [mounts.appendingPathComponent("updatectl/b").path])
        }
        if let losetup = TestComponents.onPath("losetup") {
            for device in devices { _ = try? CLI.runProgram(losetup, ["-d", device]) }
        }
    }

    func run(_ command: String, _ extra: [String] = []) async throws -> CLI.Result {
        try await CLI.runAsync([command, node.policyPath] + extra, environment: environment())
    }
}

@Suite(.serialized) struct KubeSoloBackendTests {
    static let available = LoopNode.available

    /// Said when loop devices or the tools are missing, so a skipped run is visible.
    @Test func loopDevicesAreAvailableOrTheSkipIsSaid() {
        if !Self.available {
            print(
                "KubeSoloBackendTests: skipped the loop-device tests: they need root, /dev/loop-control and "
                    + LoopNode.tools.joined(separator: ", "))
        }
        #expect(Self.available || getuid() != 0 || !TestComponents.setUp, "this machine should have run them")
    }

    func setUp() async throws -> (TestServer, UpstreamRelease, LoopNode) {
        let server = try await TestServer()
        let release = UpstreamRelease()
        try release.publish(server, version: "1.1.0")
        let node = try LoopNode()
        try node.writePolicy(server: server, release: release)
        return (server, release, node)
    }

    /// apply → activate → reboot (GRUB boots B) → healthcheck → commit; slot A is not touched.
    @Test(.enabled(if: available))
    func aReleaseIsStagedBootedVerifiedAndCommittedOnLoopPartitions() async throws {
        let (server, _, node) = try await setUp()
        defer {
            node.detach()
            Task { await server.stop() }
        }
        let before = try node.files("A")
        let plan = try await node.run("plan")
        #expect(plan.stdout.contains("backend    kubesolo, slots \(node.labels.a)/\(node.labels.b)"), "\(plan.stdout)")
        let applied = try await node.run("apply")
        let diagnosis = (try? node.diagnose()) ?? ""
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)\n\(diagnosis)")
        #expect(applied.stdout.contains("free space"), "\(applied.stdout)")
        #expect(applied.stdout.contains("on the passive slot's partition"))
        var grub = try node.grub()
        #expect(grub["active_slot"] == "B" && grub["boot_counter"] == "3" && grub["boot_success"] == "0", "\(grub)")
        #expect(try node.files("A") == before, "the active slot is untouched")
        let staged = try node.files("B")
        #expect(staged["vmlinuz"] == UpstreamRelease.content("vmlinuz 1.1.0", size: 3000))
        #expect(staged["version"] == Data("1.1.0\n".utf8))

        #expect(try node.reboot() == "B")
        let verified = try await node.run("healthcheck")
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        grub = try node.grub()
        #expect(grub["boot_success"] == "1" && grub["active_slot"] == "B" && grub["boot_counter"] == "3", "\(grub)")
        #expect(try node.node.state()["phase"] as? String == "success")
    }

    /// A GRUB script that clears `boot_success` at every boot: the healthcheck after each boot
    /// marks the committed slot good again, so the node stays on it; without those runs GRUB
    /// would fall back to the old slot on the fourth boot.
    @Test(.enabled(if: available))
    func aCommittedSlotStaysWhenGrubCountsEveryBoot() async throws {
        let (server, _, node) = try await setUp()
        defer {
            node.detach()
            Task { await server.stop() }
        }
        #expect(try await node.run("apply").status == 0)
        #expect(try node.reboot(strict: true) == "B")
        #expect(try await node.run("healthcheck").status == 0)
        for _ in 1...4 {
            #expect(try node.reboot(strict: true) == "B")
            #expect(try node.grub()["boot_success"] == "0")
            let result = try await node.run("healthcheck")
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("note: GRUB: slot B marked good (boot_success=1, boot_counter=3)"), "\(result.stdout)")
            let grub = try node.grub()
            #expect(grub["boot_success"] == "1" && grub["boot_counter"] == "3", "\(grub)")
        }
        // A run with nothing to mark changes nothing.
        let again = try await node.run("healthcheck")
        #expect(again.status == 0 && !again.stdout.contains("marked good"), "\(again.stdout)")
        // Without a healthcheck after each boot this GRUB falls back.
        for _ in 1...3 { #expect(try node.reboot(strict: true) == "B") }
        #expect(try node.reboot(strict: true) == "A")
    }

    /// A release that boots but fails verification: three failed runs roll back to slot B's
    /// predecessor in GRUB's environment, and the next boot runs it.
    @Test(.enabled(if: available))
    func aFailingReleaseIsRolledBackThroughGrub() async throws {
        let (server, _, node) = try await setUp()
        defer {
            node.detach()
            Task { await server.stop() }
        }
        let first = try await node.run("apply")
        let diagnosis = (try? node.diagnose()) ?? ""
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)\n\(diagnosis)")
        try node.reboot()
        var result = try await node.run("healthcheck")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        // 1.2.0 goes to slot A and does not pass.
        let release = UpstreamRelease()
        try release.publish(server, version: "1.2.0", initramfs: UpstreamRelease.content("kubesolo-os 1.2.0 broken", size: 9000))
        try node.writePolicy(server: server, release: release)
        result = try await node.run("apply")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(try node.reboot() == "A")
        for _ in 1...2 { #expect(try await node.run("healthcheck").status == 1) }
        result = try await node.run("healthcheck")
        #expect(result.status == 1)
        #expect(
            result.stdout.contains("healthcheck.rollback             done  3 consecutive failed runs: slot b boots next"),
            "\(result.stdout)")
        let grub = try node.grub()
        #expect(grub["active_slot"] == "B" && grub["boot_success"] == "1", "\(grub)")
        #expect(try node.reboot() == "B")
        #expect(try node.node.state()["phase"] as? String == "rolled_back")
    }

    /// GRUB's own fallback: the new slot never gets verified, three boots later GRUB swaps back.
    /// With every updatectl-only fact erased (the Go agent rewrote the state, the sidecar and
    /// the activation record are gone), the verification run still sees the old slot and says so.
    @Test(.enabled(if: available))
    func aGrubFallbackIsDetectedWithNoUpdatectlOnlyState() async throws {
        let (server, _, node) = try await setUp()
        defer {
            node.detach()
            Task { await server.stop() }
        }
        #expect(try await node.run("apply").status == 0)
        // Only the Go agent's fields are left.
        let state = try node.node.state()
        let goFields = [
            "phase", "from_version", "to_version", "started_at", "updated_at", "last_error", "attempt_count",
            "health_check_failures",
        ]
        let kept = state.filter { goFields.contains($0.key) }
        try JSONSerialization.data(withJSONObject: kept).write(to: URL(fileURLWithPath: node.node.statePath))
        try FileManager.default.removeItem(atPath: node.node.data + "/update/updatectl.json")
        try? FileManager.default.removeItem(atPath: node.node.data + "/update/kubesolo-activation")
        // Three boots of B that never verify, then GRUB falls back to A.
        for _ in 1...3 { #expect(try node.reboot() == "B") }
        #expect(try node.reboot() == "A")
        let result = try await node.run("healthcheck")
        #expect(result.status == 1)
        #expect(result.stderr.contains("the node booted slot a (1.0.0), not the new slot b: the bootloader fell back"), "\(result.stderr)")
        #expect(try node.node.state()["phase"] as? String == "rolled_back")
    }

    /// `lint --on-host` on the node: the grubenv and both labelled slots are found; a missing
    /// grubenv, an unknown label and a slot that is the data partition are pointed at.
    @Test(.enabled(if: available))
    func lintOnHostChecksTheBootLayout() throws {
        let node = try LoopNode()
        defer { node.detach() }
        func policy(grubenv: String, labelB: String, dataLabel: String = "KSOLODATA") throws -> String {
            try node.node.directory.write(
                "host.yaml",
                """
                updates:
                  server: https://u.example.com  # updatectl: disable=UPD406
                  kube_system_settle: 0
                  healthcheck: {probes: [{disk_writable: {}}]}
                  backend:
                    type: kubesolo
                    grubenv: \(grubenv)
                    label_a: \(node.labels.a)
                    label_b: \(labelB)
                    data_label: \(dataLabel)

                """)
            return node.node.root.appendingPathComponent("host.yaml").path
        }
        let good = try CLI.run(["lint", "--format", "concise", "--on-host", try policy(grubenv: node.grubenv, labelB: node.labels.b)])
        #expect(!good.stdout.contains("UPD50"), "\(good.stdout)")
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
        let bad = try CLI.run([
            "lint", "--format", "concise", "--on-host",
            try policy(grubenv: node.grubenv + ".missing", labelB: "KSNOPE\(node.labels.b.suffix(6))"),
        ])
        #expect(bad.status == 1)
        let lines = bad.stdout.split(separator: "\n").map(String.init)
        #expect(
            lines.contains { $0.contains(":7:14: error[UPD502] GRUB's environment block \(node.grubenv).missing does not exist") },
            "\(bad.stdout)")
        #expect(lines.contains { $0.contains(":9:14: error[UPD502] slot B: no partition carries the label KSNOPE") }, "\(bad.stdout)")
        let data = try CLI.run([
            "lint", "--format", "concise", "--on-host",
            try policy(grubenv: node.grubenv, labelB: node.labels.b, dataLabel: node.labels.b),
        ])
        #expect(data.stdout.contains("error[UPD502] slot B (\(node.labels.b)) is the data partition"), "\(data.stdout)")
    }
}
