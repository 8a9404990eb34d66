/// A server without a public key: releases are not authenticated.
enum Unauthenticated: PolicyRule {
    static let rule = Rule(
        "UPD406", "unauthenticated-updates", .warning,
        summary: "No `public_key`: updates are not verified as signed.",
        rationale: "Over `http` or `file` anyone who can change the bytes can install an OS on the node; over "
            + "`https` the server is authenticated but the release is not (reported as info).",
        fix: "Set `public_key: ed25519:<base64>` and sign `latest.json`.",
        example: "updates:\n  server: http://updates.example.com")

    static func check(_ checks: inout CrossChecks) {
        let policy = checks.policy
        guard let server = policy.server, policy.publicKey == nil, let mark = server.origin.mark else { return }
        let scheme = server.value.scheme
        if scheme == "https" {
            checks.findings.append(
                Finding(
                    .unauthenticated,
                    "no public_key: the server is authenticated by TLS, but the release itself is not signed-checked",
                    start: mark, end: checks.end(of: mark), help: "set `public_key: ed25519:<base64>` and sign latest.json",
                    severity: .info))
        } else {
            checks.findings.append(
                Finding(
                    .unauthenticated,
                    "updates come over `\(scheme)` without a public_key: anyone who can change those bytes can install "
                        + "an OS on the node",
                    start: mark, end: checks.end(of: mark), help: "set `public_key: ed25519:<base64>` and sign latest.json"))
        }
    }
}

extension RuleID {
    public static let unauthenticated = Unauthenticated.rule.id
}
