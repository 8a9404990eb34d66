import Foundation
import Testing

/// The real programs tests start besides `updatectl`, looked up the way scripts/requirements.txt
/// lists them. `scripts/test.sh` installs every one of them first and sets `UPDATECTL_TEST_SETUP=1`;
/// a test that needs a program asks for it here, never by a path of its own, so that
/// `RequirementsTests` can prove each one is installed by the set-up.
enum TestComponents {
    struct Requirement: Equatable {
        var group: String
        /// `command`, `python`, `pkgconfig`, `file` or `library`.
        var kind: String
        var name: String
        /// `apt:PACKAGE` or `pip:PACKAGE`.
        var source: String
    }

    static let manifest = Paths.root.appendingPathComponent("scripts/requirements.txt")

    static let requirements: [Requirement] = {
        let text = (try? String(contentsOf: manifest, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count == 3, !fields[0].hasPrefix("#") else { return nil }
            let check = fields[1].split(separator: ":", maxSplits: 1).map(String.init)
            guard check.count == 2 else { return nil }
            return Requirement(group: fields[0], kind: check[0], name: check[1], source: fields[2])
        }
    }()

    /// Whether `scripts/test.sh` set the machine up before this run.
    static var setUp: Bool { ProcessInfo.processInfo.environment["UPDATECTL_TEST_SETUP"] == "1" }

    static func isListed(_ kind: String, _ name: String) -> Bool {
        requirements.contains { $0.kind == kind && $0.name == name }
    }

    /// The path of `name` on `PATH`, or nil. Only listed programs are looked up: an unlisted name
    /// gives nil, and `RequirementsTests` fails on the test source that asked for it.
    static func program(_ name: String) -> String? {
        guard isListed("command", name) else { return nil }
        return onPath(name)
    }

    /// python3, when it and every listed module in `modules` import.
    static func python(modules: [String] = []) -> String? {
        guard modules.allSatisfy({ isListed("python", $0) }), let python = program("python3") else { return nil }
        if modules.isEmpty { return python }
        let result = try? CLI.runProgram(python, ["-c", "import " + modules.joined(separator: ", ")])
        return result?.status == 0 ? python : nil
    }

    /// On `PATH`, or in the system directories (`mkfs.ext4`, `losetup` live in /usr/sbin, which a
    /// user's PATH may lack).
    static func onPath(_ name: String) -> String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin") + ":/usr/sbin:/sbin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
