import YAMLTree

/// A server or registry without a public key: releases are not authenticated.
enum Unauthenticated: PolicyRule {
    static let rule = Rule(
        "UPD406", "unauthenticated-updates", .warning,
        summary: "No `public_key`: updates are not verified as signed (a warning over `http` or `file`, info over `https`).",
        rationale: "Over `http` or `file` anyone who can change the bytes can install an OS on the node; over "
            + "`https` the server is authenticated but the release is not (reported as info).",
        fix: "Set `public_key: ed25519:<base64>` and sign `latest.json` (with `registry`: sign the release with cosign).",
        example: "updates:\n  server: http://updates.example.com")

    static func check(_ checks: inout CrossChecks) {
        let policy = checks.policy
        // A `public_key` that did not decode is reported as such: the policy means to verify.
        guard policy.publicKey == nil, !policy.publicKeyInvalid else { return }
        let source: (mark: Mark, https: Bool, scheme: String, help: String)
        if let server = policy.server, let mark = server.origin.mark {
            source = (mark, server.value.scheme == "https", server.value.scheme, "sign latest.json")
        } else if let registry = policy.registry, let mark = registry.origin.mark {
            source = (
                mark, !registry.value.plainHTTP, registry.value.plainHTTP ? "http" : "https",
                "sign the release with cosign (docs/upstream.md)"
            )
        } else {
            return
        }
        if source.https {
            checks.findings.append(
                Finding(
                    .unauthenticated,
                    "no public_key: the \(policy.registry == nil ? "server" : "registry") is authenticated by TLS, but the "
                        + "release itself is not signed-checked",
                    start: source.mark, end: checks.end(of: source.mark),
                    help: "set `public_key: ed25519:<base64>` and \(source.help)", severity: .info))
        } else {
            checks.findings.append(
                Finding(
                    .unauthenticated,
                    "updates come over `\(source.scheme)` without a public_key: anyone who can change those bytes can install "
                        + "an OS on the node",
                    start: source.mark, end: checks.end(of: source.mark),
                    help: "set `public_key: ed25519:<base64>` and \(source.help)"))
        }
    }
}

extension RuleID {
    public static let unauthenticated = Unauthenticated.rule.id
}
