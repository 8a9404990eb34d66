/// The key tables of a `simulate` scenario: the outside world a policy meets, scripted.
public enum ScenarioSchema {
    /// `pass`, `fail` or `hang`, optionally `after DURATION`, optionally `xCOUNT`.
    static let outcomeRule = StringRule(
        description: "`pass`, `fail` or `hang`, optionally followed by `after DURATION` and a repeat count `xN` "
            + "(e.g. `pass after 2s`, `fail x40`)",
        pattern: "^(pass|fail|hang)( after [0-9a-z]+)?( x[0-9]+)?$",
        check: { ProbeScript.parseRepeated($0) != nil })

    public static let release = Table(
        "release", summary: "What the update server offers.",
        [
            Key("version", .string(nil), required: true, "The offered version."),
            Key(
                "format", .choice(["kubesolo", "image"]), default: "kubesolo",
                "KubeSolo OS's vmlinuz and initramfs pair, or updatectl's one image."),
            Key("channel", .string(nil), "The release's `channel` (none: the channel gate passes)."),
            Key("architecture", .string(nil), "The release's `architecture` (none: the architecture gate passes)."),
            Key("min_compatible_version", .string(nil), "The release's `min_compatible_version`."),
            Key(
                "signature", .choice(["valid", "bad", "missing"]), default: "valid",
                "`latest.json.sig` as served: valid, signed with another key, or absent."),
            Key("expires", .timestamp, "The metadata's `expires`."),
            Key(
                "rollout_start", .timestamp,
                "The release's rollout wave (`rollout` in its metadata) starts then; none: the release announces no wave. "
                    + "Honoured only with a policy `public_key`, which makes the simulated metadata signed."),
            Key("rollout_duration", .duration, default: "48h", "The wave's `duration`: the share reaches 100% after it."),
            Key("rollout_start_percentage", .percentage, default: "0", "The wave's `start_percentage`."),
            Key("rollout_max_percentage", .percentage, default: "100", "The wave's `max_percentage`: it is held there."),
        ])

    public static let download = Table(
        "download", summary: "How the image download goes.",
        [
            Key(
                "outcome", .choice(["ok", "corrupt", "interrupted", "larger"]), default: "ok",
                "`corrupt`: bytes that do not hash right; `interrupted`: the connection drops; `larger`: more bytes than announced."),
            Key("duration", .duration, default: "1m", "How long the download takes."),
            Key(
                "drops", .integer(min: 0, max: 1000), default: "0",
                "The link drops this many times during the download, "
                    + "each after an equal part of the file; each try goes on from where the last stopped."),
            Key(
                "unavailable_for", .duration, default: "0",
                "The server answers 503 to the download for this long from its "
                    + "first request (virtual time); the run retries as `download.retries` allows."),
        ])

    /// The facts the gate and probe kinds read (each kind declares its own).
    public static let facts = Table("facts", summary: "What the gates find on the node.", PolicyKinds.facts)

    /// How each hook point's commands end (`hooks:` of the policy).
    public static let hooks = Table(
        "hooks", summary: "How the policy's hook commands end.",
        HookPoint.allCases.map { point in
            Key(
                point.rawValue, .choice(["pass", "fail", "hang"]), default: "pass",
                "The `\(point.rawValue)` commands exit 0, exit 1, or hang until their timeout kills them.")
        })

    public static let expect = Table(
        "expect", summary: "The outcome the scenario expects; a mismatch exits 1.",
        [
            Key(
                "outcome", .choice(["success", "rolled_back", "deferred", "refused", "failed", "up_to_date", "activated"]), required: true,
                "How the simulated update ends."),
            Key("runs", .integer(min: 0, max: nil), "How many healthcheck runs it takes."),
            Key("within", .duration, "The outcome is reached by this virtual time."),
        ])

    public static let scenario = Table(
        "scenario", summary: "A scripted run of a policy against a simulated world.",
        [
            Key("description", .string(nil), "What the scenario shows."),
            Key("start", .timestamp, default: "2026-01-05T02:00:00Z", "Virtual time when `apply` starts (a Monday)."),
            Key("running_version", .string(nil), default: "1.0.0", "The version the node runs."),
            Key("release", .table(release), required: true, "What the server offers."),
            Key("download", .table(download), "How the download goes."),
            Key("facts", .table(facts), "What the gates find."),
            Key(
                "gates", .dictionary(.choice(["pass", "block", "error"])),
                "Answers that replace a gate's own check, by gate name (exec and http gates pass unless given here)."),
            Key(
                "boot", .choice(["new", "old"]), default: "new",
                "Which slot the node comes up on after the reboot (`old`: the bootloader falls back)."),
            Key("reboot_after", .duration, default: "1m", "Time from activation until the node runs again after its reboot."),
            Key(
                "probes", .dictionary(.list(.string(outcomeRule))),
                "Per probe, the outcome of each round, across runs (`hang` waits out the probe's timeout); the last repeats; "
                    + "probes not named pass in 50 ms."),
            Key("hooks", .table(hooks), "How the policy's hook commands end, by hook point (they pass unless given here)."),
            Key("runs", .integer(min: 1, max: 1000), default: "10", "Most healthcheck runs (and update checks a fleet lock denies)."),
            Key(
                "run_every", .duration, default: "the policy's schedule",
                "Overrides the node's schedule: the time from a failed healthcheck run to the next one, and between update "
                    + "checks a fleet lock denies. Without it, `healthcheck.retry_every` and `agent.check_every` plus half of "
                    + "`agent.jitter`, as `updatectl agent` runs them."),
            Key("expect", .table(expect), "The expected outcome."),
        ])
}

/// One scripted probe outcome.
public struct ProbeScript: Sendable, Hashable {
    public enum Result: String, Sendable, Hashable {
        case pass, fail, hang
    }

    public var result: Result
    public var latency: Duration?

    public init(result: Result, latency: Duration?) {
        self.result = result
        self.latency = latency
    }

    /// Outcomes a whole scenario may script, repeats counted.
    public static let totalLimit = 100_000

    /// `fail x40` → forty `fail`s.
    public static func parseRepeated(_ text: String) -> [ProbeScript]? {
        parseCounted(text).map { Array(repeating: $0.0, count: $0.1) }
    }

    /// `fail x40` → (`fail`, 40), without making the forty.
    public static func parseCounted(_ text: String) -> (ProbeScript, Int)? {
        var parts = text.split(separator: " ").map(String.init)
        var count = 1
        if let last = parts.last, last.hasPrefix("x"), let n = Int(last.dropFirst()), n >= 1, n <= 10_000 {
            count = n
            parts.removeLast()
        }
        guard let script = parse(parts.joined(separator: " ")) else { return nil }
        return (script, count)
    }

    public static func parse(_ text: String) -> ProbeScript? {
        let parts = text.split(separator: " ")
        guard let first = parts.first, let result = Result(rawValue: String(first)) else { return nil }
        if parts.count == 1 { return ProbeScript(result: result, latency: nil) }
        guard parts.count == 3, parts[1] == "after", let latency = DurationText.parse(String(parts[2])) else { return nil }
        return ProbeScript(result: result, latency: latency)
    }
}
