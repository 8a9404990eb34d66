public import UpdatePolicy

extension MaintenanceWindowGate: WindowEvaluating {
    func isOpen(at time: Timestamp) -> Bool { isInside(LocalTime.reading(at: time, zone: timezone.value)) }

    func evaluate(_ gate: Gate, _ input: GateInput, _ env: CheckEnvironment) -> GateOutcome {
        let now = LocalTime.reading(at: env.clock.now(), zone: timezone.value)
        let dayList = days.value.count == 7 ? "every day" : days.value.map(\.rawValue).joined(separator: ", ")
        let bounds = "\(start.value)–\(end.value) \(timezone.value) (\(dayList))"
        return isInside(now)
            ? .pass("now \(now.text) is inside \(bounds)")
            : .block("now \(now.text) is outside the maintenance window \(bounds)")
    }
}

extension MaintenanceWindowGate {
    /// Whether `reading` lies in the window: it opens on its days at `start`; an `end` before
    /// `start` closes on the next day.
    public func isInside(_ reading: LocalTime.Reading) -> Bool {
        LocalTime.isInside(reading, days: days.value, start: start.value, end: end.value)
    }
}
