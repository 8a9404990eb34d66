import JSONValue
import UpdatePolicy

/// A rollout wave, as a release's metadata announces it (updatectl's addition to KubeSolo OS's
/// `latest.json`): from `start`, the share of nodes admitted grows linearly from
/// `startPercentage` to 100 % over `duration`, never above `maxPercentage`. A node is admitted
/// once the share passes its place (`position`); before `start` no node is.
public struct ReleaseWave: Sendable, Equatable {
    public var start: Timestamp
    public var duration: Duration
    /// The share admitted at `start`, 0–100.
    public var startPercentage: Double
    /// The share the wave never grows past, 0–100: below 100 the wave is held there (paused);
    /// 0 admits no node that has not taken the release yet (stopped).
    public var maxPercentage: Double

    public init(start: Timestamp, duration: Duration, startPercentage: Double = 0, maxPercentage: Double = 100) {
        self.start = start
        self.duration = duration
        self.startPercentage = startPercentage
        self.maxPercentage = maxPercentage
    }

    /// The object's keys in `latest.json`, as registry annotations name them after
    /// `annotationPrefix`.
    static let keys = ["start", "duration", "start_percentage", "max_percentage"]
    /// Registry manifests carry the wave as one annotation per key: `dev.updatectl.rollout.start` …
    public static let annotationPrefix = "dev.updatectl.rollout."

    /// The wave from `latest.json`'s `"rollout"` object. Every key is checked, and an unknown one
    /// refused: a misspelt `max_percentage` must not let a paused wave grow.
    static func parse(_ json: JSON) throws(ReleaseMetadata.Invalid) -> ReleaseWave {
        guard case .object(let pairs) = json else { throw ReleaseMetadata.Invalid(message: "`rollout` is not a JSON object") }
        var values: [String: String] = [:]
        for (key, value) in pairs {
            guard keys.contains(key) else {
                throw ReleaseMetadata.Invalid(message: "`rollout` has the unknown key `\(key)` (it takes \(keys.joined(separator: ", ")))")
            }
            switch value {
            case .string(let text): values[key] = text
            case .int(let number): values[key] = String(number)
            case .double(let number): values[key] = String(number)
            default: throw ReleaseMetadata.Invalid(message: "`rollout.\(key)` is not a string or a number")
            }
        }
        return try parse(values, place: "rollout.")
    }

    /// The wave from a registry manifest's annotations; nil when it names none.
    static func parse(annotations: [String: String]) throws(ReleaseMetadata.Invalid) -> ReleaseWave? {
        var values: [String: String] = [:]
        for (name, value) in annotations where name.hasPrefix(annotationPrefix) {
            let key = String(name.dropFirst(annotationPrefix.count))
            guard keys.contains(key) else { throw ReleaseMetadata.Invalid(message: "unknown annotation `\(name)`") }
            values[key] = value
        }
        return values.isEmpty ? nil : try parse(values, place: annotationPrefix)
    }

    private static func parse(_ values: [String: String], place: String) throws(ReleaseMetadata.Invalid) -> ReleaseWave {
        for key in ["start", "duration"] where values[key] == nil {
            throw ReleaseMetadata.Invalid(message: "`\(place)\(key)` is missing: a wave needs a start and a duration")
        }
        guard let startText = values["start"], let start = Timestamp.parse(startText) else {
            throw ReleaseMetadata.Invalid(message: "`\(place)start` is not an RFC 3339 time")
        }
        guard let durationText = values["duration"], let duration = DurationText.parse(durationText) else {
            throw ReleaseMetadata.Invalid(message: "`\(place)duration` is not a duration like 48h (or whole seconds)")
        }
        func percentage(_ key: String, _ fallback: Double) throws(ReleaseMetadata.Invalid) -> Double {
            guard let text = values[key] else { return fallback }
            guard let value = Double(text), value >= 0, value <= 100 else {
                throw ReleaseMetadata.Invalid(message: "`\(place)\(key)` is not a number from 0 to 100")
            }
            return value
        }
        return ReleaseWave(
            start: start, duration: duration, startPercentage: try percentage("start_percentage", 0),
            maxPercentage: try percentage("max_percentage", 100))
    }

    /// A node's place in the wave, 0–100: its bucket, moved towards 0 by a wariness under 0.5 and
    /// towards 100 by one over it (0 is first, 1 last, 0.5 the bucket itself).
    public static func position(bucket: Double, wariness: Double) -> Double {
        wariness <= 0.5 ? bucket * wariness * 2 : bucket + (100 - bucket) * (wariness * 2 - 1)
    }

    /// The share admitted at `time`, 0–100.
    public func share(at time: Timestamp) -> Double {
        guard time >= start else { return 0 }
        let elapsed = Double(DurationText.milliseconds(time - start))
        let length = Double(DurationText.milliseconds(duration))
        let grown = length <= 0 || elapsed >= length ? 100 : startPercentage + (100 - startPercentage) * elapsed / length
        return min(grown, maxPercentage)
    }

    /// Whether a node at `position` is admitted at `time`: the share has passed it, or the wave
    /// has grown to 100 % (which admits the last node too).
    public func admits(position: Double, at time: Timestamp) -> Bool {
        let share = share(at: time)
        return time >= start && (position < share || share >= 100)
    }

    /// The first whole second at which a node at `position` is admitted; nil when the wave is
    /// held (`maxPercentage`) below its place.
    public func admission(position: Double) -> Timestamp? {
        guard maxPercentage >= 100 || position < maxPercentage else { return nil }
        let end = start + duration
        guard position >= startPercentage, startPercentage < 100 else { return start }
        let seconds = Double(DurationText.milliseconds(duration)) / 1000 * (position - startPercentage) / (100 - startPercentage)
        var time = min(end, start + .seconds(Int64(seconds.rounded(.up))))
        while time > start, admits(position: position, at: time + .seconds(-1)) { time = time + .seconds(-1) }
        while time < end, !admits(position: position, at: time) { time = time + .seconds(1) }
        return time
    }

    /// "5% → 100% over 48h from 2026-12-07T08:00:00Z", ", held at 20%" after it when it is.
    public var description: String {
        var text = "\(PercentText.show(startPercentage)) → 100% over \(DurationText.format(duration)) from \(start)"
        if maxPercentage < 100 { text += ", held at \(PercentText.show(maxPercentage))" }
        return text
    }
}
