import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What a KubeSolo OS node on loop devices does with nobody watching: GRUB's fallback does not
/// loop, an interrupted staging or activation does not block later updates, the passive slot's
/// old release is room for the new one, and grubenv is replaced, never rewritten in place.
@Suite(.serialized) struct UnattendedNodeTests {
    static let available = LoopNode.available

    func setUp(autoRollbackAfter: Int = 3) async throws -> (TestServer, UpstreamRelease, LoopNode) {
        let server = try await TestServer()
        let release = UpstreamRelease()
        try release.publish(server, version: "1.1.0")
        let node = try LoopNode()
        try node.writePolicy(server: server, release: release, autoRollbackAfter: autoRollbackAfter)
        return (server, release, node)
    }

    func kill(_ node: LoopNode, _ command: String, at point: String) async throws {
        let process = try BackgroundProcess(
            [command, node.node.policyPath], environment: node.environment().merging(["UPDATECTL_TEST_PAUSE": point]) { $1 })
        let reached = await process.reached("paused at \(point)")
        #expect(reached, "never reached \(point): \(process.stderr)")
        process.kill()
        _ = process.wait()
    }

    func setGrub(_ node: LoopNode, _ values: [String]) throws {
        #expect(try CLI.runProgram(try LoopNode.tool("grub-editenv"), [node.grubenv, "set"] + values).status == 0)
    }

    /// GRUB falls back by itself after three unverified boots of a broken release: the slot it
    /// falls back to is marked good, so later boots stay there. When GRUB boots the rolled-back
    /// release anyway, neither healthcheck nor apply marks it good: both point GRUB back first.
    @Test(.enabled(if: available))
    func aBootloaderFallbackDoesNotLoop() async throws {
        let (server, _, node) = try await setUp(autoRollbackAfter: 5)
        defer {
            node.detach()
            Task { await server.stop() }
        }
        let broken = UpstreamRelease()
        try broken.publish(server, version: "1.1.0", initramfs: UpstreamRelease.content("kubesolo-os 1.1.0 broken", size: 9000))
        try node.writePolicy(server: server, release: broken, autoRollbackAfter: 5)
        let applied = try await node.run("apply")
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        for _ in 1...3 {
            #expect(try node.reboot() == "B")
            #expect(try await node.run("healthcheck").status == 1)
        }
        #expect(try node.reboot() == "A")
        let fellBack = try await node.run("healthcheck")
        #expect(fellBack.status == 1)
        #expect(fellBack.stderr.contains("the bootloader fell back"), "\(fellBack.stderr)")
        var grub = try node.grub()
        #expect(grub["active_slot"] == "A" && grub["boot_success"] == "1" && grub["boot_counter"] == "3", "\(grub)")
        #expect(try node.node.state()["phase"] as? String == "rolled_back")
        // Many boots later, still on A (an unverified A would have fallen back to B on the third).
        for _ in 1...4 {
            #expect(try node.reboot() == "A")
            #expect(try await node.run("healthcheck").status == 0)
        }
        // GRUB boots the rolled-back release anyway: healthcheck does not mark it good.
        try setGrub(node, ["active_slot=B", "boot_success=0", "boot_counter=3"])
        #expect(try node.reboot() == "B")
        let again = try await node.run("healthcheck")
        #expect(again.status == 1)
        #expect(
            again.stderr.contains("the node runs 1.1.0, which was rolled back: slot a boots next; rebooting into it"), "\(again.stderr)")
        #expect(!again.stdout.contains("GRUB: slot B marked good"), "\(again.stdout)")
        grub = try node.grub()
        #expect(grub["active_slot"] == "A" && grub["boot_success"] == "1", "\(grub)")
        #expect(try node.reboot() == "A")
        // apply finding the node on it points GRUB back before its reboot.
        try setGrub(node, ["active_slot=B", "boot_success=0", "boot_counter=3"])
        #expect(try node.reboot() == "B")
        let applyOnIt = try await node.run("apply")
        #expect(applyOnIt.stdout.contains("rebooting into slot a now"), "\(applyOnIt.stdout)\(applyOnIt.stderr)")
        grub = try node.grub()
        #expect(grub["active_slot"] == "A" && grub["boot_success"] == "1", "\(grub)")
        #expect(try node.reboot() == "A")
        #expect(try node.node.state()["phase"] as? String == "rolled_back")
    }

    /// A kill while a file is copied into the passive slot leaves `NAME.updatectl-new` there:
    /// `state reset` removes it, and so does the next apply before it measures and stages.
    @Test(.enabled(if: available))
    func anInterruptedStagingLeavesNothingBehind() async throws {
        let (server, _, node) = try await setUp()
        defer {
            node.detach()
            Task { await server.stop() }
        }
        func leftovers() throws -> [String] {
            try node.withSlot(node.device("B")) { point in
                try FileManager.default.contentsOfDirectory(atPath: point.path).filter { $0.contains(".updatectl-new") }
            }
        }
        try await kill(node, "apply", at: "kubesolo.copied-unrenamed")
        #expect(try leftovers() == ["kubesolo-os.gz.updatectl-new"])
        let reset = try await CLI.runAsync(["state", "reset", "--yes", node.node.policyPath], environment: node.environment())
        #expect(reset.status == 0, "\(reset.stderr)")
        #expect(reset.stdout.contains("removed slot B: kubesolo-os.gz.updatectl-new, left by an interrupted staging"), "\(reset.stdout)")
        #expect(try leftovers().isEmpty)

        try await kill(node, "apply", at: "kubesolo.copied-unrenamed")
        #expect(try leftovers() == ["kubesolo-os.gz.updatectl-new"])
        let applied = try await node.run("apply")
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(applied.stdout.contains("removed slot B: kubesolo-os.gz.updatectl-new"), "\(applied.stdout)")
        #expect(try leftovers().isEmpty)
        #expect(try node.files("B")["version"] == Data("1.1.0\n".utf8))
        // The killed run's mount of slot B is not left behind either.
        let mounts = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        #expect(!mounts.contains(node.mounts.appendingPathComponent("updatectl/b").path + " "), "\(mounts)")
    }

    /// The passive slot's old release is overwritten, so it counts as free: a release larger
    /// than the slot's free space, but not than its free space plus the old release, is staged.
    @Test(.enabled(if: available))
    func thePassiveSlotsOldReleaseIsRoomForTheNewOne() async throws {
        let (server, _, node) = try await setUp()
        defer {
            node.detach()
            Task { await server.stop() }
        }
        let free = try node.withSlot(node.device("B")) { point -> Int in
            var info = statvfs()
            #expect(statvfs(point.path, &info) == 0)
            return Int(info.f_bavail) * Int(info.f_frsize)
        }
        // An old release of 60 % of the room in B; the new one is as large: it fits only in
        // the room the old one leaves.
        let size = free * 6 / 10
        try node.withSlot(node.device("B")) { point in
            try UpstreamRelease.content("kubesolo-os 0.9.0 old", size: size).write(to: point.appendingPathComponent("kubesolo-os.gz"))
            try Data("0.9.0\n".utf8).write(to: point.appendingPathComponent("version"))
        }
        let release = UpstreamRelease()
        try release.publish(server, version: "1.1.0", initramfs: UpstreamRelease.content("kubesolo-os 1.1.0 healthy", size: size))
        try node.writePolicy(server: server, release: release)
        let applied = try await node.run("apply")
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(applied.stdout.contains("in files the release replaces"), "\(applied.stdout)")
        #expect(try node.files("B")["version"] == Data("1.1.0\n".utf8))
        let plan = try await node.run("plan")
        #expect(plan.stdout.contains("files the release replaces count as free"), "\(plan.stdout)")
    }

    /// Power lost after GRUB was told but before `activated` was saved, and the node came up on
    /// the new slot: the activation record recovers the state, and the release is verified and
    /// committed instead of being marked good while the state says `staged`.
    @Test(.enabled(if: available))
    func anActivationLostToAPowerCutIsRecovered() async throws {
        let (server, _, node) = try await setUp()
        defer {
            node.detach()
            Task { await server.stop() }
        }
        try await kill(node, "apply", at: "apply.activated-unsaved")
        #expect(try node.node.state()["phase"] as? String == "staged")
        #expect(try node.grub()["active_slot"] == "B")
        #expect(try node.reboot() == "B")
        let verified = try await node.run("healthcheck")
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        #expect(verified.stdout.contains("1.1.0 was activated in slot b but the state was not saved"), "\(verified.stdout)")
        #expect(try node.node.state()["phase"] as? String == "success")
        let grub = try node.grub()
        #expect(grub["active_slot"] == "B" && grub["boot_success"] == "1", "\(grub)")
        let next = try await node.run("apply")
        #expect(next.status == 0, "\(next.stdout)\(next.stderr)")
        #expect(next.stdout.contains("up to date"), "\(next.stdout)")
    }

    /// The same power cut seen by the next apply (before any healthcheck): it recovers the
    /// activation too and sends the node to its post-boot check instead of failing every run.
    @Test(.enabled(if: available))
    func anApplyAfterALostActivationRecoversIt() async throws {
        let (server, _, node) = try await setUp()
        defer {
            node.detach()
            Task { await server.stop() }
        }
        try await kill(node, "apply", at: "apply.activated-unsaved")
        #expect(try node.reboot() == "B")
        let applied = try await node.run("apply")
        #expect(applied.stdout.contains("1.1.0 was activated in slot b but the state was not saved"), "\(applied.stdout)")
        #expect(applied.stderr.contains("waits for its post-boot check"), "\(applied.stderr)")
        #expect(try node.node.state()["phase"] as? String == "activated")
        #expect(try await node.run("healthcheck").status == 0)
        #expect(try node.node.state()["phase"] as? String == "success")
    }

    /// grubenv on an EFI partition of its own (FAT; ext4 where the kernel has no FAT): every change is a new, complete 1024-byte file renamed over
    /// the old one (another inode), never sparse, with no temporary name left; a leftover from a
    /// killed write is removed. GRUB's own tool reads the result.
    @Test(.enabled(if: available))
    func grubenvIsReplacedWholeOnItsOwnPartition() async throws {
        let (server, release, node) = try await setUp()
        defer {
            node.detach()
            Task { await server.stop() }
        }
        try node.moveGrubenvToEFIPartition()
        try node.writePolicy(server: server, release: release)
        let directory = (node.grubenv as NSString).deletingLastPathComponent
        #expect(FileManager.default.createFile(atPath: node.grubenv + ".tmp-99999", contents: Data(count: 100)))
        func inode() throws -> (ino: UInt64, size: Int, blocks: Int) {
            var info = stat()
            #expect(lstat(node.grubenv, &info) == 0)
            return (UInt64(info.st_ino), Int(info.st_size), Int(info.st_blocks))
        }
        let before = try inode()
        let applied = try await node.run("apply")
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        let after = try inode()
        #expect(after.ino != before.ino, "grubenv was rewritten in place")
        #expect(after.size == 1024 && after.blocks * 512 >= 1024, "\(after)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0 != "lost+found" } == ["grubenv"])
        var grub = try node.grub()
        #expect(grub["active_slot"] == "B" && grub["boot_success"] == "0", "\(grub)")
        #expect(try node.reboot() == "B")
        #expect(try await node.run("healthcheck").status == 0)
        grub = try node.grub()
        #expect(grub["boot_success"] == "1", "\(grub)")
        #expect(try inode().ino != after.ino)
    }

    /// A grubenv reached through a link (`/boot/grub/grubenv` → the EFI partition): the file it
    /// names is replaced and the link stays a link.
    @Test(.enabled(if: available))
    func aLinkedGrubenvStaysALink() async throws {
        let (server, release, node) = try await setUp()
        defer {
            node.detach()
            Task { await server.stop() }
        }
        let real = node.grubenv
        let link = node.node.root.appendingPathComponent("grubenv-link").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)
        node.grubenv = link
        try node.writePolicy(server: server, release: release)
        #expect(try await node.run("apply").status == 0)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == real)
        #expect(try node.grub()["active_slot"] == "B")
    }

    /// A node whose blkid, mount and umount are busybox's (KubeSolo OS's base): the slots are
    /// found by label all the same (busybox's blkid takes no options; its listing is read).
    @Test(.enabled(if: available && TestComponents.program("busybox") != nil))
    func busyboxToolsFindAndMountTheSlots() async throws {
        let busybox = try #require(TestComponents.program("busybox"))
        let (server, _, node) = try await setUp()
        defer {
            node.detach()
            Task { await server.stop() }
        }
        let bin = node.node.root.appendingPathComponent("busybox-bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        for applet in ["blkid", "mount", "umount"] {
            try FileManager.default.createSymbolicLink(atPath: bin.appendingPathComponent(applet).path, withDestinationPath: busybox)
        }
        let applied = try await CLI.runAsync(
            ["apply", node.node.policyPath], environment: node.environment().merging(["PATH": bin.path]) { $1 })
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(try node.files("B")["version"] == Data("1.1.0\n".utf8))
        #expect(try node.grub()["active_slot"] == "B")
    }
}
