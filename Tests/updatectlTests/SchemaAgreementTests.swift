import Foundation
import JSONValue
import Testing
import UpdatePolicy

/// `updatectl schema` (read by editors through yaml-language-server, and by check-jsonschema in
/// CI) and `updatectl lint` give the same verdict on structure: every key of every table with a
/// null, with a value of the wrong type, every required key missing, an unknown key in every
/// mapping. The corpus is generated from the key tables, so a new key is covered without a
/// change here.
@Suite struct SchemaAgreementTests {
    static let checkJSONSchema = TestComponents.program("check-jsonschema")

    /// A document tree, written as JSON (which every YAML reader reads the same way).
    indirect enum Tree {
        case map([(String, Tree)])
        case list([Tree])
        case text(String)
        case number(String)
        case bool(Bool)
        case null

        var json: String {
            switch self {
            case .map(let pairs): "{" + pairs.map { "\(JSON.quote($0.0)): \($0.1.json)" }.joined(separator: ", ") + "}"
            case .list(let items): "[" + items.map(\.json).joined(separator: ", ") + "]"
            case .text(let text): JSON.quote(text)
            case .number(let text): text
            case .bool(let value): value ? "true" : "false"
            case .null: "null"
            }
        }
    }

    /// A valid value of `key` in `table`, one that lint passes without errors.
    static func sample(_ key: Key, in table: Table) -> Tree {
        switch (table.name, key.name) {
        case (_, "end"): return .text("04:00")
        case (_, "settle") where table.name == "healthcheck": return .text("0s")
        case (_, "timeout") where table.name == "healthcheck": return .text("10m")
        case ("updates", "kube_system_settle"): return .text("30s")
        case (_, "settle"): return .text("30s")
        case ("updates", "healthcheck_url"): return .text("http://127.0.0.1:10248/healthz")
        // The one-line window beside a maintenance_window gate is the window given twice; empty is
        // "always open", which adds nothing.
        case ("updates", "maintenance_window"): return .text("")
        default: break
        }
        switch key.kind {
        case .string(let rule): return .text(rule == nil ? "v1.0.0" : "stable")
        case .url(let schemes): return .text("\(schemes[0])://u.example.com/x")
        case .path: return .text("/var/lib/x")
        case .duration: return .text("10s")
        case .percentage: return .text("10%")
        case .fraction: return .number("0.25")
        case .integer(let min, _): return .number(String(Swift.max(min, 3)))
        case .boolean: return .bool(true)
        case .choice(let words): return .text(words[0])
        case .timeOfDay: return .text("01:00")
        case .timeRange: return .text("22:00-04:00")
        case .timeZone: return .text("UTC")
        case .days: return .list([.text("sat")])
        case .command: return .list([.text("/bin/true")])
        case .publicKey: return .text("ed25519:Hn1+J4gUuOPxSNmoJfiFmdZ3Rvb4vnwYrH7s+dqvFiU=")
        case .hostPort: return .text("127.0.0.1:6443")
        case .rate: return .text("64KiB/s")
        case .size: return .text("2GiB")
        case .timestamp: return .text("2026-01-05T02:00:00Z")
        case .table(let nested): return tree(nested)
        case .tagged(let tagged): return tree(tagged.variants[0].table)
        case .entries(let family):
            return .list(
                family.kinds.enumerated().map { index, kind in
                    .map([(kind.name, tree(kind.table, name: "\(family.noun)-\(index)"))])
                })
        case .list(let item): return .list([sample(Key(key.name, item, key.summary), in: table)])
        case .dictionary: return .map([])
        }
    }

    /// Every key of `table` but the second spellings (`pubkey`), which `variants` swap in.
    static func tree(_ table: Table, name: String? = nil) -> Tree {
        .map(
            table.keys.filter { $0.insteadOf == nil }.map { key in
                (key.name, key.name == "name" && name != nil ? .text(name!) : sample(key, in: table))
            })
    }

    /// A value of the wrong type for the value `tree` holds.
    static func wrong(_ tree: Tree) -> [Tree] {
        switch tree {
        case .map, .list: [.text("abc"), .number("7")]
        case .text: [.map([("x", .number("1"))]), .bool(true), .number("1.5")]
        case .number: [.text("abc"), .list([]), .number("3.0")]
        case .bool: [.text("abc")]
        case .null: []
        }
    }

    struct Variant {
        var name: String
        var document: Tree
    }

    /// Every variant of the document `root`, whose policy mapping is described by `table`.
    static func variants(of root: Tree, table: Table) -> [Variant] {
        var out: [Variant] = []
        func walk(_ node: Tree, _ table: Table, _ path: String, _ rebuild: @escaping (Tree) -> Tree) {
            guard case .map(let pairs) = node else { return }
            out.append(Variant(name: "\(path).unknown", document: rebuild(.map(pairs + [("bogus_key", .number("1"))]))))
            for key in table.keys where key.required && pairs.contains(where: { $0.0 == key.name }) {
                out.append(Variant(name: "\(path).\(key.name).missing", document: rebuild(.map(pairs.filter { $0.0 != key.name }))))
            }
            for key in table.keys {
                guard let other = key.insteadOf, let index = pairs.firstIndex(where: { $0.0 == other }) else { continue }
                var instead = pairs
                instead[index] = (key.name, sample(key, in: table))
                out.append(Variant(name: "\(path).\(key.name).instead", document: rebuild(.map(instead))))
                out.append(Variant(name: "\(path).\(key.name).both", document: rebuild(.map(pairs + [(key.name, sample(key, in: table))]))))
            }
            for (index, pair) in pairs.enumerated() {
                guard let key = table.key(pair.0) else { continue }
                let place = "\(path).\(key.name)"
                func replacing(_ value: Tree) -> Tree {
                    var copy = pairs
                    copy[index].1 = value
                    return rebuild(.map(copy))
                }
                out.append(Variant(name: "\(place).null", document: replacing(.null)))
                for (number, value) in wrong(pair.1).enumerated() {
                    out.append(Variant(name: "\(place).wrong\(number)", document: replacing(value)))
                }
                switch key.kind {
                case .table(let nested): walk(pair.1, nested, place, replacing)
                case .tagged(let tagged): walk(pair.1, tagged.variants[0].table, place, replacing)
                case .entries(let family):
                    guard case .list(let entries) = pair.1 else { continue }
                    for (entryIndex, entry) in entries.enumerated() {
                        guard case .map(let entryPairs) = entry, let (kindName, options) = entryPairs.first,
                            let kind = family.kind(kindName)
                        else { continue }
                        func replacingEntry(_ value: Tree) -> Tree {
                            var list = entries
                            list[entryIndex] = .map([(kindName, value)])
                            return replacing(.list(list))
                        }
                        out.append(Variant(name: "\(place)[\(kindName)].null", document: replacingEntry(.null)))
                        walk(options, kind.table, "\(place)[\(kindName)]", replacingEntry)
                    }
                default: break
                }
            }
        }
        walk(root, table, "updates") { .map([("updates", $0)]) }
        return out
    }

    /// The whole policy once per backend variant.
    static func bases() -> [(String, Tree)] {
        let directory = tree(PolicySchema.updates)
        guard case .map(let pairs) = directory, let backend = pairs.firstIndex(where: { $0.0 == "backend" }) else { return [] }
        var out: [(String, Tree)] = [("directory", directory)]
        for variant in PolicySchema.backend.variants where variant.tag != PolicySchema.backend.defaultTag {
            guard case .map(var backendPairs) = tree(variant.table) else { continue }
            if let type = backendPairs.firstIndex(where: { $0.0 == "type" }) { backendPairs[type].1 = .text(variant.tag) }
            var copy = pairs
            copy[backend].1 = .map(backendPairs)
            out.append((variant.tag, .map(copy)))
        }
        return out
    }

    @Test(.enabled(if: checkJSONSchema != nil))
    func lintAndTheSchemaAgreeOnStructure() throws {
        let directory = try TemporaryDirectory()
        var names: [String] = []
        for (base, root) in Self.bases() {
            let all = [Variant(name: "base", document: .map([("updates", root)]))] + Self.variants(of: root, table: PolicySchema.updates)
            for variant in all {
                let name = "\(base).\(variant.name).yaml".replacingOccurrences(of: "/", with: "_")
                try directory.write("corpus/" + name, variant.document.json + "\n")
                names.append(name)
            }
        }
        #expect(names.count > 300, "the corpus covers every key")
        let schema = try CLI.run(["schema"])
        try directory.write("schema.json", schema.stdout)

        let corpus = directory.url.appendingPathComponent("corpus")
        let lint = try CLI.run(["lint", "--format", "json", "."], directory: corpus)
        let lintObject = try #require(JSONSerialization.jsonObject(with: Data(lint.stdout.utf8)) as? [String: Any])
        let lintRejects = Set(
            (lintObject["findings"] as? [[String: Any]] ?? [])
                .filter { $0["severity"] as? String == "error" }.compactMap { $0["file"] as? String })

        let checked = try CLI.runProgram(
            try #require(Self.checkJSONSchema),
            ["-o", "json", "--schemafile", directory.url.appendingPathComponent("schema.json").path] + names,
            directory: corpus)
        let checkedObject = try #require(
            JSONSerialization.jsonObject(with: Data(checked.stdout.utf8)) as? [String: Any],
            "\(checked.stdout)\(checked.stderr)")
        #expect((checkedObject["parse_errors"] as? [Any])?.isEmpty == true)
        let schemaRejects = Set((checkedObject["errors"] as? [[String: Any]] ?? []).compactMap { $0["filename"] as? String })

        #expect(!lintRejects.contains("directory.base.yaml") && !lintRejects.contains("command.base.yaml"))
        #expect(!schemaRejects.contains("directory.base.yaml") && !schemaRejects.contains("command.base.yaml"))
        let disagreements = names.filter { lintRejects.contains($0) != schemaRejects.contains($0) }.map { name in
            "\(name): lint \(lintRejects.contains(name) ? "rejects" : "accepts"), the schema \(schemaRejects.contains(name) ? "rejects" : "accepts")"
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements:\n\(disagreements.joined(separator: "\n"))")
        #expect(lintRejects.count > names.count / 2, "most variants are wrong")
    }

    /// YAML merge keys are read as cloud-init and editors read them.
    @Test(.enabled(if: checkJSONSchema != nil))
    func mergeKeysAreReadAsYAMLReadersReadThem() throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            "merge.yaml",
            """
            x-defaults: &defaults
              timeout: 5m
              interval: 15s
            updates:
              server: https://u.example.com  # updatectl: disable=UPD406
              healthcheck:
                <<: *defaults
                interval: 20s

            """)
        try directory.write(
            "bad-merge.yaml",
            """
            x-defaults: &defaults
              timeout: 5m
              intervall: 15s
            updates:
              server: https://u.example.com  # updatectl: disable=UPD406
              healthcheck:
                <<: *defaults

            """)
        let plan = try CLI.run(["plan", "--format", "json", "merge.yaml"], directory: directory.url)
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("\"value\": \"20s\""))
        #expect(plan.stdout.contains("\"value\": \"5m\""))
        let bad = try CLI.run(["lint", "--format", "concise", "bad-merge.yaml"], directory: directory.url)
        #expect(bad.stdout.contains("unknown key `intervall` in healthcheck"), "\(bad.stdout)")
        try directory.write("schema.json", try CLI.run(["schema"]).stdout)
        let checked = try CLI.runProgram(
            try #require(Self.checkJSONSchema),
            ["--schemafile", "schema.json", "merge.yaml", "bad-merge.yaml"], directory: directory.url)
        #expect(checked.stdout.contains("bad-merge.yaml"), "\(checked.stdout)")
        #expect(!checked.stdout.contains("merge.yaml::") || checked.stdout.contains("bad-merge.yaml::"))
    }
}
