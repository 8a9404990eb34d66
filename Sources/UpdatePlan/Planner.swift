public import UpdatePolicy

/// Compiles a policy into its plan: a pure function, linear in the number of gates and probes.
public enum Planner {
    public static func plan(_ policy: Policy) -> Plan {
        var steps: [Step] = []
        steps.reserveCapacity(policy.preflight.count + policy.healthcheck.probes.count + 16)
        let serverOrigin = policy.server?.origin ?? .defaulted

        func add(
            _ id: String, _ kind: StepKind, _ phase: Phase, _ part: Part, _ summary: String,
            with parameters: [Parameter] = [], origin: Origin = .defaulted, note: String? = nil, _ operation: Operation
        ) {
            steps.append(
                Step(
                    id: id, kind: kind, phase: phase, part: part, summary: summary, parameters: parameters,
                    origin: origin, originNote: note, operation: operation))
        }

        /// The hook commands of `point`, when the policy has any.
        func hookStep(_ point: HookPoint, _ phase: Phase, _ part: Part) {
            let commands = policy.hooks[point]
            guard let first = commands.first else { return }
            let timeout = policy.hooks.timeout
            add(
                "hook.\(point.rawValue)", .action, phase, part, hookSummary(point, count: commands.count),
                with: commands.enumerated().map { index, command in
                    Parameter(commands.count == 1 ? "command" : "command_\(index + 1)", .list(command.value), command.origin)
                }
                    + [Parameter("timeout", .duration(timeout.value), timeout.origin)],
                origin: first.origin, .hook(point, commands: commands.map(\.value), timeout: timeout.value))
        }

        let held = policy.preflight.filter { type(of: $0.kind).placement == .heldAcrossReboot }
        // Apply: a slot still held from before is given back when no update is in flight.
        for gate in held {
            add(
                "initialize.\(gate.name.value)", .action, .checking, .apply,
                "when no update is in flight (a crash, or a run that stopped, may have kept it): "
                    + (gate.kind.releaseSummary ?? "give back what the gate holds"),
                with: gateParameters(gate), origin: origin(gate.source), note: note(gate.source), .releaseHeld(gate, .initialization))
        }

        // Apply: checking.
        if let registry = policy.registry {
            add(
                "check.metadata", .action, .checking, .apply,
                "fetch the manifest of \(registry.value.named(policy.tag.value)) (an index: the manifest for this machine's "
                    + "architecture); the release's fields are its io.kubesolo.os.* annotations",
                with: [
                    Parameter("registry", .text(registry.value.description), registry.origin),
                    Parameter("tag", .text(policy.tag.value), policy.tag.origin),
                    Parameter("channel", .text(policy.channel.value), policy.channel.origin),
                ] + (policy.registryAuth.map { [Parameter("registry_auth", .text($0.value), $0.origin)] } ?? []),
                origin: registry.origin, .fetchManifest(registry.value, tag: policy.tag.value))
            if let key = policy.publicKey {
                add(
                    "check.signature", .decision, .checking, .apply,
                    "verify a cosign signature (the tag sha256-<digest>.sig) of the manifest with the public key; refuse a "
                        + "release without one",
                    with: [Parameter("public_key", .text(describe(key.value)), key.origin)], origin: key.origin,
                    .verifyCosign(key.value))
            }
        } else {
            let metadata =
                policy.server.map { metadataURL(server: $0.value, channel: policy.channel.value, layout: policy.layout.value) }
                ?? "(no server)"
            add(
                "check.metadata", .action, .checking, .apply, "fetch \(metadata)",
                with: [
                    Parameter("server", .text(policy.server?.value.text ?? "(none)"), serverOrigin),
                    Parameter("channel", .text(policy.channel.value), policy.channel.origin),
                    Parameter("layout", .text(policy.layout.value.rawValue), policy.layout.origin),
                ],
                origin: serverOrigin, .fetchMetadata(server: policy.server?.value, channel: policy.channel.value))
            if let key = policy.publicKey {
                let trust = policy.trust
                add(
                    "check.signature", .decision, .checking, .apply, signatureSummary(trust),
                    with: [
                        Parameter("public_key", .text(describe(key.value)), key.origin),
                        Parameter(
                            "require_signed_metadata", .boolean(trust.requireSignedMetadata.value), trust.requireSignedMetadata.origin),
                        Parameter("follow_metadata_sig_url", .boolean(trust.followMetadataSigURL.value), trust.followMetadataSigURL.origin),
                        Parameter("max_metadata_age", .duration(trust.maxMetadataAge.value), trust.maxMetadataAge.origin),
                        Parameter("allow_older_metadata", .boolean(trust.allowOlderMetadata.value), trust.allowOlderMetadata.origin),
                    ], origin: key.origin,
                    .verifySignature(key.value))
            }
        }
        add(
            "check.version", .decision, .checking, .apply,
            "stop when the offered version is the running one (up to date); defer when it was rolled back before", .compareVersions)

        for gate in policy.preflight where type(of: gate.kind).placement == .beforeDownload {
            add(
                "preflight.\(gate.name.value)", .gate, .checking, .apply, gateSummary(gate),
                with: gateParameters(gate), origin: origin(gate.source), note: note(gate.source), .gate(gate))
        }

        // Apply: downloading, staged, activated.
        let destination = policy.backend.described.downloadDestination
        add(
            "download.files", .action, .downloading, .apply,
            "stream the release's files (KubeSolo OS's vmlinuz and kubesolo-os.gz, or one image) to \(destination), "
                + "hashing while they write", .download)
        add(
            "verify.files", .decision, .downloading, .apply,
            "every file's SHA-256 matches the metadata's, and its size the size announced", .verifyFiles)
        if let key = policy.publicKey, policy.registry == nil {
            add(
                "verify.signatures", .decision, .downloading, .apply,
                "every file signature the release names (vmlinuz_sig_url, initramfs_sig_url) verifies over the bytes written",
                with: [Parameter("public_key", .text(describe(key.value)), key.origin)], origin: key.origin,
                .verifyFileSignatures(key.value))
        }
        add(
            "stage.slot", .action, .staged, .apply, backendSummary(policy.backend, "stage"),
            with: backendParameters(policy, "stage"), origin: backendOrigin(policy.backend, "stage"), .stage)
        let activationPart: Part = policy.activation.value == .separate ? .activate : .apply
        for gate in held {
            add(
                "preflight.\(gate.name.value)", .gate, .staged, activationPart, gateSummary(gate),
                with: gateParameters(gate), origin: origin(gate.source), note: note(gate.source), .gate(gate))
        }
        if policy.reboot.value == .auto {
            hookStep(.beforeReboot, .staged, activationPart)
        }
        add(
            "activate.slot", .action, .activated, activationPart, backendSummary(policy.backend, "activate"),
            with: backendParameters(policy, "activate") + [
                Parameter(
                    "activation", .text(policy.activation.value.rawValue),
                    policy.activation.origin)
            ],
            origin: backendOrigin(policy.backend, "activate"), .activate)
        switch policy.reboot.value {
        case .auto:
            add(
                "reboot.auto", .action, .activated, activationPart, backendSummary(policy.backend, "reboot"),
                with: [Parameter("reboot", .text("auto"), policy.reboot.origin)], origin: policy.reboot.origin, .reboot(.auto))
        case .manual:
            add(
                "reboot.manual", .wait, .activated, activationPart,
                "stop; the operator or init reboots into the new slot, then runs `updatectl healthcheck`",
                with: [Parameter("reboot", .text("manual"), policy.reboot.origin)], origin: policy.reboot.origin, .reboot(.manual))
        }

        // Post-boot: verifying.
        let health = policy.healthcheck
        add(
            "boot.slot", .decision, .verifying, .postBoot,
            "the node booted the new slot; if it booted the old one the bootloader fell back: rolled_back",
            .checkBootedSlot)
        add(
            "healthcheck.settle", .wait, .verifying, .postBoot, "wait before the first probe round",
            with: [Parameter("settle", .duration(health.settle.value), health.settle.origin)],
            origin: health.settle.origin, .settle(health.settle.value))
        add(
            "healthcheck.rounds", .probeRound, .verifying, .postBoot,
            "run every probe concurrently each round, every interval, until a round passes or the timeout is spent",
            with: [
                Parameter("interval", .duration(health.interval.value), health.interval.origin),
                Parameter("timeout", .duration(health.timeout.value), health.timeout.origin),
            ],
            origin: health.timeout.origin, .probeRounds(interval: health.interval.value, timeout: health.timeout.value))
        for probe in health.probes {
            add(
                "healthcheck.probe.\(probe.name.value)", .probe, .verifying, .postBoot, probeSummary(probe),
                with: probeParameters(probe), origin: origin(probe.source), note: note(probe.source), .probe(probe))
        }
        add(
            "healthcheck.commit", .action, .success, .postBoot,
            "a round passed: commit the slot, reset health_check_failures; " + backendSummary(policy.backend, "commit"),
            with: backendParameters(policy, "commit"), origin: backendOrigin(policy.backend, "commit"), .commit)
        hookStep(.afterCommit, .success, .postBoot)
        add(
            "healthcheck.failure", .decision, .activated, .postBoot,
            "no round passed in time: health_check_failures + 1, saved before anything else, exit non-zero",
            .countFailure)
        let after = policy.autoRollbackAfter
        let rollbackSummary =
            after.value == 0
            ? "never automatic (auto_rollback_after is 0): `updatectl rollback` by hand"
            : "at \(after.value) consecutive failed run\(after.value == 1 ? "" : "s"): roll back to the previous slot"
                + (policy.reboot.value == .auto ? " and reboot into it" : "")
        add(
            "healthcheck.rollback", .decision, .rolledBack, .postBoot,
            rollbackSummary + "; " + backendSummary(policy.backend, "rollback"),
            with: [Parameter("auto_rollback_after", .integer(after.value), after.origin)] + backendParameters(policy, "rollback"),
            origin: after.origin, .rollback(after: after.value))
        hookStep(.afterRollback, .rolledBack, .postBoot)
        for gate in held {
            add(
                "release.\(gate.name.value)", .action, .success, .postBoot,
                "after a commit or a bootloader fallback, and after a rollback once the node has rebooted into the previous slot: "
                    + (gate.kind.releaseSummary ?? "give back what the gate holds"),
                with: gateParameters(gate), origin: origin(gate.source), note: note(gate.source), .releaseHeld(gate, .steadyState))
        }

        return Plan(
            policyFile: policy.file, server: policy.server, registry: policy.registry, tag: policy.tag,
            channel: policy.channel, backend: policy.backend,
            publicKey: policy.publicKey, reboot: policy.reboot, autoRollbackAfter: policy.autoRollbackAfter,
            layout: policy.layout, activation: policy.activation, agent: policy.agent,
            verifyTimeout: policy.healthcheck.timeout, retryEvery: policy.healthcheck.retryEvery,
            windows: policy.preflight.compactMap { $0.kind.window },
            steps: steps)
    }

    /// `<server>/<channel>/latest.json`.
    /// `<server>/latest.json` (KubeSolo OS's layout) or `<server>/<channel>/latest.json`.
    public static func metadataURL(server: PolicyURL, channel: String, layout: MetadataLayout) -> String {
        let base = server.text.hasSuffix("/") ? String(server.text.dropLast()) : server.text
        switch layout {
        case .kubesolo: return "\(base)/latest.json"
        case .perChannel: return "\(base)/\(channel)/latest.json"
        }
    }

    static func origin(_ source: EntrySource) -> Origin {
        switch source {
        case .entry(let mark): .policy(mark)
        case .shorthand(_, let origin): origin
        case .defaulted: .defaulted
        }
    }

    static func note(_ source: EntrySource) -> String? {
        if case .shorthand(let key, _) = source { return key }
        return nil
    }

    static func describe(_ key: PublicKeySpec) -> String {
        switch key {
        case .ed25519(let bytes): "ed25519 inline (" + Base64.encode(bytes).prefix(8) + "…)"
        case .file(let path): path
        case .any(let keys): "any of " + keys.map(describe).joined(separator: ", ")
        }
    }

    /// What `check.signature` does under the policy's trust settings.
    static func signatureSummary(_ trust: MetadataTrust) -> String {
        var text =
            "verify the metadata's Ed25519 signature (latest.json.sig beside it"
            + (trust.followMetadataSigURL.value ? ", else where its metadata_sig_url points" : "")
            + ") over its exact bytes before reading it; "
        text +=
            trust.requireSignedMetadata.value
            ? "refuse unsigned metadata; "
            : "accept unsigned metadata only when every file is signed (its fields are then not authenticated); "
        if !trust.allowOlderMetadata.value {
            text += "refuse signed metadata older than the newest accepted (a lower version, an earlier release_date); "
        }
        if trust.maxMetadataAge.value > .zero {
            text += "refuse metadata whose release_date is older than \(DurationText.format(trust.maxMetadataAge.value)); "
        }
        return text + "check expiry"
    }

    static func gateSummary(_ gate: Gate) -> String { gate.kind.summary }

    /// What a hook step does, and what its failure means.
    static func hookSummary(_ point: HookPoint, count: Int) -> String {
        let commands = count == 1 ? "the command" : "the \(count) commands in order"
        switch point {
        case .beforeReboot:
            return "run \(commands) before the activation and the reboot (no shell; the process group is killed at "
                + "the timeout); one that fails defers the run and keeps the release staged"
        case .afterCommit:
            return "after a commit: run \(commands) (no shell; killed at the timeout); a failure is a warning"
        case .afterRollback:
            return "after a rollback, before the reboot into the previous slot: run \(commands) (no shell; killed at "
                + "the timeout); a failure is a warning"
        }
    }

    static func gateParameters(_ gate: Gate) -> [Parameter] {
        gate.kind.parameters + [Parameter("timeout", .duration(gate.timeout.value), gate.timeout.origin)]
    }

    static func probeSummary(_ probe: Probe) -> String { probe.kind.summary }

    static func probeParameters(_ probe: Probe) -> [Parameter] {
        probe.kind.parameters + [Parameter("timeout", .duration(probe.timeout.value), probe.timeout.origin)]
    }

    /// Where the operation's behaviour is written (the backend's description says).
    static func backendOrigin(_ backend: Backend, _ operation: String) -> Origin { backend.described.origin(of: operation) }

    static func backendSummary(_ backend: Backend, _ operation: String) -> String { backend.described.summary(of: operation) }

    static func backendParameters(_ policy: Policy, _ operation: String) -> [Parameter] {
        [Parameter("backend", .text(policy.backend.type), policy.backendType.origin)] + policy.backend.described.parameters(of: operation)
    }

}
