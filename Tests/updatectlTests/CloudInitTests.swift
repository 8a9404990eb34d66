import Foundation
import Testing

/// Every shipped user-data file read by Debian's cloud-init (`cloud-init schema`) and by updatectl:
/// what standard cloud-init says of the `updates:` section it shares with the policy.
@Suite struct CloudInitTests {
    static let cloudInit = TestComponents.program("cloud-init")

    /// The files under examples/ that are cloud-init user-data (`#cloud-config` first).
    static var shippedUserData: [String] {
        let examples = Paths.root.appendingPathComponent("examples")
        let walker = FileManager.default.enumerator(atPath: examples.path)
        var found: [String] = []
        while let relative = walker?.nextObject() as? String {
            guard relative.hasSuffix(".yaml") || relative.hasSuffix(".yml") else { continue }
            let path = examples.appendingPathComponent(relative).path
            if let text = try? String(contentsOfFile: path, encoding: .utf8), text.hasPrefix("#cloud-config\n") {
                found.append("examples/" + relative)
            }
        }
        return found.sorted()
    }

    /// The keys written directly under `updates:` (two-space indented block keys).
    static func updatesKeys(_ text: String) -> Set<String> {
        var keys = Set<String>()
        var inside = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("updates:") {
                inside = true
            } else if inside, let first = line.first, first != " ", first != "#" {
                inside = false
            } else if inside, line.hasPrefix("  "), !line.hasPrefix("   "), let colon = line.firstIndex(of: ":") {
                keys.insert(String(line.dropFirst(2)[..<colon]))
            }
        }
        return keys
    }

    func schema(_ path: String) throws -> CLI.Result {
        try CLI.runProgram(try #require(Self.cloudInit), ["schema", "--config-file", path])
    }

    @Test func everyShippedUserDataFileIsFound() {
        #expect(Self.shippedUserData.contains("examples/cloud-init/user-data.yaml"))
        #expect(Self.shippedUserData.contains("examples/kubesolo/user-data.yaml"))
    }

    /// Standard cloud-init validates `updates:` itself: its own `network` key passes, and every
    /// policy key beside it is reported as unexpected (its only complaint), while updatectl
    /// lints the same file clean.
    @Test(.enabled(if: cloudInit != nil), arguments: shippedUserData)
    func standardCloudInitReadsOnlyItsOwnKeyUnderUpdates(file: String) throws {
        let path = Paths.root.appendingPathComponent(file).path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let result = try schema(path)
        let output = result.stdout + result.stderr
        #expect(result.status == 1, "\(output)")
        let errors = output.split(separator: "\n").filter { $0.contains("Cloud config schema errors:") }
        #expect(errors.count == 1, "\(output)")
        let line = String(errors.first ?? "")
        #expect(line.contains("Cloud config schema errors: updates: Additional properties are not allowed ("), "\(output)")
        #expect(!line.contains("'network'"), "cloud-init accepts its own key: \(output)")
        let unexpected = Set(line.split(separator: "'").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) })
        #expect(unexpected == Self.updatesKeys(text).subtracting(["network"]), "\(output)")

        let lint = try CLI.run(["lint", "--format", "concise", path])
        #expect(lint.status == 0, "\(lint.stdout)\(lint.stderr)")
        #expect(!lint.stdout.contains("error["), "\(lint.stdout)")
    }

    /// cloud-init's `updates: {network: {when: [...]}}` beside a policy: not an unknown key for
    /// updatectl; a file holding only it is valid cloud-config; a value cloud-init refuses,
    /// updatectl refuses too.
    @Test(.enabled(if: cloudInit != nil))
    func cloudInitsNetworkKeyIsAcceptedAndLeftAlone() throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            "user-data.yaml",
            "#cloud-config\nupdates:\n  network:\n    when: [boot, hotplug]\n  server: https://updates.example.com/kubesolo\n")
        let lint = try CLI.run(["lint", "--format", "concise", "user-data.yaml"], directory: directory.url)
        #expect(!lint.stdout.contains("UPD201"), "\(lint.stdout)")
        #expect(!lint.stdout.contains("error["), "\(lint.stdout)")

        try directory.write("network-only.yaml", "#cloud-config\nupdates:\n  network:\n    when: [boot, hotplug]\n")
        let valid = try schema(directory.url.appendingPathComponent("network-only.yaml").path)
        #expect(valid.status == 0, "\(valid.stdout)\(valid.stderr)")
        #expect(valid.stdout.contains("Valid cloud-config"), "\(valid.stdout)")

        try directory.write(
            "bad-event.yaml",
            "#cloud-config\nupdates:\n  network:\n    when: [sometimes]\n  server: https://updates.example.com/kubesolo\n")
        let refused = try schema(directory.url.appendingPathComponent("bad-event.yaml").path)
        #expect(refused.status == 1)
        #expect((refused.stdout + refused.stderr).contains("updates.network.when.0: 'sometimes' is not one of"), "\(refused.stderr)")
        let badLint = try CLI.run(["lint", "--format", "concise", "bad-event.yaml"], directory: directory.url)
        #expect(badLint.status == 1)
        #expect(badLint.stdout.contains("bad-event.yaml:4:12: error[UPD308]"), "\(badLint.stdout)")
    }
}
