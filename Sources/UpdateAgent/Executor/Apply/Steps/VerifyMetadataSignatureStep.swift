import UpdatePlan
import UpdatePolicy

/// `check.signature`: the metadata's own signature over its exact bytes, before anything in it
/// is read. Where the signature is does not come from the metadata (which could drop it): it is
/// `latest.json.sig` beside it, and where `metadata_sig_url` points only when the policy says so.
/// Unsigned metadata is refused unless the policy accepts it (`require_signed_metadata: false`)
/// and every file is signed. Signed metadata older than the newest accepted before (kept in the
/// sidecar) is refused as a replay, and with `max_metadata_age` metadata too old to be current.
struct VerifyMetadataSignatureStep: ApplyStepHandler {
    var key: PublicKeySpec

    func perform(_ step: Step, _ context: inout ApplyContext) throws -> ApplyOutcome? {
        let fetched = try context.fetched(for: step)
        let keys = try context.keys(self.key)
        let trust = context.run.policy.trust
        let signedBy = try verifySignature(fetched.bytes, keys: keys, trust: trust, &context)
        var offered = try context.parseMetadata(fetched.bytes)
        offered.authenticated = signedBy != nil
        if signedBy == nil {
            let unsigned = offered.files.filter { $0.signatureURL == nil }.map(\.name)
            guard unsigned.isEmpty else {
                throw RunFailure(
                    .signature,
                    "the release signs neither its metadata nor " + unsigned.joined(separator: " and ")
                        + " (no *_sig_url): with a public key configured, an unauthenticated release is refused")
            }
            context.env.reporter.note(
                "latest.json is not signed (require_signed_metadata: false): its version, channel and other fields are not "
                    + "authenticated; each file's signature is checked after the download")
        }
        let now = context.env.clock.now()
        if let expires = offered.expires, expires < now {
            throw RunFailure(.metadata, "the metadata expired at \(expires) (now \(now))")
        }
        let freshness = MetadataFreshness(metadata: offered, now: now)
        let age = try freshness.age(maxAge: trust.maxMetadataAge.value)
        let newest = try context.env.store.readSidecar().newestMetadata
        if let older = freshness.older(
            than: newest, running: context.running, allowOlder: trust.allowOlderMetadata.value, force: context.run.force,
            note: context.env.reporter.note)
        {
            return try context.deferOffer(step, older)
        }
        if signedBy != nil, !context.run.dryRun, let lock = context.lock, newest.flatMap(freshness.olderThan) == nil {
            // The newest accepted, never lowered (an older one let pass by --force, the policy or
            // the running version stays below it): later metadata may not be older than this.
            let newest = Sidecar.NewestMetadata(
                version: offered.version, releaseDate: offered.releaseDate, at: now, sha256: SHA256Stream.hex(fetched.bytes))
            try context.env.store.updateSidecar(holding: lock) { $0.newestMetadata = newest }
        }
        try context.learnSizes(&offered)
        context.release = .offered(OfferedRelease(metadata: offered))
        context.report(
            step, .pass,
            (signedBy.map { "signature verifies (\($0))" } ?? "metadata unsigned, every file signed")
                + "; offered \(context.describe(offered))" + (age.map { "; \($0)" } ?? "")
                + (offered.expires.map { "; valid until \($0)" } ?? ""))
        return nil
    }

    /// Verifies the metadata's signature: where it was found, or nil when it is unsigned and the
    /// policy accepts that.
    private func verifySignature(
        _ bytes: [UInt8], keys: [[UInt8]], trust: MetadataTrust, _ context: inout ApplyContext
    ) throws(RunFailure) -> String? {
        let metadataURL = context.plan.metadataURL
        let beside = metadataURL + ".sig"
        // Read before the signature verifies only to know where else to look, and only when asked.
        let named = ReleaseMetadata.namedMetadataSignature(bytes, metadataURL: metadataURL)
        var places = [beside]
        if trust.followMetadataSigURL.value, let named, named != beside { places.append(named) }
        for url in places {
            guard let signature = try context.fetchUnlessMissing(url, limit: 4096, what: "signature") else { continue }
            do {
                try Signature.verify(message: bytes, signatureFile: signature, keys: keys, what: "latest.json")
            } catch {
                throw RunFailure(.signature, "\(error)")
            }
            return url.hasPrefix(metadataURL) ? "latest.json.sig" : url
        }
        guard trust.requireSignedMetadata.value else { return nil }
        var message =
            "the metadata is not signed: no signature at " + places.joined(separator: " or ")
            + " (HTTP 404), and with a public key configured signed metadata is required"
        if let named, named != beside, !trust.followMetadataSigURL.value {
            message += "; it names metadata_sig_url \(named), which is looked at only with `follow_metadata_sig_url: true`"
        }
        throw RunFailure(.signature, message + " (`require_signed_metadata: false` accepts unsigned metadata whose files are all signed)")
    }
}

/// Whether offered metadata is current: not older than `max_metadata_age` by its signed
/// `release_date`, and not older than the newest signed metadata accepted before (a lower
/// version, or the same version with an earlier `release_date`).
struct MetadataFreshness {
    let metadata: ReleaseMetadata
    let now: Timestamp

    /// How old the metadata is ("released 3d 4h ago"), when it has a `release_date`; throws when
    /// `maxAge` (not zero) refuses it.
    func age(maxAge: Duration) throws(RunFailure) -> String? {
        let released = metadata.releaseTime
        let age = released.map { max(.zero, now - $0) }
        if maxAge > .zero {
            guard let released, let age else {
                throw RunFailure(
                    .metadata,
                    "the metadata has no release_date updatectl can read (an RFC 3339 time or a date), so its age is unknown; "
                        + "`max_metadata_age` (\(DurationText.format(maxAge))) needs one")
            }
            if age > maxAge {
                throw RunFailure(
                    .metadata,
                    "the metadata is \(Self.format(age)) old (release_date \(released.wholeSeconds)), older than "
                        + "`max_metadata_age` (\(DurationText.format(maxAge))): the server or a mirror may serve a frozen copy, "
                        + "or the publisher has not signed it again since")
            }
        }
        // A release_date ahead of this node's clock says something of one of the two clocks.
        if let released, released - now >= .seconds(60) {
            return "release_date \(released.wholeSeconds) is \(Self.format(released - now)) ahead of this node's clock"
        }
        return age.map { $0 < .seconds(60) ? "released less than a minute ago" : "released \(Self.format($0)) ago" }
    }

    /// Why the metadata is not taken, when it is older than `newest` (the newest signed metadata
    /// accepted before) and neither the policy, `--force` nor the running version lets it pass;
    /// nil when it is taken (an older one let pass is noted).
    func older(
        than newest: Sidecar.NewestMetadata?, running: String, allowOlder: Bool, force: Bool, note: (String) -> Void
    ) -> String? {
        guard let newest, metadata.version != running, let older = olderThan(newest) else { return nil }
        let what =
            "the metadata offers \(metadata.version)\(older), older than the newest signed metadata accepted "
            + "(\(newest.version)" + (newest.releaseDate.map { ", release_date \($0)" } ?? "")
            + ", at \(newest.at.wholeSeconds))"
        if allowOlder || force {
            note("\(what): accepted (" + (allowOlder ? "allow_older_metadata: true" : "--force") + ")")
            return nil
        }
        return "\(what): a replayed document, or one the publisher stepped back; waiting for a newer one (`apply --force` "
            + "accepts it once, `allow_older_metadata: true` always)"
    }

    /// "" (a lower version) or " released …" (the same version, an earlier `release_date`) when
    /// the metadata is older than `newest`; nil when it is not.
    func olderThan(_ newest: Sidecar.NewestMetadata) -> String? {
        guard let offered = SemanticVersion(metadata.version), let before = SemanticVersion(newest.version) else {
            return nil
        }
        if offered < before { return "" }
        guard offered == before, let date = metadata.releaseTime,
            let earlier = newest.releaseDate.flatMap(ReleaseMetadata.time(ofReleaseDate:)), date < earlier
        else { return nil }
        return " released \(metadata.releaseDate ?? "")"
    }

    /// "3d 4h", "5h", "12m".
    static func format(_ age: Duration) -> String {
        let seconds = age.components.seconds
        let days = seconds / 86_400, hours = seconds % 86_400 / 3600
        if days > 0 { return hours > 0 ? "\(days)d \(hours)h" : "\(days)d" }
        if hours > 0 { return "\(hours)h" }
        return "\(seconds / 60)m"
    }
}
