import YAMLTree

/// `maintenance_window`: now is inside the window, on its days, in its time zone.
public struct MaintenanceWindowGate: CheckedGate {
    public var days: Located<[Weekday]>
    public var start: Located<TimeOfDay>
    public var end: Located<TimeOfDay>
    public var timezone: Located<String>

    public init(days: Located<[Weekday]>, start: Located<TimeOfDay>, end: Located<TimeOfDay>, timezone: Located<String>) {
        self.days = days
        self.start = start
        self.end = end
        self.timezone = timezone
    }

    /// Minutes the window stays open: `end - start`, across midnight when `end < start`.
    public var lengthMinutes: Int {
        let length = end.value.minutes - start.value.minutes
        return length < 0 ? length + 24 * 60 : length
    }

    public static let entry = EntryKind.gate(
        "maintenance_window", example: #"- maintenance_window: {days: [sat, sun], start: "22:00", end: "04:00", timezone: Europe/Berlin}"#,
        timeout: "1s", "Passes when now is inside the window. An `end` before `start` crosses midnight.",
        [
            Key("days", .days, default: "every day", "Days on which the window opens (the day it starts)."),
            Key("start", .timeOfDay, required: true, "When the window opens, `HH:MM`."),
            Key("end", .timeOfDay, required: true, "When the window closes, `HH:MM`."),
            Key("timezone", .timeZone, default: "UTC", "IANA time zone of `start` and `end`."),
        ], type: MaintenanceWindowGate.self)

    init?(_ options: Fields, _ context: inout KindContext) {
        guard let start = options.time("start"), let end = options.time("end") else { return nil }
        self.init(days: options.days("days"), start: start, end: end, timezone: options.text("timezone"))
    }

    public var summary: String { "now is inside \(start.value)–\(end.value) \(timezone.value)" }

    /// The window in the plan's words: `02:00–05:00 UTC`, with its days when not every day.
    public var window: String? {
        "\(start.value)–\(end.value) \(timezone.value)"
            + (days.value.count == 7 ? "" : " (" + days.value.map(\.rawValue).joined(separator: ", ") + ")")
    }

    public var parameters: [Parameter] {
        [
            Parameter("days", .list(days.value.map(\.rawValue)), days.origin),
            Parameter("start", .time(start.value), start.origin),
            Parameter("end", .time(end.value), end.origin),
            Parameter("timezone", .text(timezone.value), timezone.origin),
        ]
    }

    /// KubeSolo OS writes the window as `maintenance_window: "HH:MM-HH:MM"` at the top of
    /// `updates:` (UTC, every day; empty = always open): one gate, unless a gate is listed too,
    /// which is the window given twice (UPD207).
    static func implicit(_ listed: [Gate], _ context: inout KindContext) -> [Gate] {
        guard let written = context.updates.timeRange(entry.name), let range = written.value else { return [] }
        if let other = listed.entries(of: MaintenanceWindowGate.self).first.map({ listed[$0.index] }) {
            // From update.conf the policy's gate wins; from the policy itself it is the window twice.
            guard let mark = written.origin.mark else { return [] }
            context.findings.append(
                Finding(
                    .shorthandConflict,
                    "`\(entry.name): \"\(range)\"` and a `\(entry.name)` gate under `preflight` give the window twice",
                    start: mark, end: context.updates.mapping[entry.name]?.end,
                    help: "keep one: the gate (which adds days and a time zone), or the one-line form",
                    notes: other.source.mark.map { [Finding.Note(message: "the gate", mark: $0)] } ?? []))
            return []
        }
        let defaults = Fields(mapping: DecodedMapping(node: context.updates.mapping.node), table: entry.table)
        let origin = written.origin
        let gate = MaintenanceWindowGate(
            days: defaults.days("days"), start: Located(range.start, origin),
            end: Located(range.end, origin), timezone: defaults.text("timezone"))
        return [
            Gate(
                name: Located(context.names.derive(entry.name), .defaulted), kind: gate, timeout: defaults.duration("timeout"),
                source: .shorthand(key: entry.name, written.origin))
        ]
    }

    public static let skippedByForce = true
    public static let withoutIt: String? = ": updates may start at any time"

    public func changes(from old: MaintenanceWindowGate, step: String) -> (messages: [String], covered: Set<String>) {
        guard old.lengthMinutes != lengthMinutes else { return ([], []) }
        let delta = lengthMinutes - old.lengthMinutes
        let amount = DurationText.format(.seconds(abs(delta) * 60))
        return (
            [
                "maintenance window \(delta < 0 ? "shortened" : "lengthened") by \(amount) "
                    + "(\(old.start.value)–\(old.end.value) → \(start.value)–\(end.value))"
            ], ["start", "end"]
        )
    }

    public static let rules = [windowTooShort]

    static let windowTooShort = Rule(
        "UPD407", "window-too-short", .warning,
        summary: "A maintenance window is shorter than post-boot verification can take.",
        rationale: "An update started at the window's start can still be verifying, or rolling back, after it "
            + "closes.",
        fix: "Widen the window or shorten `healthcheck.timeout`.",
        example: "updates:\n  healthcheck: {timeout: 30m}\n  preflight:\n    - maintenance_window: {start: \"02:00\", end: \"02:15\"}")

    func check(_ gate: Gate, _ checks: inout CrossChecks) {
        guard let mark = start.origin.mark else { return }
        let timeout = checks.policy.healthcheck.timeout
        if lengthMinutes == 0 {
            checks.findings.append(
                Finding(
                    .badValue,
                    "the maintenance window starts and ends at \(start.value): a window of no length never "
                        + "opens, so no update would ever run",
                    start: end.origin.mark ?? mark, end: checks.end(of: end.origin.mark),
                    help: "give `end` a different time; an end before the start crosses midnight"))
        } else if !timeout.origin.isInvalid, Int64(lengthMinutes) < DurationText.milliseconds(timeout.value) / 60_000 {
            checks.findings.append(
                Finding(
                    .windowTooShort,
                    "the maintenance window is open \(checks.format(.seconds(lengthMinutes * 60))), shorter than post-boot "
                        + "verification can take (healthcheck.timeout \(checks.format(timeout.value))\(checks.said(timeout.origin)), "
                        + "settle included): an update started in the window can still be verifying or rolling back after it closes",
                    start: mark, end: checks.end(of: end.origin.mark.map { $0.offset > mark.offset ? $0 : mark } ?? mark),
                    help: "widen the window or shorten healthcheck.timeout"))
        }
    }
}

extension RuleID {
    public static let windowTooShort = MaintenanceWindowGate.windowTooShort.id
}
