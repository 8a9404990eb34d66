#if canImport(Glibc)
import Glibc
#endif
public import UpdatePolicy
import YAMLTree

/// What `updatectl lint --on-host` adds: checks of the machine it runs on, which lint in CI, far
/// from the node, does not make.
public enum HostChecks {
    public static func findings(for policy: Policy, policyPath: String?) -> [Finding] {
        var out: [Finding] = []
        func program(_ command: Located<[String]>, _ what: String) {
            guard let program = command.value.first, !program.hasPrefix("${"), let mark = command.origin.mark else { return }
            if let problem = ExecutableCheck.problem(program) {
                out.append(Finding(.hostProgram, "\(what): \(problem)", start: mark,
                                   help: "install it, or make it root-owned and not writable by group or others"))
            }
        }
        for gate in policy.preflight {
            for command in gate.kind.commands { program(command, "gate `\(gate.name.value)`") }
        }
        for probe in policy.healthcheck.probes {
            for command in probe.kind.commands { program(command, "probe `\(probe.name.value)`") }
        }
        if case .command(let backend) = policy.backend {
            for (operation, command) in backend.commands.sorted(by: { $0.key < $1.key }) {
                program(command, "the backend's `\(operation)`")
            }
        }
        if let key = policy.publicKey, case .file(let path) = key.value, let mark = key.origin.mark {
            do {
                _ = try Signature.key(key.value)
            } catch {
                out.append(Finding(.hostFile, "\(error)", start: mark, help: "install the release key at \(path)"))
            }
        }
        if LiveSystem().kubectl() == nil {
            let gates = policy.preflight.filter { type(of: $0.kind).usesKubernetes }.map { ("gate `\($0.name.value)`", $0.source) }
            let probes = policy.healthcheck.probes.filter { type(of: $0.kind).usesKubernetes }
                .map { ("probe `\($0.name.value)`", $0.source) }
            for (what, source) in gates + probes {
                out.append(Finding(.hostKubernetes, "kubectl is not installed (not on PATH): \(what) cannot ask the cluster",
                                   start: source.mark ?? policy.start, help: "install kubectl, or turn the check off on nodes without Kubernetes"))
            }
        }
        if let policyPath, policyPath != "-", let writable = TrustedPath.writableByOthers(path: policyPath) {
            out.append(Finding(
                .hostPermissions, "the policy file is \(writable): whoever can change it decides what updatectl runs as root",
                start: .start, help: "chmod go-w \(policyPath)"))
        }
        return out
    }

    /// StrictModes for the commands that act on the node: warnings about a policy file others
    /// can write and a state directory the running user does not own.
    public static func strictModes(policyPath: String, stateDirectory: String) -> [String] {
        var out: [String] = []
        if policyPath != "-", let writable = TrustedPath.writableByOthers(path: policyPath) {
            out.append("the policy \(policyPath) is \(writable); chmod go-w it")
        }
        var info = stat()
        if stat(stateDirectory, &info) == 0, info.st_uid != getuid() {
            out.append("the state directory \(stateDirectory) belongs to uid \(info.st_uid), not to the user running updatectl "
                + "(\(getuid()))")
        }
        return out
    }
}
