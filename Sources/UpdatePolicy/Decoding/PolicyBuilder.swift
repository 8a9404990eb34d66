import YAMLTree

/// Builds the typed `Policy` from the decoded `updates:` mapping: fills defaults, names entries,
/// lets each kind decode its entries and add its implicit ones, and reports duplicate names.
/// Nothing here knows a kind by name: the kinds (`Kinds/`) describe themselves.
struct PolicyBuilder {
    var findings: [Finding] = []

    mutating func build(_ updates: DecodedMapping, keyNode: Node, file: String) -> Policy {
        let fields = Fields(mapping: updates, table: PolicySchema.updates)
        // A key and the one it stands in for (`pubkey` and `public_key`, `registry` and `server`):
        // one of the two.
        for key in PolicySchema.updates.keys {
            guard let other = key.insteadOf, let field = updates[key.name], updates[other] != nil else { continue }
            let otherMark = fields.origin(other).mark
            findings.append(
                Finding(
                    .twoOfOne(key.name, other), start: field.start, end: field.end,
                    notes: otherMark.map { [Finding.Note(message: "`\(other)`", mark: $0)] } ?? []))
        }
        let server = fields.url("server")
        var registry: Located<RegistryReference>?
        if let text = fields.optionalText("registry"), let reference = RegistryReference.parse(text.value) {
            registry = Located(reference, text.origin)
        }
        if server == nil, registry == nil, updates.invalid["server"] == nil, updates.invalid["registry"] == nil {
            findings.append(Finding(.noServer, at: keyNode))
        }
        var publicKey: Located<PublicKeySpec>?
        if case .publicKey(let key)? = updates["public_key"]?.value { publicKey = Located(key, fields.origin("public_key")) }
        if publicKey == nil, let path = fields.optionalText("pubkey") { publicKey = Located(.file(path.value), path.origin) }

        let dataDir = fields.text("data_dir")
        var context = KindContext(dataDir: dataDir, updates: fields, names: NameAllocator(noun: "gate"))
        var preflight: [Gate] = []
        var disabled: [Gate] = []
        if let entries = fields.entries("preflight") {
            context.names.reserve(entries)
            for index in entries.indices {
                guard let (gate, isOff) = gate(entries[index], &context) else { continue }
                if isOff { disabled.append(gate) } else { preflight.append(gate) }
            }
        } else {
            let defaults = PolicyKinds.decodableGates.compactMap { kind in kind.defaultOrder.map { (kind, $0) } }
            for (kind, _) in defaults.sorted(by: { $0.1 < $1.1 }) {
                if let gate = defaultGate(kind, &context) { preflight.append(gate) }
            }
        }
        // Gates a top-level shorthand stands for come before the listed ones.
        var implicit: [Gate] = []
        for kind in PolicyKinds.decodableGates { implicit += kind.implicit(preflight, &context) }
        preflight.insert(contentsOf: implicit, at: 0)
        // Always-on gates (refusing downgrades) come first unless listed or turned off.
        for kind in PolicyKinds.decodableGates.reversed() where kind.alwaysOn {
            guard !preflight.contains(kindOf: kind), !disabled.contains(kindOf: kind),
                let gate = defaultGate(kind, &context)
            else { continue }
            preflight.insert(gate, at: 0)
        }
        findings += context.names.findings + context.findings

        let health = fields.nested("healthcheck", PolicySchema.healthcheck)
        context = KindContext(dataDir: dataDir, updates: fields, names: NameAllocator(noun: "probe"))
        let probeEntries = health.entries("probes") ?? []
        context.names.reserve(probeEntries)
        // Sized once: a probe is a wide value, and a large policy has tens of thousands.
        var probes: [Probe] = []
        probes.reserveCapacity(probeEntries.count + PolicyKinds.decodableProbes.count)
        probeEntries.withUnsafeBufferPointer { entries in
            for entry in entries.indices {
                if let probe = probe(entries[entry], &context) { probes.append(probe) }
            }
        }
        for kind in PolicyKinds.decodableProbes.sorted(by: { $0.implicitOrder < $1.implicitOrder }) {
            probes += kind.implicit(probes, &context)
        }
        findings += context.names.findings + context.findings

        let channel = fields.text("channel")
        var policy = Policy(
            file: file, start: updates.node.start, server: registry == nil ? server : nil, registry: registry,
            tag: registry.flatMap { pinned in pinned.value.digest.map { Located($0, pinned.origin) } } ?? fields.optionalText("tag")
                ?? Located(channel.value, .defaulted), registryAuth: fields.optionalText("registry_auth"),
            channel: channel,
            publicKey: publicKey,
            trust: MetadataTrust(
                requireSignedMetadata: fields.boolean("require_signed_metadata"),
                followMetadataSigURL: fields.boolean("follow_metadata_sig_url"),
                maxMetadataAge: fields.duration("max_metadata_age"), allowOlderMetadata: fields.boolean("allow_older_metadata")),
            caFile: fields.optionalText("ca_file"), preflight: preflight, preflightOrigin: fields.origin("preflight"),
            healthcheckURL: fields.url("healthcheck_url"), kubeSystemSettle: fields.duration("kube_system_settle"),
            healthcheck: Healthcheck(
                timeout: health.duration("timeout"), interval: health.duration("interval"),
                settle: health.duration("settle"), retryEvery: health.duration("retry_every"), probes: probes),
            autoRollbackAfter: fields.integer("auto_rollback_after"),
            reboot: Located(RebootMode(rawValue: fields.text("reboot").value) ?? .manual, fields.origin("reboot")),
            dataDir: dataDir, backend: backend(fields), backendType: backendType(fields), disabledGates: disabled,
            download: download(fields.nested("download", PolicySchema.download)),
            layout: Located(MetadataLayout(rawValue: fields.text("layout").value) ?? .kubesolo, fields.origin("layout")),
            activation: Located(ActivationMode(rawValue: fields.text("activation").value) ?? .auto, fields.origin("activation")),
            agent: agent(fields.nested("agent", PolicySchema.agent)))
        policy.publicKeyInvalid = updates.invalid["public_key"] != nil || updates.invalid["pubkey"] != nil
        policy.hooks = hooks(fields.nested("hooks", PolicySchema.hooks))
        return policy
    }

    /// The entry's own kind decodes it; the decoder only hands over entries of the family's kinds.
    private func gate(_ entry: DecodedEntry, _ context: inout KindContext) -> (gate: Gate, isOff: Bool)? {
        guard let kind = PolicyKinds.decodableGate(entry.kind.type) else {
            preconditionFailure("\(entry.kind.name) is listed as a gate kind but is not one")
        }
        let fields = Fields(mapping: entry.options, table: entry.kind.table)
        guard let decoded = kind.gate(fields, &context) else { return nil }
        let (name, timeout) = nameAndTimeout(entry, fields, &context)
        return (Gate(name: name, kind: decoded.kind, timeout: timeout, source: .entry(entry.node.start)), decoded.isOff)
    }

    /// A gate the policy did not write, with every option at its default.
    private func defaultGate(_ kind: any DecodableGate.Type, _ context: inout KindContext) -> Gate? {
        let defaults = Fields(mapping: DecodedMapping(node: context.updates.mapping.node), table: kind.entry.table)
        guard let decoded = kind.gate(defaults, &context) else { return nil }
        return Gate(
            name: Located(context.names.derive(kind.entry.name), .defaulted), kind: decoded.kind,
            timeout: defaults.duration("timeout"), source: .defaulted)
    }

    private func probe(_ entry: DecodedEntry, _ context: inout KindContext) -> Probe? {
        guard let kind = PolicyKinds.decodableProbe(entry.kind.type) else {
            preconditionFailure("\(entry.kind.name) is listed as a probe kind but is not one")
        }
        let fields = Fields(mapping: entry.options, table: entry.kind.table)
        guard let decoded = kind.probe(fields, &context) else { return nil }
        let (name, timeout) = nameAndTimeout(entry, fields, &context)
        return Probe(name: name, kind: decoded, timeout: timeout, source: .entry(entry.node.start))
    }

    /// What every entry has besides its kind's options.
    private func nameAndTimeout(
        _ entry: DecodedEntry, _ fields: Fields, _ context: inout KindContext
    )
        -> (name: Located<String>, timeout: Located<Duration>)
    {
        (context.names.name(entry, explicit: fields.optionalText("name")), fields.duration("timeout"))
    }

    private func agent(_ fields: Fields) -> AgentSchedule {
        AgentSchedule(checkEvery: fields.duration("check_every"), jitter: fields.duration("jitter"))
    }

    private func hooks(_ fields: Fields) -> Hooks {
        var commands: [HookPoint: [Located<[String]>]] = [:]
        for point in HookPoint.allCases {
            if let list = fields.commands(point.rawValue), !list.isEmpty { commands[point] = list }
        }
        return Hooks(timeout: fields.duration("timeout"), commands: commands)
    }

    private func download(_ fields: Fields) -> Download {
        Download(
            minRate: fields.rate("min_rate"), maxRate: fields.rate("max_rate"), retries: fields.integer("retries"),
            maxReleaseSize: fields.size("max_release_size"), proxy: fields.url("proxy"), noProxy: fields.optionalText("no_proxy"))
    }

    private func backendType(_ fields: Fields) -> Located<String> {
        guard case .mapping(let mapping)? = fields.mapping["backend"]?.value,
            case .text(let text)? = mapping["type"]?.value, let start = mapping["type"]?.start
        else { return Located(PolicySchema.backend.defaultTag, .defaulted) }
        return Located(text, .policy(start))
    }

    /// The backend, with the schema's defaults for what the policy leaves out (no `backend:` at
    /// all is the default variant with every option at its default).
    private func backend(_ fields: Fields) -> Backend {
        var mapping = DecodedMapping(node: fields.mapping.node)
        if case .mapping(let written)? = fields.mapping["backend"]?.value { mapping = written }
        var type = PolicySchema.backend.defaultTag
        if case .text(let text)? = mapping["type"]?.value { type = text }
        guard let table = PolicySchema.backend.table(for: type) ?? PolicySchema.backend.table(for: PolicySchema.backend.defaultTag) else {
            preconditionFailure("the backend table has no variant for its default tag")
        }
        let fields = Fields(mapping: mapping, table: table)
        return (Backends.named(type) ?? DirectoryBackendConfig.self).decode(fields)
    }
}

/// Gives each gate or probe a unique name: its own, or one derived from its kind.
struct NameAllocator {
    let noun: String
    var taken: [String: Mark?] = [:]
    var findings: [Finding] = []

    init(noun: String) { self.noun = noun }

    /// Registers the names the policy gives, reporting duplicates, before any name is derived.
    mutating func reserve(_ entries: [DecodedEntry]) {
        taken.reserveCapacity(2 * entries.count)
        entries.withUnsafeBufferPointer { entries in
            for entry in entries.indices { reserve(entries[entry].options["name"]) }
        }
    }

    private mutating func reserve(_ field: DecodedField?) {
        guard let field, case .text(let name) = field.value else { return }
        // One hash for the common case, a name seen first; a duplicate puts the first back.
        if let first = taken.updateValue(field.start, forKey: name) {
            taken[name] = first
            findings.append(
                Finding(
                    .duplicateName(name, noun: noun), start: field.start, end: field.end,
                    notes: first.map { [Finding.Note(message: Message.otherOfName(name, noun: noun), mark: $0)] } ?? []))
        }
    }

    mutating func name(_ entry: DecodedEntry, explicit: Located<String>?) -> Located<String> {
        explicit ?? Located(derive(entry.kind.name), .defaulted)
    }

    /// `kind`, or `kind-2`, `kind-3`, … when taken.
    mutating func derive(_ base: String) -> String {
        var candidate = base
        var counter = 2
        while taken[candidate] != nil {
            candidate = "\(base)-\(counter)"
            counter += 1
        }
        taken[candidate] = .some(nil)
        return candidate
    }
}
