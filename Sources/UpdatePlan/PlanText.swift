import UpdatePolicy
import YAMLTree

/// The plan as a person reads it in a terminal: a header, a numbered table, and what happens on failure.
public enum PlanText {
    public static func render(_ plan: Plan, resume: Plan.Resume? = nil) -> String {
        var out = "Plan for \(plan.policyFile)\n"
        for (label, value) in header(plan) {
            out += "  " + label.padding(10) + " " + value + "\n"
        }
        out += "\n"
        let rows: [[String]] = plan.steps.enumerated().map { index, step in
            [String(index + 1), step.phase.rawValue, step.kind.rawValue, step.id, step.summary, origin(step, plan)]
        }
        let headings = ["#", "phase", "kind", "step", "detail", "origin"]
        var widths = headings.map(\.count)
        for row in rows {
            for (column, cell) in row.enumerated() where column != 4 { widths[column] = max(widths[column], cell.count) }
        }
        func line(_ cells: [String], marker: String) -> String {
            var text = marker
            for (column, cell) in cells.enumerated() {
                if column == 4 { continue }
                text += (column == 0 ? cell.padding(widths[0], left: true) : cell.padding(widths[column])) + "  "
            }
            return text
        }
        // The detail goes on its own line under the step, so long commands do not break the table.
        out += line(headings, marker: "   ").trimmingTrailing + "\n"
        var part = Part.apply
        for (index, step) in plan.steps.enumerated() {
            if step.part != part {
                part = step.part
                out +=
                    part == .activate
                    ? "   -- `updatectl activate` (activation: separate) --\n"
                    : "   -- after the reboot: `updatectl agent` verifies (a run every "
                        + DurationText.format(plan.retryEvery.value) + " until committed or rolled back), "
                        + "or `updatectl healthcheck` once --\n"
            }
            let marker = resume?.index == index ? "=> " : "   "
            out += line(rows[index], marker: marker).trimmingTrailing + "\n"
            let indent = String(repeating: " ", count: 3 + widths[0] + 2)
            out += indent + step.summary + "\n"
            if !step.parameters.isEmpty {
                out +=
                    indent
                    + step.parameters.map { parameter in
                        "\(parameter.name): \(parameter.value.display)" + (parameter.origin.isDefault ? " [default]" : "")
                            + (parameter.origin.elsewhere.map { " [\($0)]" } ?? "")
                    }.joined(separator: ", ") + "\n"
            }
        }
        if let resume {
            out += "\n=> resume at step \(resume.index + 1): \(resume.reason)\n"
        }
        out += "\nOn failure:\n"
        for item in onFailure(plan) { out += "  - \(item)\n" }
        return out
    }

    static func header(_ plan: Plan) -> [(String, String)] {
        var rows: [(String, String)] = []
        if let registry = plan.registry {
            rows.append(
                (
                    "registry",
                    "\(registry.value.named(plan.tag.value)) (channel \(plan.channel.value))"
                        + (registry.origin.elsewhere.map { " [\($0)]" } ?? "")
                ))
        } else {
            let server =
                plan.server.map {
                    "\($0.value.text) (channel \(plan.channel.value))" + ($0.origin.elsewhere.map { " [\($0)]" } ?? "")
                } ?? "none: `apply` cannot run"
            rows.append(("server", server))
        }
        if plan.server != nil {
            rows.append(
                (
                    "metadata",
                    plan.metadataURL + " (layout \(plan.layout.value.rawValue)"
                        + (plan.layout.origin.isDefault ? " [default]" : "") + ")"
                ))
        }
        rows.append(("backend", plan.backend.described.header))
        if let key = plan.publicKey {
            rows.append(("signature", "on: \(Planner.describe(key.value))"))
        } else {
            rows.append(("signature", "off: releases are not signature-checked"))
        }
        let after = plan.autoRollbackAfter.value
        rows.append(
            (
                "reboot",
                plan.reboot.value.rawValue + (plan.reboot.origin.isDefault ? " [default]" : "")
                    + "; automatic rollback " + (after == 0 ? "off" : "after \(after) failed run\(after == 1 ? "" : "s")")
            ))
        rows.append(("agent", schedule(plan)))
        return rows
    }

    /// What `updatectl agent` does on its own, and by when an unverified release is gone.
    static func schedule(_ plan: Plan) -> String {
        let format = DurationText.format
        var text =
            "a check every \(format(plan.agent.checkEvery.value)) + up to \(format(plan.agent.jitter.value)) jitter"
            + (plan.windows.isEmpty ? "" : ", waiting for the maintenance window (\(plan.windows.joined(separator: "; ")))")
        if let within = plan.rollbackWithin {
            text +=
                "; an unverified release is rolled back by itself at most \(format(within)) after the agent starts on its boot ("
                + "\(plan.autoRollbackAfter.value) run\(plan.autoRollbackAfter.value == 1 ? "" : "s") of at most "
                + "\(format(plan.verifyTimeout.value)), \(format(plan.retryEvery.value)) apart)"
                + (plan.reboot.value == .auto ? " and rebooted out of" : "; the reboot out of it is yours (reboot: manual)")
        } else {
            text += "; an unverified release stays until `updatectl rollback` (automatic rollback off)"
        }
        return text
    }

    static func origin(_ step: Step, _ plan: Plan) -> String {
        if let elsewhere = step.origin.elsewhere { return elsewhere + (step.originNote.map { " (\($0))" } ?? "") }
        guard let mark = step.origin.mark else { return "default" }
        return "\(plan.policyFile):\(mark.line):\(mark.column)" + (step.originNote.map { " (\($0))" } ?? "")
    }

    /// The footer: what each kind of failure leads to under this policy.
    public static func onFailure(_ plan: Plan) -> [String] {
        let after = plan.autoRollbackAfter.value
        let held = plan.steps.contains { if case .releaseHeld = $0.operation { true } else { false } }
        return [
            "a gate that says no defers the run: phase back to idle, the gate and its reason recorded, no attempt spent (exit 3)",
            "a release the channel, architecture or min_compatible_version gate refuses ends the check in `failed` with "
                + "the reason, before any download: no attempt spent (exit 1)",
            "a download that fails on the link (dropped, timed out, 5xx) is tried again after a random wait, from the byte "
                + "it reached; one that still fails keeps its bytes for the next run (docs/apply.md, bad links)",
            "a metadata, signature, download, size or hash failure ends the attempt in `failed` before activation; "
                + "the active slot is untouched",
            "a verification run in which no round passes counts a failure (health_check_failures) and exits 1; "
                + (after == 0
                    ? "automatic rollback is off, so the new slot stays until `updatectl rollback`"
                    : "at \(after) in a row updatectl rolls back to the previous slot"
                        + (plan.reboot.value == .auto ? " and reboots into it" : "")),
            "a node that boots the old slot (the bootloader fell back) is recorded as rolled_back",
        ]
            + (held
                ? [
                    "no fleet reboot slot (the group is full, or its lock does not answer) defers the run with the release staged "
                        + "(exit 3); the next run asks again without downloading; the slot is held across the reboot (a rollback's "
                        + "too) and given back after the commit, after the reboot that ends a rollback, or by the next run that finds "
                        + "no update in flight; a deferral by the fleet lock spends no attempt"
                ] : []) + hookFailures(plan)
    }

    /// What a failing hook command leads to, for the hook points the policy uses.
    static func hookFailures(_ plan: Plan) -> [String] {
        var before = false, after = false
        for step in plan.steps {
            guard case .hook(let point, _, _) = step.operation else { continue }
            if point == .beforeReboot { before = true } else { after = true }
        }
        return
            (before
            ? [
                "a before_reboot hook command that fails or runs past its timeout defers the run with the release staged and "
                    + "nothing activated (exit 3); the next run goes on without downloading and runs the hook again"
            ] : [])
            + (after ? ["an after_commit or after_rollback hook command that fails is a warning; the outcome stands"] : [])
    }
}

extension String {
    func padding(_ width: Int, left: Bool = false) -> String {
        let pad = String(repeating: " ", count: max(0, width - count))
        return left ? pad + self : self + pad
    }

    var trimmingTrailing: String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
