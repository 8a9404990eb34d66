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

    @Test func everyCrashFoundSoFarIsKept() {
        #expect(!Self.files("crashes").isEmpty)
        #expect(Self.files("seeds").count >= 10)
    }
}
