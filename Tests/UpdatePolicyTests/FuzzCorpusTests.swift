import Foundation
import FuzzHarness
import Testing

/// The fuzzer's seeds and every input it ever crashed on, replayed through the same harness as
/// plain tests (the fuzzer itself runs from scripts/fuzz.sh, not in CI).
@Suite struct FuzzCorpusTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fuzz")

    static func files(_ folder: String) -> [String] {
        let path = directory.appendingPathComponent(folder).path
        return ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { "\(folder)/\($0)" }
    }

    @Test(arguments: files("seeds") + files("crashes"))
    func replaysWithoutCrashing(name: String) throws {
        let bytes = try Array(Data(contentsOf: Self.directory.appendingPathComponent(name)))
        // The harness traps on any inconsistency (a finding outside the input); reaching here is the test.
        let digest = FuzzHarness.run(bytes)
        #expect(digest != 0 || bytes.isEmpty)
    }

    /// The JSON readers' seeds and findings (`UPDATECTL_FUZZ_TARGET=json scripts/fuzz.sh`).
    @Test(arguments: files("json-seeds") + files("json-crashes").filter { !$0.hasSuffix(".keep") })
    func jsonReplaysWithoutCrashing(name: String) throws {
        let bytes = try Array(Data(contentsOf: Self.directory.appendingPathComponent(name)))
        // The harness traps on a value that does not survive its own writing; reaching here is the test.
        _ = FuzzHarness.runJSON(bytes)
    }

    /// The seeds reach the readers: all but the three the strict reader refuses (a byte-order
    /// mark, nesting past the depth cap, a number no double holds) parse and are written back.
    @Test func theJSONSeedsReachTheReaders() throws {
        let seeds = Self.files("json-seeds")
        #expect(seeds.count >= 10)
        let refused = try seeds.filter { FuzzHarness.runJSON(try Array(Data(contentsOf: Self.directory.appendingPathComponent($0)))) == 0 }
        #expect(refused == ["json-seeds/bom.json", "json-seeds/deep.json", "json-seeds/number-out-of-range.json"], "\(refused)")
    }

    @Test func everyCrashFoundSoFarIsKept() {
        #expect(!Self.files("crashes").isEmpty)
        #expect(Self.files("seeds").count >= 10)
    }
}
