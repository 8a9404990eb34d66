import Testing
import UpdateAgent
import UpdatePlan

@Suite struct StateMachineTests {
    let t0 = Timestamp(seconds: 1_800_000_000)

    static let legal: Set<String> = [
        "idle>idle", "idle>checking",
        "checking>idle", "checking>downloading", "checking>failed",
        "downloading>staged", "downloading>failed",
        "staged>activated", "staged>checking", "staged>failed", "staged>rolled_back",
        "activated>verifying", "activated>rolled_back",
        "verifying>success", "verifying>activated", "verifying>rolled_back",
        "success>idle", "success>checking", "rolled_back>idle", "rolled_back>checking",
        "failed>idle", "failed>checking",
    ]

    @Test(arguments: Phase.allCases)
    func theTransitionTableAllowsExactlyTheLifecycle(from: Phase) throws {
        for to in Phase.allCases {
            let legal = Self.legal.contains("\(from.rawValue)>\(to.rawValue)")
            let result = Result { () throws(StateMachine.IllegalTransition) -> UpdateState in
                try StateMachine.apply(to, to: UpdateState(phase: from), now: t0)
            }
            switch result {
            case .success(let state):
                #expect(legal, "\(from) → \(to) should be refused")
                #expect(state.phase == to)
            case .failure(let error):
                #expect(!legal, "\(from) → \(to) should be allowed")
                #expect(error.description.contains("does not go from \(from.rawValue) to \(to.rawValue)"))
            }
        }
    }

    func run(_ state: inout UpdateState, _ phases: [Phase], version: String = "1.1.0") throws {
        for phase in phases {
            state = try StateMachine.apply(phase, to: state, event: .init(toVersion: version, fromVersion: "1.0.0"), now: t0)
        }
    }

    @Test func anAttemptIsCountedWhenTheDownloadStartsAndPerVersion() throws {
        var state = UpdateState()
        try run(&state, [.checking, .downloading, .failed])
        #expect(state.attemptCount == 1 && state.toVersion == "1.1.0" && state.startedAt == t0)
        try run(&state, [.checking, .downloading, .failed])
        #expect(state.attemptCount == 2)
        try run(&state, [.checking, .downloading], version: "1.2.0")
        #expect(state.attemptCount == 1 && state.toVersion == "1.2.0")
    }

    @Test func aDeferredRunSpendsNoAttemptAndRecordsTheGate() throws {
        var state = UpdateState()
        try run(&state, [.checking, .downloading, .failed])
        state = try StateMachine.apply(.checking, to: state, now: t0)
        let deferral = UpdateState.Deferral(gate: "maintenance_window", reason: "outside 01:00–05:00 UTC", at: t0)
        state = try StateMachine.apply(.idle, to: state, event: .init(deferral: deferral), now: t0)
        #expect(state.attemptCount == 1)
        #expect(state.deferral == deferral)
        #expect(state.lastError == nil)
        try run(&state, [.checking, .downloading])
        #expect(state.deferral == nil)
    }

    @Test func healthCheckFailuresCountConsecutivelyAndReset() throws {
        var state = UpdateState()
        try run(&state, [.checking, .downloading, .staged, .activated])
        for expected in 1...3 {
            state = try StateMachine.apply(.verifying, to: state, now: t0)
            state = try StateMachine.apply(.activated, to: state, event: .init(error: "probe api failed"), now: t0)
            #expect(state.healthCheckFailures == expected)
        }
        #expect(state.lastError == "probe api failed")
        state = try StateMachine.apply(.verifying, to: state, now: t0)
        state = try StateMachine.apply(.success, to: state, now: t0)
        #expect(state.healthCheckFailures == 0 && state.lastError == nil)
    }

    @Test func rollbackRecordsTheErrorAndResetsFailures() throws {
        var state = UpdateState()
        try run(&state, [.checking, .downloading, .staged, .activated, .verifying, .activated, .verifying])
        state = try StateMachine.apply(.rolledBack, to: state, event: .init(error: "3 failed runs"), now: t0)
        #expect(state.healthCheckFailures == 0 && state.lastError == "3 failed runs")
        state = try StateMachine.apply(.idle, to: state, now: t0)
        #expect(state.lastError == nil)
    }
}
