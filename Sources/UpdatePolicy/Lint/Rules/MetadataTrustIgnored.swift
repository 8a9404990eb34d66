import YAMLTree

/// Keys about signed metadata in a policy that verifies no metadata: they are ignored.
enum MetadataTrustIgnored: PolicyRule {
    static let rule = Rule(
        "UPD417", "metadata-trust-ignored", .warning,
        summary: "`require_signed_metadata`, `follow_metadata_sig_url`, `max_metadata_age` or `allow_older_metadata` "
            + "without a `public_key`, or with `registry`: the key is ignored.",
        rationale: "These keys judge signed `latest.json`; without a key nothing is signed-checked, and a registry "
            + "release is judged by its cosign signature. Whoever reads the policy may believe that, say, freshness "
            + "is checked.",
        fix: "Add `public_key` (and sign latest.json), or remove the key.",
        example: "updates:\n  server: https://updates.example.com\n  max_metadata_age: 72h", fixes: .safe)

    static func check(_ checks: inout CrossChecks) {
        let policy = checks.policy, trust = policy.trust
        let reason: String
        if policy.registry != nil {
            reason = "a registry release is judged by its cosign signature, not by latest.json"
        } else if policy.publicKey == nil, !policy.publicKeyInvalid {
            reason = "without a public_key no metadata is signed-checked"
        } else {
            return
        }
        let written: [(String, Origin)] = [
            ("require_signed_metadata", trust.requireSignedMetadata.origin), ("follow_metadata_sig_url", trust.followMetadataSigURL.origin),
            ("max_metadata_age", trust.maxMetadataAge.origin), ("allow_older_metadata", trust.allowOlderMetadata.origin),
        ]
        for (key, origin) in written {
            guard let mark = origin.mark else { continue }
            checks.findings.append(
                Finding(
                    .metadataTrustIgnored, "`\(key)` is ignored: \(reason)", start: mark, end: checks.end(of: mark),
                    help: policy.registry == nil ? "add `public_key` and sign latest.json, or remove `\(key)`" : "remove `\(key)`",
                    // With a registry the key can never take effect; without a key, signing may be what was meant.
                    fixes: policy.registry == nil ? [] : checks.removal(ofPairAt: mark, "remove `\(key)`", .safe)))
        }
    }
}

extension RuleID {
    public static let metadataTrustIgnored = MetadataTrustIgnored.rule.id
}
