public import UpdatePolicy
import YAMLTree

#if canImport(Glibc)
import Glibc
#endif

/// What `updatectl lint --on-host` adds: checks of the machine it runs on, which lint in CI, far
/// from the node, does not make.
public enum HostChecks {
    public static func findings(for policy: Policy, policyPath: String?) -> [Finding] {
        var out: [Finding] = []
        func program(_ command: Located<[String]>, _ what: String) {
            guard let program = command.value.first, !program.hasPrefix("${"), let mark = command.origin.mark else { return }
            if let problem = ExecutableCheck.problem(program) {
                out.append(
                    Finding(
                        .hostProgram, "\(what): \(problem)", start: mark,
                        help: "install it, or make it root-owned and not writable by group or others"))
            }
        }
        for gate in policy.preflight {
            for command in gate.kind.commands { program(command, "gate `\(gate.name.value)`") }
            for file in gate.kind.files {
                guard let mark = file.origin.mark, access(file.value, R_OK) != 0 else { continue }
                out.append(
                    Finding(
                        .hostFile, "gate `\(gate.name.value)`: \(SystemError("cannot read", file.value))",
                        start: mark, help: "install the file, or correct the path"))
            }
        }
        for probe in policy.healthcheck.probes {
            for command in probe.kind.commands { program(command, "probe `\(probe.name.value)`") }
        }
        if case .command(let backend) = policy.backend {
            for (operation, command) in backend.commands.sorted(by: { $0.key < $1.key }) {
                program(command, "the backend's `\(operation)`")
            }
        }
        for point in HookPoint.allCases {
            for command in policy.hooks[point] { program(command, "hook `\(point.rawValue)`") }
        }
        switch policy.backend {
        case .kubesolo(let backend):
            out += kubeSolo(backend, policy: policy)
        case .directory(let root, _):
            out.append(
                Finding(
                    .hostBackend,
                    "the directory backend changes no real system: it moves marker files under \(root.value), so `apply` "
                        + "on this host would report updates the OS never gets",
                    start: policy.backendType.origin.mark ?? policy.start,
                    help: "on a KubeSolo OS node write `backend: {type: kubesolo}` (the default), else `type: command`"))
        case .command:
            break
        }
        // The trust anchors (key files, the CA bundle) others could change: at the key naming them.
        var anchors: [(problem: String, mark: Mark)] = []
        if let key = policy.publicKey, let mark = key.origin.mark {
            anchors += key.value.files.compactMap(TrustAnchors.keyProblem).map { ($0, mark) }
        }
        if let caFile = policy.caFile, let mark = caFile.origin.mark, let problem = TrustAnchors.caProblem(caFile.value) {
            anchors.append((problem, mark))
        }
        for anchor in anchors {
            out.append(
                Finding(
                    .hostKeyTrust, anchor.problem, start: anchor.mark,
                    help: "make the file and every directory above it root's and not writable by group or others; "
                        + "`apply --strict` refuses it as it is"))
        }
        if let key = policy.publicKey, !key.value.files.isEmpty, let mark = key.origin.mark {
            do {
                _ = try Signature.keys(key.value)
            } catch {
                out.append(
                    Finding(
                        .hostFile, "\(error)", start: mark,
                        help: "install the release key at " + key.value.files.joined(separator: " and ")))
            }
        }
        if let caFile = policy.caFile, let mark = caFile.origin.mark {
            if access(caFile.value, R_OK) != 0 {
                out.append(
                    Finding(
                        .hostFile, "the certificate authorities of `ca_file` \(caFile.value) cannot be read here", start: mark,
                        help: "install the PEM bundle of the update server's certificate authority at \(caFile.value)"))
            }
        }
        if LiveSystem().kubectl() == nil {
            let gates = policy.preflight.filter { type(of: $0.kind).usesKubernetes }.map { ("gate `\($0.name.value)`", $0.source) }
            let probes = policy.healthcheck.probes.filter { type(of: $0.kind).usesKubernetes }
                .map { ("probe `\($0.name.value)`", $0.source) }
            for (what, source) in gates + probes {
                out.append(
                    Finding(
                        .hostKubernetes, "kubectl is not installed (not on PATH): \(what) cannot ask the cluster",
                        start: source.mark ?? policy.start, help: "install kubectl, or turn the check off on nodes without Kubernetes"))
            }
        }
        if let policyPath, policyPath != "-" {
            if let writable = TrustedPath.writableByOthers(path: policyPath) {
                out.append(
                    Finding(
                        .hostPermissions, "the policy file is \(writable): whoever can change it decides what updatectl runs as root",
                        start: .start, help: "chmod go-w \(policyPath)"))
            } else if let problem = TrustAnchors.policyProblem(policyPath) {
                out.append(
                    Finding(
                        .hostPolicyTrust, problem, start: .start,
                        help: "keep the policy in a directory of root's that group and others cannot write; "
                            + "`apply --strict` refuses it as it is"))
            }
        }
        return out
    }

    /// The node's boot layout as the kubesolo backend will find it: the programs it runs, GRUB's
    /// environment block, and two distinct slot partitions by label, none of them the data partition.
    static func kubeSolo(_ backend: KubeSoloBackend, policy: Policy) -> [Finding] {
        let found = kubeSoloLayout(backend, policy: policy)
        // A policy that names no backend gets this one: say so where the findings point.
        guard policy.backendType.origin.isDefault else { return found }
        return found.map { finding in
            var finding = finding
            finding.help =
                (finding.help.map { $0 + "; " } ?? "")
                + "the policy names no `backend:`, so it is kubesolo (write `backend: {type: command}` for another boot scheme)"
            return finding
        }
    }

    static func kubeSoloLayout(_ backend: KubeSoloBackend, policy: Policy) -> [Finding] {
        var out: [Finding] = []
        let node = KubeSoloBackendRunner(config: backend, dataDir: "/", runner: ProcessRunner())
        let at = backend.labelA.origin.mark ?? policy.start
        for program in ["blkid", "mount", "umount"] where KubeSoloBackendRunner.program(program) == nil {
            out.append(
                Finding(
                    .hostProgram, "the kubesolo backend needs \(program), which is not installed here", start: at,
                    help: "install util-linux and mount"))
        }
        do {
            let environment = try node.readEnvironment()
            if let active = environment["active_slot"], KubeSoloBackendRunner.slot(grubName: active) == nil {
                out.append(
                    Finding(
                        .hostFile, "GRUB's environment \(backend.grubenv.value) says active_slot=\(active), neither A nor B",
                        start: backend.grubenv.origin.mark ?? at, help: "grub-editenv \(backend.grubenv.value) set active_slot=A"))
            }
        } catch {
            out.append(
                Finding(
                    .hostFile, "\(error)", start: backend.grubenv.origin.mark ?? at,
                    help: "set `grubenv` to the node's GRUB environment block (often /boot/grub/grubenv)"))
        }
        var found = 0
        for slot in [Slot.a, .b] {
            let label = slot == .a ? backend.labelA : backend.labelB
            do {
                _ = try node.device(label: label.value)
                found += 1
            } catch {
                out.append(
                    Finding(
                        .hostFile, "slot \(KubeSoloBackendRunner.grubName(slot)): \(error)", start: label.origin.mark ?? at,
                        help: "`blkid -o list` shows this node's labels; set `label_a`/`label_b` to the slot partitions'"))
            }
        }
        if found == 2 {
            do {
                _ = try node.device(.a)
                _ = try node.device(.b)
            } catch {
                out.append(Finding(.hostFile, "\(error)", start: at, help: "each slot needs a partition of its own"))
            }
        }
        return out
    }

    /// StrictModes for the commands that act on the node: warnings about a policy file or a
    /// public key file others could change (`TrustAnchors`) and a state directory the running
    /// user does not own.
    public static func strictModes(policyFiles: [String], keyFiles: [String], caFile: String?, stateDirectory: String) -> [String] {
        var out = TrustAnchors.problems(policyFiles: policyFiles, keyFiles: keyFiles, caFile: caFile)
        var info = stat()
        if stat(stateDirectory, &info) == 0, info.st_uid != getuid() {
            out.append(
                "the state directory \(stateDirectory) belongs to uid \(info.st_uid), not to the user running updatectl "
                    + "(\(getuid()))")
        }
        return out
    }
}
