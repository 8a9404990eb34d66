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
    func stepFinished(index: Int, total: Int, step: Step, decision: StepDecision, detail: String)
    func progress(bytes: Int, total: Int)
    func note(_ text: String)
    /// Something the operator should fix though the run goes on (the command line: stderr).
    func warning(_ text: String)
}

extension RunReporter {
    public func warning(_ text: String) { note("warning: " + text) }
}
