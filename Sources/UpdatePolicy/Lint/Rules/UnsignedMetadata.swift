import YAMLTree

/// `require_signed_metadata: false` with a public key: the metadata's fields are not authenticated.
enum UnsignedMetadata: PolicyRule {
    static let rule = Rule(
        "UPD416", "unsigned-metadata-accepted", .warning,
        summary: "`require_signed_metadata: false`: unsigned metadata is accepted when every file is signed.",
        rationale: "File signatures cover the files' bytes, not the version, channel, architecture or "
            + "min_compatible_version the metadata states: unsigned metadata that names genuine older files as a "
            + "higher version rolls a node back past `no_downgrade`, mixes files of two releases, and can freeze it "
            + "on a version that never comes.",
        fix: "Sign `latest.json` (`latest.json.sig` beside it) and drop `require_signed_metadata: false`.",
        example: "updates:\n  server: https://updates.example.com\n  public_key: /etc/updatectl/release.pub\n"
            + "  require_signed_metadata: false", fixes: .unsafe)

    static func check(_ checks: inout CrossChecks) {
        let policy = checks.policy, require = policy.trust.requireSignedMetadata
        guard policy.publicKey != nil, policy.registry == nil, !require.value, let mark = require.origin.mark else { return }
        checks.findings.append(
            Finding(
                .unsignedMetadata,
                "require_signed_metadata is false: unsigned metadata is accepted when its files are signed, so its version, "
                    + "channel and other fields are not authenticated (a node can be rolled back or frozen by them)",
                start: mark, end: checks.end(of: mark), help: "sign latest.json (latest.json.sig beside it) and remove this key",
                // Unsigned metadata is refused once the key is gone: nodes stop updating until latest.json is signed.
                fixes: checks.removal(ofPairAt: mark, "remove `require_signed_metadata: false`", .unsafe)))
    }
}

extension RuleID {
    public static let unsignedMetadata = UnsignedMetadata.rule.id
}
