public import UpdatePlan

/// What a step decided.
public enum StepDecision: String, Sendable {
    /// An action that was carried out, or a decision that let the run go on.
    case done
    case pass
    /// A gate said no: the run is deferred.
    case block
    case fail
    /// Not run: `--force`, or a dry run that stops before acting.
    case skip
    /// The run ends here without failing (up to date, manual reboot).
    case stop
}

/// Where the executor reports what it does; the command line prints it. Library code never prints.
public protocol RunReporter: Sendable {
    /// `step` is the `index`th (from 0) of the `total` steps the run shows (`StepNumbering`).
    func stepFinished(index: Int, total: Int, step: Step, decision: StepDecision, detail: String)
    func progress(bytes: Int, total: Int)
    func note(_ text: String)
    /// Something the operator should fix though the run goes on (the command line: stderr).
    func warning(_ text: String)
}

extension RunReporter {
    public func warning(_ text: String) { note("warning: " + text) }
}

/// The counter beside each step a run shows: the steps shown, numbered without gaps, out of the
/// steps the run shows when it goes through to its end. A run that stops early (deferred,
/// failed, up to date) ends before its total; a step of another part or of the path not taken
/// is never counted.
struct StepNumbering {
    let total: Int
    private(set) var shown = 0

    init(total: Int) { self.total = total }

    /// Reports `step` as the next one shown.
    mutating func report(_ step: Step, _ decision: StepDecision, _ detail: String, to reporter: any RunReporter) {
        reporter.stepFinished(index: shown, total: total, step: step, decision: decision, detail: detail)
        shown += 1
    }
}
