#if canImport(Glibc)
import Glibc
#endif
public import UpdatePolicy
public import YAMLTree

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
            if case .exec(let command) = gate.kind { program(command, "gate `\(gate.name.value)`") }
        }
        for probe in policy.healthcheck.probes {
            if case .exec(let command) = probe.kind { program(command, "probe `\(probe.name.value)`") }
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
            let gates = policy.preflight.compactMap { gate -> (String, EntrySource)? in
                if case .nodeNotBlocked = gate.kind { ("gate `\(gate.name.value)`", gate.source) } else { nil }
            }
            let probes = policy.healthcheck.probes.compactMap { probe -> (String, EntrySource)? in
                if case .kubeSystemReady = probe.kind { ("probe `\(probe.name.value)`", probe.source) } else { nil }
            }
            for (what, source) in gates + probes {
                out.append(Finding(.hostKubernetes, "kubectl is not installed (not on PATH): \(what) cannot ask the cluster",
                                   start: source.mark ?? policy.start, help: "install kubectl, or turn the check off on nodes without Kubernetes"))
            }
        }
        if let policyPath, policyPath != "-" {
            var info = stat()
            if stat(policyPath, &info) == 0, info.st_mode & 0o022 != 0 {
                out.append(Finding(
                    .hostPermissions,
                    "the policy file is writable by group or others (mode 0\(String(info.st_mode & 0o7777, radix: 8))): "
                        + "whoever can change it decides what updatectl runs as root",
                    start: .start, help: "chmod go-w \(policyPath)"))
            }
        }
        return out
    }

    /// StrictModes for the commands that act on the node: warnings about a policy file others
    /// can write and a state directory the running user does not own.
    public static func strictModes(policyPath: String, stateDirectory: String) -> [String] {
        var out: [String] = []
        var info = stat()
        if policyPath != "-", stat(policyPath, &info) == 0, info.st_mode & 0o022 != 0 {
            out.append("the policy \(policyPath) is writable by group or others (mode 0\(String(info.st_mode & 0o7777, radix: 8))); "
                + "chmod go-w it")
        }
        if stat(stateDirectory, &info) == 0, info.st_uid != getuid() {
            out.append("the state directory \(stateDirectory) belongs to uid \(info.st_uid), not to the user running updatectl "
                + "(\(getuid()))")
        }
        return out
    }
}
