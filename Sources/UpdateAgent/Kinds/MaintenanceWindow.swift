public import UpdatePolicy

extension MaintenanceWindowGate: GateEvaluating {
    func evaluate(_ gate: Gate, _ input: GateInput, _ env: CheckEnvironment) -> GateOutcome {
        let now = LocalTime.reading(at: env.clock.now(), zone: timezone.value)
        let dayList = days.value.count == 7 ? "every day" : days.value.map(\.rawValue).joined(separator: ", ")
        let bounds = "\(start.value)–\(end.value) \(timezone.value) (\(dayList))"
        return LocalTime.isInside(now, self)
            ? .pass("now \(now.text) is inside \(bounds)")
            : .block("now \(now.text) is outside the maintenance window \(bounds)")
    }
}
