import YAMLTree

/// `free_space`: the file system the image goes to has room for it and some headroom.
public struct FreeSpaceGate: DecodableGate {
    public var headroom: Located<Double>
    /// The file system to measure; nil for the passive slot's.
    public var path: Located<String>?

    public static let entry = EntryKind.gate(
        "free_space", example: "- free_space: {name: room, headroom: 15%, path: /var/lib/updatectl, timeout: 5s}", timeout: "10s",
        "Passes when the free bytes on `path` are at least the release's size (all its files) plus the headroom (statfs). "
            + "On the passive slot, the files the release replaces there count as free: staging removes them first.",
        [
            Key("headroom", .percentage, default: "10%", "Extra space needed beyond the release's size."),
            Key("path", .path, default: "the passive slot", "The file system to measure."),
        ], type: FreeSpaceGate.self)

    init?(_ options: Fields, _ context: inout KindContext) {
        headroom = options.percentage("headroom")
        path = options.optionalText("path")
    }

    public var summary: String { "free space ≥ release size + headroom (statfs; files the release replaces count as free)" }

    public var parameters: [Parameter] {
        [
            Parameter("headroom", .percentage(headroom.value), headroom.origin),
            Parameter("path", .text(path?.value ?? "passive slot"), path?.origin ?? .defaulted),
        ]
    }

    static let defaultOrder: Int? = 1
    static let defaultText = "free_space: {headroom: 10%}"
    public static let withoutIt: String? = ": free space is no longer checked before the download"

    public static let facts = [Key("free_space", .choice(["enough", "short"]), default: "enough", "Free space for the image.")]

    public static let rules = [noFreeSpaceGate]

    static let noFreeSpaceGate = Rule(
        "UPD405", "no-free-space-gate", .warning,
        summary: "The pre-flight gates do not include `free_space`.",
        rationale: "A download that runs out of space fails late, after the passive slot has been overwritten.",
        fix: "Add `- free_space: {headroom: 10%}` to `preflight`.",
        example: "updates:\n  preflight:\n    - node_not_blocked: {}", fixes: .unsafe)

    static func checkPolicy(_ checks: inout CrossChecks) {
        let policy = checks.policy
        guard !policy.preflightOrigin.isInvalid, !policy.preflight.contains(kindOf: FreeSpaceGate.self) else { return }
        checks.findings.append(
            Finding(
                .noFreeSpaceGate,
                "no `free_space` gate: a download that runs out of space fails late, after the passive slot has been overwritten",
                start: checks.at(policy.preflightOrigin), help: "add `- free_space: {headroom: 10%}` to preflight",
                fixes: addition(checks)))
    }

    /// A gate added is a check the node did not run before: unsafe. Only into a `preflight` list
    /// written in the policy itself.
    static func addition(_ checks: CrossChecks) -> [Fix] {
        guard let mark = checks.policy.preflightOrigin.mark, let (pair, _) = checks.pair(withValueAt: mark),
            pair.value.sequence != nil
        else { return [] }
        return Fix.inserting(
            entry: "free_space: {headroom: 10%}", into: pair.value, in: checks.source, "add `- free_space: {headroom: 10%}`",
            .unsafe
        ).map { [$0] } ?? []
    }
}

extension RuleID {
    public static let noFreeSpaceGate = FreeSpaceGate.noFreeSpaceGate.id
}
