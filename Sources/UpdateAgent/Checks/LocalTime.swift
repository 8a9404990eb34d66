public import UpdatePolicy

#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock time in an IANA zone, from the system's zoneinfo through the C library.
public enum LocalTime {
    private static let lock = Mutex()

    public struct Reading: Sendable {
        public var weekday: Weekday
        public var minuteOfDay: Int
        public var text: String
    }

    /// The day and minute at `instant` in `zone` (e.g. `Europe/Berlin`, `UTC`).
    public static func reading(at instant: Timestamp, zone: String) -> Reading {
        lock.withLock {
            let previous = getenv("TZ").map { String(cString: $0) }
            setenv("TZ", zone == "UTC" ? "UTC0" : ":" + zone, 1)
            tzset()
            var seconds = time_t(instant.seconds)
            var parts = tm()
            localtime_r(&seconds, &parts)
            if let previous { setenv("TZ", previous, 1) } else { unsetenv("TZ") }
            tzset()
            // tm_wday: 0 is Sunday.
            let days: [Weekday] = [.sun, .mon, .tue, .wed, .thu, .fri, .sat]
            let weekday = days[Int(parts.tm_wday)]
            let minute = Int(parts.tm_hour) * 60 + Int(parts.tm_min)
            let text = "\(weekday.rawValue) \(TimeOfDay(hour: Int(parts.tm_hour), minute: Int(parts.tm_min))) \(zone)"
            return Reading(weekday: weekday, minuteOfDay: minute, text: text)
        }
    }

    /// Whether `reading` lies in `window`. The window opens on its `days` at `start`; an `end`
    /// before `start` closes on the next day.
    public static func isInside(_ reading: Reading, days: [Weekday], start startTime: TimeOfDay, end endTime: TimeOfDay) -> Bool {
        let start = startTime.minutes
        let end = endTime.minutes
        // A window of no length never opens (lint refuses it; a run never treats it as open).
        if start == end { return false }
        if start < end {
            return days.contains(reading.weekday) && reading.minuteOfDay >= start && reading.minuteOfDay < end
        }
        if reading.minuteOfDay >= start { return days.contains(reading.weekday) }
        if reading.minuteOfDay < end { return days.contains(previous(reading.weekday)) }
        return false
    }

    static func previous(_ day: Weekday) -> Weekday {
        let all = Weekday.allCases
        return all[(all.firstIndex(of: day)! + all.count - 1) % all.count]
    }
}
