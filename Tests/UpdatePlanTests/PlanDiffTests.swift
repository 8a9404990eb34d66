import Foundation
import Testing
import UpdatePlan
import UpdatePolicy
import YAMLTree

@Suite struct PlanDiffTests {
    static let base = """
        updates:
          server: https://u.example.com
          public_key: ed25519:Hn1+J4gUuOPxSNmoJfiFmdZ3Rvb4vnwYrH7s+dqvFiU=
          preflight:
            - free_space: {headroom: 10%}
            - no_downgrade: true
            - maintenance_window: {start: "01:00", end: "05:00"}
            - rollout: {percent: 25}
          auto_rollback_after: 3
          reboot: auto
          healthcheck:
            timeout: 5m
            probes:
              - tcp: {name: api, address: "127.0.0.1:6443"}

        """

    func diff(_ change: (String) -> String) throws -> [PlanDiff.Change] {
        PlanDiff.diff(try compile(text: Self.base), try compile(text: change(Self.base)))
    }

    func replacing(_ old: String, _ new: String) -> (String) -> String {
        { text in
            #expect(text.contains(old))
            return text.replacingOccurrences(of: old, with: new)
        }
    }

    @Test func equalPlansHaveNoChanges() throws {
        #expect(try diff { $0 }.isEmpty)
        // Comments and key order do not change behaviour.
        #expect(try diff(replacing("  reboot: auto\n", "  reboot: auto  # reboot ourselves\n")).isEmpty)
    }

    @Test func rollbackTurnedOff() throws {
        let changes = try diff(replacing("auto_rollback_after: 3", "auto_rollback_after: 0"))
        #expect(changes.map(\.message) == ["auto_rollback_after 3 → 0: automatic rollback turned off"])
        #expect(changes.first?.step == "healthcheck.rollback")
    }

    @Test func windowShortened() throws {
        let changes = try diff(replacing("end: \"05:00\"", "end: \"03:00\""))
        #expect(changes.map(\.message) == ["maintenance window shortened by 2h (01:00–05:00 → 01:00–03:00)"])
    }

    @Test func gateRemovedSaysWhatNoLongerHappens() throws {
        let changes = try diff(replacing("    - no_downgrade: true\n", "    - no_downgrade: false  # updatectl: disable=UPD410\n"))
        #expect(changes.map(\.message) == ["removed gate `preflight.no_downgrade`: downgrades are no longer refused"])
        #expect(changes.first?.kind == .removed)
    }

    /// Dropping the written entry keeps the check: it is on in every policy, first among the gates.
    @Test func droppingTheDowngradeEntryOnlyMovesTheCheck() throws {
        let changes = try diff(replacing("    - no_downgrade: true\n", ""))
        #expect(changes.allSatisfy { $0.kind == .moved || $0.kind == .changed }, "\(changes.map(\.message))")
        #expect(!changes.contains { $0.kind == .removed })
    }

    @Test func stepAdded() throws {
        let changes = try diff(replacing("    - rollout: {percent: 25}\n", "    - rollout: {percent: 25}\n    - max_attempts: 2\n"))
        #expect(changes.map(\.kind) == [.added])
        #expect(changes.first?.step == "preflight.max_attempts")
    }

    @Test func gatesReordered() throws {
        let changes = try diff(
            replacing(
                "    - free_space: {headroom: 10%}\n    - no_downgrade: true\n",
                "    - no_downgrade: true\n    - free_space: {headroom: 10%}\n"))
        #expect(changes.map(\.kind) == [.moved])
        #expect(changes.first?.message == "moved `preflight.no_downgrade`: now runs before `preflight.free_space`")
    }

    @Test func durationChangedSaysByHowMuch() throws {
        let changes = try diff(replacing("timeout: 5m", "timeout: 15m"))
        #expect(changes.map(\.message) == ["`healthcheck.rounds`: timeout 5m → 15m (longer by 10m)"])
    }

    @Test func signatureOffAndRebootManual() throws {
        let changes = try diff { text in
            text.replacingOccurrences(of: "  public_key: ed25519:Hn1+J4gUuOPxSNmoJfiFmdZ3Rvb4vnwYrH7s+dqvFiU=\n", with: "")
                .replacingOccurrences(of: "reboot: auto", with: "reboot: manual")
        }
        let messages = changes.map(\.message)
        #expect(messages.contains("signature verification turned off: releases are no longer signature-checked"))
        #expect(messages.contains("removed decision `check.signature`"))
        #expect(
            messages.contains(
                "added wait `reboot.manual`: stop; the operator or init reboots into the new slot, then runs `updatectl healthcheck`"))
        #expect(messages.contains { $0.contains("at 3 consecutive failed runs: roll back") } == false)
    }

    @Test func warinessLowered() throws {
        let changes = try diff(replacing("  reboot: auto\n", "  reboot: auto\n  rollout_wariness: 0.1\n"))
        #expect(
            changes.map(\.message) == [
                "`preflight.rollout_wave`: rollout_wariness 0.5 → 0.1: this node is admitted earlier in each rollout wave"
            ])
    }

    @Test func rolloutWidened() throws {
        let changes = try diff(replacing("percent: 25", "percent: 50"))
        #expect(changes.map(\.message) == ["`preflight.rollout`: percent 25% → 50%: more nodes take each update"])
    }
}
