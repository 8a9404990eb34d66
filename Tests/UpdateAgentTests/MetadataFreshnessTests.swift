import Testing

@testable import UpdateAgent

/// `MetadataFreshness`: what makes signed metadata older than the newest accepted, and too old
/// for `max_metadata_age`.
@Suite struct MetadataFreshnessTests {
    static let now = Timestamp.parse("2026-12-06T12:00:00Z")!
    static let newest = Sidecar.NewestMetadata(
        version: "1.2.0", releaseDate: "2026-12-01", at: Timestamp.parse("2026-12-02T00:00:00Z")!, sha256: "")

    func check(
        _ version: String, released: String?, maxAge: Duration = .zero, running: String = "1.0.0", allowOlder: Bool = false,
        force: Bool = false
    ) -> Result<String?, RunFailure> {
        let metadata = ReleaseMetadata(version: version, format: .image, files: [], releaseDate: released)
        let freshness = MetadataFreshness(metadata: metadata, now: Self.now)
        return Result { () throws(RunFailure) in
            let age = try freshness.age(maxAge: maxAge)
            if let older = freshness.older(than: Self.newest, running: running, allowOlder: allowOlder, force: force, note: { _ in }) {
                throw RunFailure(.metadata, older)
            }
            return age
        }
    }

    func refusal(_ outcome: Result<String?, RunFailure>) -> String? {
        if case .failure(let failure) = outcome { return failure.message }
        return nil
    }

    @Test func aLowerVersionOrTheSameOneReleasedEarlierIsOlder() {
        #expect(refusal(check("1.1.0", released: "2026-12-05"))?.contains("offers 1.1.0, older than") == true)
        #expect(refusal(check("1.2.0", released: "2026-11-30T23:00:00Z"))?.contains("offers 1.2.0 released 2026-11-30T23:00:00Z") == true)
        #expect(refusal(check("1.2.0", released: "2026-12-01")) == nil, "the same document again is no replay")
        #expect(refusal(check("1.2.0", released: nil)) == nil)
        #expect(refusal(check("1.3.0", released: "2026-11-01")) == nil, "a higher version is newer whatever its date")
    }

    @Test func theRunningVersionForceAndThePolicyLetAnOlderOnePass() {
        #expect(refusal(check("1.1.0", released: nil, running: "1.1.0")) == nil, "up to date, not a replay")
        #expect(refusal(check("1.1.0", released: nil, force: true)) == nil)
        #expect(refusal(check("1.1.0", released: nil, allowOlder: true)) == nil)
    }

    @Test func maxMetadataAgeJudgesTheSignedReleaseDate() throws {
        #expect(try check("1.3.0", released: "2026-12-05T12:00:00Z", maxAge: .seconds(86_400 * 2)).get() == "released 1d ago")
        #expect(refusal(check("1.3.0", released: "2026-12-03T11:00:00Z", maxAge: .seconds(86_400 * 3)))?.contains("3d 1h old") == true)
        #expect(refusal(check("1.3.0", released: nil, maxAge: .seconds(60)))?.contains("has no release_date") == true)
        #expect(refusal(check("1.3.0", released: "yesterday", maxAge: .seconds(60)))?.contains("has no release_date") == true)
        #expect(try check("1.3.0", released: "2026-12-06T11:30:00Z").get() == "released 30m ago")
    }
}

extension MetadataFreshnessTests {
    /// The age line says how long ago a release was signed, and says so plainly when its
    /// release_date is ahead of the node's clock rather than calling it brand new.
    @Test func theAgeLineSaysWhenTheReleaseDateIsAhead() throws {
        #expect(try check("1.3.0", released: "2026-12-06T11:59:30Z").get() == "released less than a minute ago")
        #expect(try check("1.3.0", released: "2026-12-03T09:00:00Z").get() == "released 3d 3h ago")
        #expect(
            try check("1.3.0", released: "2027-12-06T12:00:00Z").get()
                == "release_date 2027-12-06T12:00:00Z is 365d ahead of this node's clock")
    }
}
