import Testing
import UpdatePolicy

@testable import UpdateAgent

/// Gate kinds evaluated against a machine the test sets up.
@Suite struct GateKindTests {
    @Test func freeSpacePassesWithRoomAndBlocksWithout() throws {
        var harness = KindHarness()
        harness.imageSize = 100 << 20
        harness.system.free = 200 << 20
        guard case .pass(let detail) = try harness.evaluate("- free_space: {headroom: 10%}") else {
            Issue.record("200 MiB free for a 100 MiB image and 10% is room")
            return
        }
        #expect(detail.contains("needed 110 MiB"), "\(detail)")
        harness.system.free = 105 << 20
        guard case .block(let reason) = try harness.evaluate("- free_space: {headroom: 10%}") else {
            Issue.record("105 MiB free is short of 110 MiB")
            return
        }
        #expect(reason.hasPrefix("only 105 MiB"), "\(reason)")
    }

    @Test func forceSkipsTimeAndPlaceGatesButNotSafetyGates() throws {
        let harness = KindHarness()
        #expect(
            try harness.evaluate("- maintenance_window: {start: \"01:00\", end: \"01:30\"}", force: true)
                == .skipped("skipped by --force"))
        var short = harness
        short.system.free = 1
        guard case .block = try short.evaluate("- free_space: {}", force: true) else {
            Issue.record("--force must not skip the free-space gate")
            return
        }
    }
}
