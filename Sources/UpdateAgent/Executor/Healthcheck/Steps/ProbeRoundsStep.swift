import UpdatePlan
import UpdatePolicy

/// `healthcheck.rounds`: every probe of the plan at once, a round every `interval`, until a
/// round passes or `timeout` (counted from the start of verification, settle included) is spent.
struct ProbeRoundsStep: PostBootStepHandler {
    var interval: Duration
    var timeout: Duration

    /// The shortest pause between probe rounds.
    static let minimumInterval = Duration.milliseconds(100)

    func perform(_ step: Step, _ context: inout HealthcheckContext) throws {
        guard case .verifying = context.verdict else { return }
        let env = context.env, start = context.start, deadline = start + timeout
        let probes = context.run.probes, values = context.variables
        var round = 0
        var passed = false
        while true {
            round += 1
            let roundStart = env.clock.instant()
            let (results, duration) = env.probes.round(probes, variables: values)
            context.results = results
            env.clock.account(elapsed: duration)
            let failed = results.filter { !$0.passed }
            let offset = DurationText.format(.seconds((roundStart - start).components.seconds))
            if failed.isEmpty {
                env.reporter.note("round \(round) at +\(offset): all \(results.count) probes passed")
                passed = true
                break
            }
            env.reporter.note(
                "round \(round) at +\(offset): \(failed.count) of \(results.count) probes failed: "
                    + failed.map { "\($0.name) (\($0.detail))" }.joined(separator: "; "))
            // Never back to back, whatever the policy says (a lint warning below a second).
            let pause = max(interval, Self.minimumInterval)
            if env.clock.instant() + pause >= deadline { break }
            env.clock.sleep(for: pause)
        }
        let elapsed = DurationText.format(.seconds((env.clock.instant() - start).components.seconds))
        if passed {
            context.verdict = .passed
            context.report(step, .pass, "round \(round) passed after \(elapsed)")
        } else {
            let failures = context.results.filter { !$0.passed }.map { "\($0.name): \($0.detail)" }.joined(separator: "; ")
            let message = "no probe round passed in \(DurationText.format(timeout)) (\(round) rounds); last round: \(failures)"
            context.verdict = .notPassed(message)
            context.report(step, .fail, message)
        }
    }
}
