import JSONValue
import Testing
import UpdateAgent
import UpdatePlan
import UpdatePolicy

@Suite struct StateFormatTests {
    /// What the Go agent writes (json.MarshalIndent of UpdateState), by hand from its struct tags.
    static let goFile = """
        {
          "phase": "activated",
          "from_version": "0.3.0",
          "to_version": "0.3.1",
          "started_at": "2026-05-14T19:08:30.123456789Z",
          "updated_at": "2026-05-14T19:09:02.000000001-06:00",
          "attempt_count": 2,
          "health_check_failures": 1
        }

        """

    @Test func readsTheGoAgentsFormat() throws {
        let state = try UpdateState.decode(Array(Self.goFile.utf8))
        #expect(state.phase == .activated)
        #expect(state.fromVersion == "0.3.0" && state.toVersion == "0.3.1")
        #expect(state.attemptCount == 2 && state.healthCheckFailures == 1)
        #expect(state.startedAt == Timestamp(seconds: 1_778_785_710, nanoseconds: 123_456_789))
        #expect(state.updatedAt?.description == "2026-05-15T01:09:02.000000001Z")
        #expect(state.lastError == nil)
    }

    @Test func goZeroTimesAndAbsentFieldsAreUnset() throws {
        let state = try UpdateState.decode(
            Array(
                """
                {"phase": "idle", "started_at": "0001-01-01T00:00:00Z", "updated_at": "2026-05-14T19:08:30Z", "attempt_count": 0}
                """.utf8))
        #expect(state.startedAt == nil)
        #expect(state.updatedAt == Timestamp.parse("2026-05-14T19:08:30Z"))
        #expect(
            state.json.render() == """
                {
                  "phase": "idle",
                  "started_at": "0001-01-01T00:00:00Z",
                  "updated_at": "2026-05-14T19:08:30Z",
                  "attempt_count": 0
                }
                """)
    }

    @Test func unknownKeysSurviveARewrite() throws {
        let state = try UpdateState.decode(
            Array(
                """
                {"phase": "success", "updated_at": "2026-05-14T19:08:30Z", "attempt_count": 1, "future_field": {"a": [1, 2]}}
                """.utf8))
        #expect(state.json["future_field"] == .object([("a", .array([.int(1), .int(2)]))]))
    }

    @Test(arguments: [
        ("[]", "the top level is not a JSON object"),
        ("{\"phase\": \"exploded\"}", "unknown phase \"exploded\""),
        ("{\"attempt_count\": 1}", "no \"phase\" string"),
        ("{\"phase\": \"idle\", \"attempt_count\": -1}", "\"attempt_count\" is not a whole number"),
        ("{\"phase\": \"idle\", \"updated_at\": \"yesterday\"}", "\"updated_at\" is not an RFC 3339 time"),
        ("{\"phase\": \"idle\"", "not JSON"),
        ("", "not JSON"),
    ])
    func brokenFilesSayWhatIsWrong(text: String, message: String) {
        #expect {
            _ = try UpdateState.decode(Array(text.utf8))
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test(arguments: [
        ("2026-05-14T19:08:30Z", "2026-05-14T19:08:30Z"),
        ("2026-05-14T19:08:30.5Z", "2026-05-14T19:08:30.5Z"),
        ("2026-05-14T19:08:30.123456789123Z", "2026-05-14T19:08:30.123456789Z"),
        ("2026-05-14t19:08:30+02:00", "2026-05-14T17:08:30Z"),
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
        ("2024-02-29T23:59:59Z", "2024-02-29T23:59:59Z"),
    ])
    func timestampsRoundTrip(text: String, written: String) throws {
        let time = try #require(Timestamp.parse(text))
        #expect(time.description == written)
        #expect(Timestamp.parse(written) == time)
    }

    @Test(arguments: ["2026-05-14", "2026-13-01T00:00:00Z", "2026-05-14T19:08:30", "2026-05-14T19:08:30.Z", "x"])
    func badTimestampsAreRejected(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }
}
