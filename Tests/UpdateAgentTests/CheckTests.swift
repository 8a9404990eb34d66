import Foundation
import Testing
import UpdateAgent
import UpdatePlan
import UpdatePolicy

#if canImport(Glibc)
import Glibc
#endif

@Suite struct CheckTests {
    @Test(arguments: [
        ("1.2.3", "1.2.4", true), ("1.2.3", "1.10.0", true), ("v1.2.3", "1.2.3", false), ("1.0.0-rc.1", "1.0.0", true),
        ("1.0.0-alpha", "1.0.0-alpha.1", true), ("1.0.0-alpha.2", "1.0.0-alpha.10", true), ("1.0.0-beta", "1.0.0-alpha", false),
        ("2.0", "2.0.1", true), ("1.0.0+build.5", "1.0.0", false),
    ])
    func semanticVersionsCompareByPrecedence(lower: String, higher: String, less: Bool) throws {
        let a = try #require(SemanticVersion(lower))
        let b = try #require(SemanticVersion(higher))
        #expect((a < b) == less)
    }

    @Test(arguments: ["", "1.x", "1..2", "1.2.3-", "one"])
    func notSemanticVersions(text: String) { #expect(SemanticVersion(text) == nil) }

    func window(_ start: String, _ end: String, days: [Weekday] = Weekday.allCases) -> MaintenanceWindowGate {
        MaintenanceWindowGate(
            days: Located(days, .defaulted), start: Located(TimeOfDay.parse(start)!, .defaulted),
            end: Located(TimeOfDay.parse(end)!, .defaulted), timezone: Located("UTC", .defaulted))
    }

    @Test func windowsAcrossMidnightBelongToTheDayTheyOpen() {
        // 2026-11-28 is a Saturday.
        let saturday2330 = Timestamp.parse("2026-11-28T23:30:00Z")!
        let sunday0130 = Timestamp.parse("2026-11-29T01:30:00Z")!
        let sunday2330 = Timestamp.parse("2026-11-29T23:30:00Z")!
        let w = window("22:00", "04:00", days: [.sat])
        #expect(w.isInside(LocalTime.reading(at: saturday2330, zone: "UTC")))
        #expect(w.isInside(LocalTime.reading(at: sunday0130, zone: "UTC")))
        #expect(!w.isInside(LocalTime.reading(at: sunday2330, zone: "UTC")))
        #expect(!w.isInside(LocalTime.reading(at: Timestamp.parse("2026-11-28T04:00:00Z")!, zone: "UTC")))
    }

    /// A window of no length is never open, at its start minute or any other.
    @Test func aWindowOfNoLengthIsNeverOpen() {
        let w = window("03:00", "03:00", days: Weekday.allCases)
        for text in ["2026-11-28T03:00:00Z", "2026-11-28T02:59:00Z", "2026-11-28T15:00:00Z"] {
            #expect(!w.isInside(LocalTime.reading(at: Timestamp.parse(text)!, zone: "UTC")))
        }
    }

    /// The download's deadline: a minute plus the image at the minimum rate; none at rate 0.
    @Test func theDownloadDeadlineFollowsTheMinimumRate() {
        #expect(ApplyRun.downloadDeadline(size: 1 << 30, minRate: 32 << 10) == .seconds(60 + 32768))
        #expect(ApplyRun.downloadDeadline(size: 1000, minRate: 1 << 20) == .seconds(61))
        #expect(ApplyRun.downloadDeadline(size: 1 << 30, minRate: 0) == nil)
    }

    @Test func timeZonesShiftTheWindow() {
        // 00:30 UTC in winter is 01:30 in Berlin.
        let instant = Timestamp.parse("2026-12-01T00:30:00Z")!
        let berlin = LocalTime.reading(at: instant, zone: "Europe/Berlin")
        #expect(berlin.minuteOfDay == 90 && berlin.weekday == .tue)
        #expect(LocalTime.reading(at: instant, zone: "America/New_York").weekday == .mon)
    }

    @Test func rolloutBucketsAreStableAndSpread() {
        let a = RolloutGate.bucket(machineID: "m1", salt: "s", version: "1.0.0")
        #expect(a == RolloutGate.bucket(machineID: "m1", salt: "s", version: "1.0.0"))
        #expect(a != RolloutGate.bucket(machineID: "m1", salt: "s", version: "1.0.1"))
        let buckets = (0..<1000).map { RolloutGate.bucket(machineID: "machine-\($0)", salt: "", version: "2.0.0") }
        let under25 = buckets.count { $0 < 25 }
        #expect((180...320).contains(under25))
        #expect(buckets.allSatisfy { $0 >= 0 && $0 < 100 })
    }

    @Test(arguments: [
        ("images/os.img", "https://u.example.com/os/stable/latest.json", "https://u.example.com/os/stable/images/os.img"),
        ("/pool/os.img", "https://u.example.com/os/stable/latest.json", "https://u.example.com/pool/os.img"),
        ("https://cdn.example.com/os.img", "https://u.example.com/stable/latest.json", "https://cdn.example.com/os.img"),
        ("os.img", "file:///srv/updates/stable/latest.json", "file:///srv/updates/stable/os.img"),
    ])
    func imageURLsResolveAgainstTheMetadata(url: String, base: String, resolved: String) throws {
        let json = "{\"version\": \"1\", \"url\": \"\(url)\", \"sha256\": \"\(String(repeating: "ab", count: 32))\", \"size\": 5}"
        let metadata = try ReleaseMetadata.parse(Array(json.utf8), metadataURL: base)
        #expect(metadata.files.map(\.url) == [resolved])
    }

    @Test func httpsMetadataMayNotPointAtPlainHTTP() {
        let json = "{\"version\": \"1\", \"url\": \"http://x/os.img\", \"sha256\": \"\(String(repeating: "ab", count: 32))\", \"size\": 5}"
        #expect(throws: ReleaseMetadata.Invalid.self) {
            try ReleaseMetadata.parse(Array(json.utf8), metadataURL: "https://u.example.com/stable/latest.json")
        }
    }

    @Test func commandsTimeOutAndTheirGroupIsKilled() throws {
        let runner = ProcessRunner(grace: .milliseconds(100))
        let dir = try ScratchDirectory()
        let pidFile = dir.path + "/grandchild"
        // The child ignores SIGTERM and leaves a grandchild (which also ignores it) holding the pipe.
        let result = try runner.run(
            ["/bin/sh", "-c", "trap '' TERM; sleep 30 & echo $! > \(pidFile); sleep 30"],
            timeout: .milliseconds(200), environment: [:])
        #expect(result.timedOut)
        #expect(!result.succeeded)
        let grandchild = try #require(
            Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        // The whole group got SIGKILL: the grandchild is gone (reaped by init, or a zombie at most).
        var gone = false
        for _ in 0..<200 where !gone {
            let stat = (try? String(contentsOfFile: "/proc/\(grandchild)/stat", encoding: .utf8)) ?? ""
            gone = stat.isEmpty || stat.contains(") Z ")
            if !gone { usleep(5_000) }
        }
        #expect(gone, "the grandchild \(grandchild) outlived the timeout")
    }

    /// A descriptor this process inherited or opened without close-on-exec is not passed on.
    @Test func commandsGetOnlyTheirStandardStreams() throws {
        let leaked = open("/dev/null", O_RDONLY)
        #expect(leaked > 2)
        defer { close(leaked) }
        let result = try ProcessRunner().run(["/bin/sh", "-c", "ls /proc/$$/fd"], timeout: .seconds(5), environment: [:])
        let open = result.stdout.split(separator: "\n").compactMap { Int32($0) }
        #expect(!open.contains(leaked), "\(open)")
        #expect(open.contains(0) && open.contains(1) && open.contains(2))
    }

    @Test func parsedOutputIsReadWholeUpToItsCap() throws {
        let runner = ProcessRunner()
        let big = try runner.run(
            ["/bin/sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x"], timeout: .seconds(10), environment: [:],
            stdout: .whole(max: 1 << 20))
        #expect(big.stdout.utf8.count == 300_000 && !big.stdoutTruncated)
        let cut = try runner.run(
            ["/bin/sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x"], timeout: .seconds(10), environment: [:],
            stdout: .whole(max: 100_000))
        #expect(cut.stdout.utf8.count == 100_000 && cut.stdoutTruncated)
        let tail = try runner.run(
            ["/bin/sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x; echo end"], timeout: .seconds(10),
            environment: [:])
        #expect(tail.stdout.utf8.count == 8192 && tail.stdout.hasSuffix("xend\n"))
    }

    /// How a command ended, as a value: its exit status, the signal that ended it, or its
    /// timeout (the whole process group killed). The timeout is short only to end a `sleep` that
    /// would otherwise run for a minute: no margin depends on it.
    @Test func aCommandsTerminationIsReported() throws {
        let runner = ProcessRunner()
        let exited = try runner.run(["/bin/sh", "-c", "exit 3"], timeout: .seconds(30), environment: [:])
        #expect(exited.termination == .exited(3) && exited.status == 3 && !exited.succeeded && exited.ending == "exit status 3")
        let signalled = try runner.run(["/bin/sh", "-c", "kill -TERM $$"], timeout: .seconds(30), environment: [:])
        #expect(signalled.termination == .signalled(SIGTERM) && signalled.status == nil && signalled.ending == "killed by a signal")
        let slow = try runner.run(["/bin/sleep", "60"], timeout: .milliseconds(300), environment: [:])
        #expect(slow.termination == .timedOut && slow.timedOut && slow.ending == "killed after its timeout")
        #expect(try runner.run(["/bin/true"], timeout: .seconds(30), environment: [:]).termination == .exited(0))
    }

    @Test func commandsGetTheirArgumentsLiterally() throws {
        let result = try ProcessRunner().run(["/bin/echo", "$(rm -rf /); `x` ${HOME} | ;"], timeout: .seconds(5), environment: [:])
        #expect(result.succeeded)
        #expect(result.stdout == "$(rm -rf /); `x` ${HOME} | ;\n")
        #expect(throws: CommandError.self) { try ProcessRunner().run(["/nonexistent/tool"], timeout: .seconds(1), environment: [:]) }
        #expect(throws: CommandError.self) { try ProcessRunner().run(["echo"], timeout: .seconds(1), environment: [:]) }
    }
}

@Suite struct ExecutableSafetyTests {
    func script(mode: Int) throws -> String {
        let path = "/tmp/updatectl-exec-\(mode)-\(getpid())-\(Int.random(in: 0..<1_000_000)).sh"
        #expect(
            FileManager.default.createFile(
                atPath: path, contents: Data("#!/bin/sh\nexit 0\n".utf8),
                attributes: [.posixPermissions: mode]))
        return path
    }

    @Test func aSafeProgramRuns() throws {
        let path = try script(mode: 0o755)
        defer { unlink(path) }
        #expect(try ProcessRunner().run([path], timeout: .seconds(5), environment: [:]).succeeded)
    }

    @Test(arguments: [0o777, 0o775, 0o757])
    func aProgramOthersCanWriteIsRefused(mode: Int) throws {
        let path = try script(mode: mode)
        defer { unlink(path) }
        #expect {
            _ = try ProcessRunner().run([path], timeout: .seconds(5), environment: [:])
        } throws: { error in
            "\(error)".contains("writable by group or others")
        }
    }

    @Test func aMissingProgramIsRefusedWithItsName() {
        #expect {
            _ = try ProcessRunner().run(["/nonexistent/check"], timeout: .seconds(1), environment: [:])
        } throws: { error in
            "\(error)".contains("/nonexistent/check does not exist")
        }
    }

    @Test func aScriptKeepsItsOwnPathAsZero() throws {
        let dir = try ScratchDirectory()
        let path = dir.path + "/where.sh"
        #expect(
            FileManager.default.createFile(
                atPath: path, contents: Data("#!/bin/sh -e\necho \"$0 $1\"\n".utf8),
                attributes: [.posixPermissions: 0o755]))
        let result = try ProcessRunner().run([path, "arg"], timeout: .seconds(5), environment: [:])
        #expect(result.stdout == "\(path) arg\n")
    }

    @Test func aProgramInADirectoryOthersCanWriteIsRefused() throws {
        let dir = try ScratchDirectory()
        let bin = dir.path + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        #expect(
            FileManager.default.createFile(
                atPath: bin + "/check", contents: Data("#!/bin/sh\nexit 0\n".utf8),
                attributes: [.posixPermissions: 0o755]))
        #expect(chmod(bin, 0o777) == 0)
        #expect(
            ExecutableCheck.problem(bin + "/check") == "\(bin) is writable by group or others (mode 0777); chmod go-w it "
                + "(on the way to \(bin)/check)")
        #expect(throws: CommandError.self) { try ProcessRunner().run([bin + "/check"], timeout: .seconds(5), environment: [:]) }
        // The sticky bit (as on /tmp) lets others add files but not replace ours: allowed.
        #expect(chmod(bin, 0o1777) == 0)
        #expect(ExecutableCheck.problem(bin + "/check") == nil)
    }

    @Test(.enabled(if: getuid() == 0, "lchown needs root"))
    func aLinkToAProgramOwnedByAnotherUserIsNotFollowed() throws {
        let dir = try ScratchDirectory()
        let link = dir.path + "/true"
        #expect(symlink("/bin/true", link) == 0)
        #expect(ExecutableCheck.problem(link) == nil)
        #expect(lchown(link, 4242, 4242) == 0)
        #expect(ExecutableCheck.problem(link)?.contains("\(link) is a symbolic link owned by uid 4242") == true)
    }

    @Test(.enabled(if: getuid() == 0, "chown needs root"))
    func aProgramOfAnotherUserIsRefused() throws {
        let path = try script(mode: 0o755)
        defer { unlink(path) }
        #expect(chown(path, 4242, 4242) == 0)
        #expect(ExecutableCheck.problem(path)?.contains("belongs to uid 4242") == true)
    }
}

/// The public key file as a node command uses it (`TrustAnchors`).
@Suite struct TrustAnchorKeyTests {
    static let key = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

    func plan(keyFile: String) throws -> Plan {
        let text = "updates:\n  server: https://updates.example.com\n  public_key: \(keyFile)\n"
        let policy = try #require(
            PolicyLinter.lint(Array(text.utf8), file: "policy.yaml", options: LintOptions(timeZones: ZoneInfo())).policy)
        return Planner.plan(policy)
    }

    static func keys(_ plan: Plan) -> [PublicKeySpec] {
        plan.steps.compactMap { step in
            switch step.operation {
            case .verifySignature(let key), .verifyCosign(let key), .verifyFileSignatures(let key): key
            default: nil
            }
        }
    }

    /// The signature steps hold the key read once through the descriptor the StrictModes walk
    /// checked, not the path, which each step would read again; what the path holds later does
    /// not reach them. The plan still names the file.
    @Test func theSignatureStepsHoldTheKeyReadFromTheCheckedFile() throws {
        let dir = try ScratchDirectory()
        let path = dir.path + "/release.pub"
        #expect(
            FileManager.default.createFile(
                atPath: path, contents: Data("ed25519:\(Self.key)\n".utf8), attributes: [.posixPermissions: 0o644]))
        let plan = try plan(keyFile: path)
        #expect(Self.keys(plan) == [.file(path), .file(path)])
        let pinned = TrustAnchors.pinningKey(plan)
        let bytes = try #require(Data(base64Encoded: Self.key))
        #expect(Self.keys(pinned) == [.ed25519(Array(bytes)), .ed25519(Array(bytes))])
        #expect(pinned.publicKey?.value == .file(path))
        #expect(TrustAnchors.keyProblem(path) == nil)

        // A key file others can write is not read that way: the signature step reads it by its
        // path, after the warning (or `--strict`'s refusal).
        #expect(chmod(path, 0o666) == 0)
        #expect(Self.keys(TrustAnchors.pinningKey(plan)) == [.file(path), .file(path)])
        #expect(TrustAnchors.keyProblem(path)?.hasPrefix("the public key file \(path) is writable by group or others (mode 0666)") == true)
    }
}
