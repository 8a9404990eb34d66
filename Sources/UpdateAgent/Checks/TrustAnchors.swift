public import UpdatePlan
public import UpdatePolicy

/// The files a node command takes on trust: the policy, update.conf beneath it, and the public
/// key file. Whoever can change one of them chooses what updatectl installs or runs as root, so
/// each is judged as sshd's StrictModes judges its own files (`TrustedPath`: the file, every
/// directory above it and every link on the way belong to root or to the user running
/// updatectl, and none is writable by group or others), and the key is read through the
/// descriptor that walk checked.
public enum TrustAnchors {
    /// Why the file at `path` may not be trusted, or nil when it may. A walk that fails for
    /// another reason (a missing file, not a regular file) is nil too: whatever reads the file
    /// reports that, with its own message.
    public static func problem(_ path: String) -> TrustedPath.Problem? {
        guard let problem = TrustedPath.problem(path, as: .regularFile), problem.untrusted else { return nil }
        return problem
    }

    /// What StrictModes says of the policy file at `path` ("the policy /etc/u/policy.yaml:
    /// /etc/u is writable by group or others (mode 0777); chmod go-w it (…)"), or nil.
    public static func policyProblem(_ path: String) -> String? {
        guard path != "-", let problem = problem(path) else { return nil }
        return describe("the policy", path, problem) + " (whoever can change it decides what updatectl runs as root)"
    }

    /// What StrictModes says of the public key file at `path`, or nil.
    public static func keyProblem(_ path: String) -> String? {
        problem(path).map { describe("the public key file", path, $0) + " (whoever can change it chooses the releases this node installs)" }
    }

    /// What StrictModes says of the policy's `ca_file` at `path`, or nil.
    public static func caProblem(_ path: String) -> String? {
        problem(path).map {
            describe("the certificate authorities of `ca_file`", path, $0)
                + " (whoever can change it can stand in for the update server)"
        }
    }

    /// What StrictModes says about the files of a node command: the policy files (the YAML
    /// policy, update.conf), the public key files and the `ca_file`.
    public static func problems(policyFiles: [String], keyFiles: [String], caFile: String? = nil) -> [String] {
        policyFiles.compactMap(policyProblem) + keyFiles.compactMap(keyProblem) + (caFile.flatMap(caProblem).map { [$0] } ?? [])
    }

    /// Names the component the problem is about when it is not the file itself.
    private static func describe(_ what: String, _ path: String, _ problem: TrustedPath.Problem) -> String {
        problem.path == path ? "\(what) \(problem)" : "\(what) \(path): \(problem)"
    }

    /// The key in the file at `path`, read through the descriptor the StrictModes walk checked,
    /// so the bytes are the checked file's even when the path changes after the check; nil when
    /// the file is not trusted, cannot be read or holds no key the signature rules accept (the
    /// signature step then reads it by its path and says why).
    public static func key(file path: String) -> [UInt8]? {
        guard let opened = try? TrustedPath.open(path, as: .regularFile) else { return nil }
        defer { opened.close() }
        guard let bytes = opened.read(maxBytes: 64 << 10), let key = Signature.parseKeyText(String(decoding: bytes, as: UTF8.self))
        else { return nil }
        return try? Signature.key(.ed25519(key))
    }

    /// The plan with its signature steps holding the keys read once from the checked key files
    /// (`key(file:)`) instead of the files' paths, which each step would read again. The plan's
    /// parameters still name the files. Inline keys, and key files that cannot be read that way,
    /// stay as they are.
    public static func pinningKey(_ plan: Plan) -> Plan {
        guard let spec = plan.publicKey?.value else { return plan }
        let pinnedSpec = pin(spec)
        guard pinnedSpec != spec else { return plan }
        var pinned = plan
        for index in pinned.steps.indices {
            switch pinned.steps[index].operation {
            case .verifySignature(spec): pinned.steps[index].operation = .verifySignature(pinnedSpec)
            case .verifyCosign(spec): pinned.steps[index].operation = .verifyCosign(pinnedSpec)
            case .verifyFileSignatures(spec): pinned.steps[index].operation = .verifyFileSignatures(pinnedSpec)
            default: break
            }
        }
        return pinned
    }

    /// `spec` with each key file replaced by the key read through its checked descriptor.
    static func pin(_ spec: PublicKeySpec) -> PublicKeySpec {
        switch spec {
        case .ed25519: spec
        case .file(let path): key(file: path).map { .ed25519($0) } ?? spec
        case .any(let keys): .any(keys.map(pin))
        }
    }
}
