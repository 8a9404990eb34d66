import Foundation
import Testing

@testable import UpdateAgent
@testable import UpdatePolicy

/// Every gate and probe kind is complete: described on the policy side (`PolicyKinds`), able to
/// run on the agent side, and simulated when it reads scenario facts. A kind missing a part fails
/// here, by name.
@Suite struct KindCompletenessTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test(arguments: PolicyKinds.gates.map { $0.entry.name })
    func everyGateKindIsEvaluated(name: String) throws {
        let kind = try #require(PolicyKinds.gates.first { $0.entry.name == name })
        #expect(kind is any GateEvaluating.Type, "the gate kind `\(name)` has no agent side (UpdateAgent/Kinds)")
        if !kind.facts.isEmpty {
            #expect(kind is any SimulatesFacts.Type, "the gate kind `\(name)` reads scenario facts but does not simulate them")
        }
    }

    @Test(arguments: PolicyKinds.probes.map { $0.entry.name })
    func everyProbeKindIsEvaluated(name: String) throws {
        let kind = try #require(PolicyKinds.probes.first { $0.entry.name == name })
        #expect(kind is any ProbeEvaluating.Type, "the probe kind `\(name)` has no agent side (UpdateAgent/Kinds)")
        if !kind.facts.isEmpty {
            #expect(kind is any SimulatesFacts.Type, "the probe kind `\(name)` reads scenario facts but does not simulate them")
        }
    }

    /// Every backend is one unit too: its description (keys, decoding, plan text) in
    /// UpdatePolicy/Backends, its runner made by the agent side, and the schema's variants are
    /// the descriptions'.
    @Test func everyBackendIsDescribedAndRuns() {
        for backend in Backends.all {
            #expect(backend is any BackendMaking.Type, "the backend `\(backend.type)` has no agent side (UpdateAgent/Backends)")
        }
        #expect(Backends.all.map { $0.type } == PolicySchema.backend.variants.map(\.tag))
        #expect(Set(Backends.all.map { $0.type }).count == Backends.all.count)
    }

    /// Every kind's evaluation is tested in `KindEvaluationTests`, in a test named after it
    /// (`free_space` → `freeSpace()`, the probe `http` → `httpProbe()`), as docs/extending.md says.
    @Test(arguments: PolicyKinds.gates.map { ($0.entry.name, "") } + PolicyKinds.probes.map { ($0.entry.name, "Probe") })
    func everyKindIsEvaluatedInATest(name: String, suffix: String) throws {
        let source = try String(
            contentsOf: Self.root.appendingPathComponent("Tests/UpdateAgentTests/KindEvaluationTests.swift"),
            encoding: .utf8)
        let words = name.split(separator: "_")
        let function =
            (words.first.map(String.init) ?? "") + words.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
            + suffix
        #expect(source.contains("@Test func \(function)() throws {"), "no KindEvaluationTests.\(function)() for the kind `\(name)`")
    }

    /// A kind type written in `UpdatePolicy/Kinds/` but not listed in `PolicyKinds` would lint
    /// clean and never run; so would an agent file without a policy side.
    @Test func everyKindFileIsRegisteredAndPaired() throws {
        let registered = Set((PolicyKinds.gates as [any EntryKindDescription.Type] + PolicyKinds.probes).map { String(describing: $0) })
        let policyKinds = Self.root.appendingPathComponent("Sources/UpdatePolicy/Kinds")
        var declared = Set<String>()
        for file in try FileManager.default.contentsOfDirectory(atPath: policyKinds.path) where file.hasSuffix(".swift") {
            let text = try String(contentsOf: policyKinds.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") where line.hasPrefix("public struct ") {
                if [": DecodableGate", ": DecodableProbe", ": SwitchedGate", ": CheckedGate", ": CheckedProbe"].contains(
                    where: line.contains)
                {
                    declared.insert(String(line.dropFirst("public struct ".count).prefix { $0 != ":" }))
                }
            }
            if file != "Kind.swift", file != "PolicyKinds.swift" {
                let agent = Self.root.appendingPathComponent("Sources/UpdateAgent/Kinds/\(file)")
                #expect(FileManager.default.fileExists(atPath: agent.path), "UpdatePolicy/Kinds/\(file) has no UpdateAgent/Kinds/\(file)")
            }
        }
        #expect(declared.count == registered.count)
        #expect(declared == registered, "kinds declared but not in PolicyKinds: \(declared.subtracting(registered).sorted())")
    }

    /// The grep the guide promises: a kind's name appears in at most three source files (its
    /// policy side, its agent side and one more, such as the benchmark corpus that writes it in
    /// YAML). Comments do not count; for one-word names (`http`, `exec`, `tcp`) neither do URL
    /// schemes, the only other use of those words: the name counts quoted, backquoted or as a YAML
    /// key. The metadata gates are named after the release fields they compare (`channel`,
    /// `architecture`, `min_compatible_version`; `rollout`, the wave's field), which the release parser, the simulator and the
    /// policy's own `channel` key name too: for them only the type names count, below.
    @Test(arguments: (PolicyKinds.gates as [any EntryKindDescription.Type] + PolicyKinds.probes).map { $0.entry.name })
    func aKindIsNamedInAtMostThreeFiles(name: String) throws {
        // A kind named as a policy key too (`channel`, the one-line `maintenance_window`) is named
        // wherever that key is (update.conf, the flags): its type names count, below.
        guard !Self.releaseFields.contains(name), PolicySchema.updates.key(name) == nil else { return }
        let camel = name.split(separator: "_").enumerated().map { $0 == 0 ? String($1) : $1.prefix(1).uppercased() + $1.dropFirst() }
            .joined()
        let words = name.contains("_") ? [name, camel] : ["\"\(name)\"", "`\(name)`", "- \(name):", " \(name): "]
        // The rule catalog's documentation (examples are policies) is one place, though each
        // general rule is a file of its own under Lint/Rules/.
        let naming = Set(
            try Self.files(where: { line in words.contains(where: line.contains) }).map { path in
                path.hasPrefix("UpdatePolicy/Lint/Rules/") ? "UpdatePolicy/Diagnostics/Rules.swift" : path
            })
        #expect(!naming.isEmpty, "the search for \(name) finds nothing: it tests nothing")
        #expect(naming.count <= 3, "\(name) is named in \(naming.count) files: \(naming.sorted())")
    }

    /// Release metadata fields that are also gate kinds' names.
    static let releaseFields: Set<String> = ["channel", "architecture", "min_compatible_version", "rollout"]

    /// Nothing outside a kind's two files and the registry uses its types: the others reach it
    /// through the protocols.
    @Test(arguments: (PolicyKinds.gates as [any EntryKindDescription.Type] + PolicyKinds.probes).map { String(describing: $0) })
    func aKindsTypeIsUsedInAtMostThreeFiles(type: String) throws {
        let naming = try Self.files(where: { line in
            line.contains(type) && !line.contains(type + "s")  // HTTPProbe, not a longer name that starts with it
        })
        #expect(naming.count >= 2, "the search for \(type) finds \(naming): it tests nothing")
        #expect(naming.count <= 3, "\(type) is used in \(naming.count) files: \(naming.sorted())")
    }

    /// Source files (under Sources/, relative) with a line of code, not a comment, that `matches`.
    static func files(where matches: (Substring) -> Bool) throws -> [String] {
        let sources = root.appendingPathComponent("Sources")
        var naming: [String] = []
        for case let file as URL in FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
        where file.pathExtension == "swift" {
            let code = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
                .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") && !$0.contains("scheme") }
            if code.contains(where: matches) {
                naming.append(file.path.replacingOccurrences(of: sources.path + "/", with: ""))
            }
        }
        return naming
    }
}
