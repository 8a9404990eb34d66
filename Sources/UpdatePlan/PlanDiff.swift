import UpdatePolicy

/// A behavioural diff of two compiled plans: steps added, removed and moved, parameters changed,
/// each said in terms of what the node will do differently.
public enum PlanDiff {
    public struct Change: Sendable, Hashable {
        public enum Kind: String, Sendable, Hashable {
            case policy, added, removed, moved, changed
        }

        public var kind: Kind
        /// The step id, or nil for plan-wide changes.
        public var step: String?
        public var message: String
    }

    public static func diff(_ old: Plan, _ new: Plan) -> [Change] {
        var changes: [Change] = []
        let oldSigned = old.publicKey != nil
        let newSigned = new.publicKey != nil
        if oldSigned && !newSigned {
            changes.append(
                Change(
                    kind: .policy, step: nil,
                    message: "signature verification turned off: releases are no longer signature-checked"))
        } else if !oldSigned && newSigned {
            changes.append(Change(kind: .policy, step: nil, message: "signature verification turned on"))
        }
        if old.server?.value.text != new.server?.value.text {
            changes.append(
                Change(
                    kind: .policy, step: nil, message: "server \(old.server?.value.text ?? "none") → \(new.server?.value.text ?? "none")"))
        }
        if old.channel.value != new.channel.value {
            changes.append(Change(kind: .policy, step: nil, message: "channel \(old.channel.value) → \(new.channel.value)"))
        }
        if old.backend.type != new.backend.type {
            changes.append(Change(kind: .policy, step: nil, message: "backend \(old.backend.type) → \(new.backend.type)"))
        }

        let oldIndex = Dictionary(old.steps.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        let newIndex = Dictionary(new.steps.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        for step in old.steps where newIndex[step.id] == nil {
            changes.append(
                Change(kind: .removed, step: step.id, message: "removed \(step.kind.rawValue) `\(step.id)`" + consequence(removed: step)))
        }
        for step in new.steps where oldIndex[step.id] == nil {
            changes.append(Change(kind: .added, step: step.id, message: "added \(step.kind.rawValue) `\(step.id)`: \(step.summary)"))
        }
        changes += moves(old, new, oldIndex: oldIndex, newIndex: newIndex)
        for step in new.steps {
            guard let index = oldIndex[step.id] else { continue }
            changes += parameterChanges(old.steps[index], step)
        }
        return changes
    }

    /// What the node loses without a removed gate, as its kind says.
    private static func consequence(removed step: Step) -> String {
        guard case .gate(let gate) = step.operation else { return "" }
        return type(of: gate.kind).withoutIt ?? ""
    }

    /// Steps present in both plans whose order relative to the others changed: those outside a
    /// longest run that kept its order.
    private static func moves(_ old: Plan, _ new: Plan, oldIndex: [String: Int], newIndex: [String: Int]) -> [Change] {
        let common = new.steps.map(\.id).filter { oldIndex[$0] != nil }
        let positions = common.map { oldIndex[$0]! }
        // Longest increasing subsequence, O(n log n).
        var tails: [Int] = []
        var tailIndex: [Int] = []
        var parent = [Int](repeating: -1, count: positions.count)
        for (i, position) in positions.enumerated() {
            var low = 0
            var high = tails.count
            while low < high {
                let mid = (low + high) / 2
                if tails[mid] < position { low = mid + 1 } else { high = mid }
            }
            if low > 0 { parent[i] = tailIndex[low - 1] }
            if low == tails.count {
                tails.append(position)
                tailIndex.append(i)
            } else {
                tails[low] = position
                tailIndex[low] = i
            }
        }
        var kept = Set<Int>()
        var cursor = tailIndex.last ?? -1
        while cursor >= 0 {
            kept.insert(cursor)
            cursor = parent[cursor]
        }
        var out: [Change] = []
        for (i, id) in common.enumerated() where !kept.contains(i) {
            let next = i + 1 < common.count ? "now runs before `\(common[i + 1])`" : "now runs last"
            out.append(Change(kind: .moved, step: id, message: "moved `\(id)`: \(next)"))
        }
        return out
    }

    private static func parameterChanges(_ old: Step, _ new: Step) -> [Change] {
        var out: [Change] = []
        if old.kind != new.kind || old.phase != new.phase {
            out.append(
                Change(
                    kind: .changed, step: new.id,
                    message: "`\(new.id)` is now a \(new.kind.rawValue) in phase \(new.phase.rawValue)"))
        }
        // The kind's own account of what changed (a window shortened, a share widened), and the
        // parameters it covers.
        var covered = Set<String>()
        if let (before, after) = kinds(old.operation, new.operation) {
            let (messages, names) = kindChanges(before, after, step: new.id)
            out += messages.map { Change(kind: .changed, step: new.id, message: $0) }
            covered = names
        }
        let oldParameters = Dictionary(old.parameters.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for parameter in new.parameters {
            guard let before = oldParameters[parameter.name] else {
                out.append(Change(kind: .changed, step: new.id, message: "`\(new.id)`: \(parameter.name) \(parameter.value.display) added"))
                continue
            }
            guard before.value != parameter.value, !covered.contains(parameter.name) else { continue }
            out.append(Change(kind: .changed, step: new.id, message: describe(step: new, parameter.name, before.value, parameter.value)))
        }
        for parameter in old.parameters where !new.parameters.contains(where: { $0.name == parameter.name }) {
            out.append(Change(kind: .changed, step: new.id, message: "`\(new.id)`: \(parameter.name) removed"))
        }
        return out
    }

    /// The entries two steps run, when both run one.
    private static func kinds(_ old: Operation, _ new: Operation) -> (any EntryKindDescription, any EntryKindDescription)? {
        switch (old, new) {
        case (.gate(let a), .gate(let b)): (a.kind, b.kind)
        case (.probe(let a), .probe(let b)): (a.kind, b.kind)
        default: nil
        }
    }

    private static func describe(step: Step, _ name: String, _ before: PlanValue, _ after: PlanValue) -> String {
        let base = "\(name) \(before.display) → \(after.display)"
        switch (before, after) {
        case (.integer(let a), .integer(let b)) where name == "auto_rollback_after":
            if b == 0 { return "\(base): automatic rollback turned off" }
            if a == 0 { return "\(base): automatic rollback turned on" }
            return "\(base): rollback after \(b) failed run\(b == 1 ? "" : "s") instead of \(a)"
        case (.duration(let a), .duration(let b)):
            let delta = b - a
            let amount = DurationText.format(delta < .zero ? .zero - delta : delta)
            return "`\(step.id)`: \(base) (\(delta < .zero ? "shorter" : "longer") by \(amount))"
        case (.text(let a), .text(let b)) where name == "reboot":
            return b == "auto"
                ? "\(base): the node now reboots itself after activation"
                : "\(base): the operator or init must now reboot the node (was \(a))"
        default:
            return "`\(step.id)`: \(base)"
        }
    }
}
