import YAMLTree

/// Builds the typed `Policy` from the decoded `updates:` mapping: fills defaults, names entries,
/// expands the shorthands, and reports duplicate names and shorthand conflicts.
struct PolicyBuilder {
    var findings: [Finding] = []
    /// `- no_downgrade: false` was written.
    var downgradesAllowed = Located(false, .defaulted)

    mutating func build(_ updates: DecodedMapping, keyNode: Node, file: String) -> Policy {
        let fields = Fields(mapping: updates, table: PolicySchema.updates)
        let server = fields.url("server")
        if server == nil, updates.invalid["server"] == nil {
            findings.append(Finding(
                .missingServer, "the policy has no `server`, so `apply` has nowhere to look for updates", at: keyNode,
                help: "add `server: https://…` (or `file:///…` for air-gapped nodes) under `updates:`"))
        }
        var publicKey: Located<PublicKeySpec>?
        if case .publicKey(let key)? = updates["public_key"]?.value { publicKey = Located(key, fields.origin("public_key")) }

        let dataDir = fields.text("data_dir")
        var gateNames = NameAllocator(noun: "gate")
        var preflight: [Gate]
        if let entries = fields.entries("preflight") {
            gateNames.reserve(entries)
            preflight = entries.compactMap { gate($0, names: &gateNames) }
        } else {
            preflight = [
                Gate(name: Located(gateNames.derive("free_space"), .defaulted),
                     kind: .freeSpace(headroom: Located(10, .defaulted), path: nil),
                     timeout: Located(.seconds(10), .defaulted), source: .defaulted),
                Gate(name: Located(gateNames.derive("node_not_blocked"), .defaulted),
                     kind: .nodeNotBlocked(label: Located("updates.kubesolo.io/block", .defaulted), node: nil, kubeconfig: nil),
                     timeout: Located(.seconds(30), .defaulted), source: .defaulted),
            ]
        }
        // Refusing downgrades is on unless the policy turns it off: an old, validly signed
        // release replayed by a mirror must not install.
        if !downgradesAllowed.value, !preflight.contains(where: { if case .noDowngrade = $0.kind { true } else { false } }) {
            preflight.insert(Gate(name: Located(gateNames.derive("no_downgrade"), .defaulted), kind: .noDowngrade,
                                  timeout: Located(.seconds(1), .defaulted), source: .defaulted), at: 0)
        }
        findings += gateNames.findings

        let health = fields.nested("healthcheck", PolicySchema.healthcheck)
        var probeNames = NameAllocator(noun: "probe")
        probeNames.reserve(health.entries("probes") ?? [])
        var probes = (health.entries("probes") ?? []).compactMap { probe($0, dataDir: dataDir, names: &probeNames) }
        let healthcheckURL = fields.url("healthcheck_url")
        let settle = fields.duration("kube_system_settle")
        expandShorthands(&probes, healthcheckURL: healthcheckURL, settle: settle, names: &probeNames)
        if !probes.contains(where: { probe in
            if case .diskWritable(let path) = probe.kind { return path.value == dataDir.value }
            return false
        }) {
            probes.append(Probe(
                name: Located(probeNames.derive("disk_writable"), .defaulted),
                kind: .diskWritable(path: Located(dataDir.value, .defaulted)),
                timeout: Located(.seconds(10), .defaulted), source: .defaulted))
        }
        findings += probeNames.findings

        return Policy(
            file: file, start: updates.node.start, server: server, channel: fields.text("channel"),
            publicKey: publicKey, preflight: preflight, preflightOrigin: fields.origin("preflight"),
            healthcheckURL: healthcheckURL, kubeSystemSettle: settle,
            healthcheck: Healthcheck(
                timeout: health.duration("timeout"), interval: health.duration("interval"),
                settle: health.duration("settle"), probes: probes),
            autoRollbackAfter: fields.integer("auto_rollback_after"),
            reboot: Located(RebootMode(rawValue: fields.text("reboot").value) ?? .manual, fields.origin("reboot")),
            dataDir: dataDir, backend: backend(fields), backendType: backendType(fields), downgradesAllowed: downgradesAllowed,
            download: Download(minRate: fields.nested("download", PolicySchema.download).rate("min_rate")))
    }

    private func entryFields(_ entry: DecodedEntry) -> Fields { Fields(mapping: entry.options, table: entry.kind.table) }

    private mutating func gate(_ entry: DecodedEntry, names: inout NameAllocator) -> Gate? {
        let f = entryFields(entry)
        let kind: GateKind
        switch entry.kind.name {
        case "free_space":
            kind = .freeSpace(headroom: f.percentage("headroom"), path: f.optionalText("path"))
        case "node_not_blocked":
            kind = .nodeNotBlocked(label: f.text("label"), node: f.optionalText("node"), kubeconfig: f.optionalText("kubeconfig"))
        case "maintenance_window":
            guard let start = f.time("start"), let end = f.time("end") else { return nil }
            kind = .maintenanceWindow(MaintenanceWindow(days: f.days("days"), start: start, end: end, timezone: f.text("timezone")))
        case "max_attempts":
            guard case .integer? = entry.options["max"]?.value else { return nil }
            kind = .maxAttempts(f.integer("max"))
        case "no_downgrade":
            let enabled = f.boolean("enabled")
            if !enabled.value {
                // Turned off on purpose: no gate; the cross-checks warn.
                downgradesAllowed = Located(true, enabled.origin)
                return nil
            }
            kind = .noDowngrade
        case "rollout":
            guard case .percentage? = entry.options["percent"]?.value else { return nil }
            kind = .rollout(percent: f.percentage("percent"), salt: f.text("salt"))
        case "exec":
            guard let command = f.command("command") else { return nil }
            kind = .exec(command: command)
        case "http":
            guard let url = f.url("url") else { return nil }
            kind = .http(url: url, status: f.integer("status"))
        default:
            return nil
        }
        let name = names.name(entry, explicit: f.optionalText("name"))
        return Gate(name: name, kind: kind, timeout: f.duration("timeout"), source: .entry(entry.node.start))
    }

    private mutating func probe(_ entry: DecodedEntry, dataDir: Located<String>, names: inout NameAllocator) -> Probe? {
        let f = entryFields(entry)
        let kind: ProbeKind
        switch entry.kind.name {
        case "http":
            guard let url = f.url("url") else { return nil }
            kind = .http(url: url, status: f.integer("status"))
        case "tcp":
            guard let address = f.address("address") else { return nil }
            kind = .tcp(address: address)
        case "exec":
            guard let command = f.command("command") else { return nil }
            kind = .exec(command: command)
        case "disk_writable":
            kind = .diskWritable(path: f.optionalText("path") ?? Located(dataDir.value, .defaulted))
        case "kube_system_ready":
            kind = .kubeSystemReady(settle: f.duration("settle"))
        default:
            return nil
        }
        let name = names.name(entry, explicit: f.optionalText("name"))
        return Probe(name: name, kind: kind, timeout: f.duration("timeout"), source: .entry(entry.node.start))
    }

    private mutating func expandShorthands(
        _ probes: inout [Probe], healthcheckURL: Located<PolicyURL>?, settle: Located<Duration>, names: inout NameAllocator
    ) {
        if let url = healthcheckURL, let mark = url.origin.mark {
            // The shorthand adds one probe beside any listed ones; only the same URL listed with
            // another status is the same probe configured two ways.
            let same = probes.compactMap { probe -> Located<Int>? in
                if case .http(let probeURL, let status) = probe.kind, probeURL.value.text == url.value.text { return status }
                return nil
            }
            if let status = same.first(where: { $0.value != 200 }) {
                findings.append(Finding(
                    .shorthandConflict,
                    "`healthcheck_url` \(url.value.text) passes on 200, but the `http` probe of the same URL under "
                        + "`healthcheck.probes` passes on \(status.value)",
                    start: mark, help: "keep one: drop `healthcheck_url`, or the probe",
                    notes: status.origin.mark.map { [Finding.Note(message: "the probe's status", mark: $0)] } ?? []))
            } else if !same.isEmpty {
                // The listed probe is the shorthand's probe; nothing to add.
            } else {
                probes.append(Probe(
                    name: Located(names.derive("healthcheck_url"), .defaulted),
                    kind: .http(url: url, status: Located(200, .defaulted)),
                    timeout: Located(.seconds(5), .defaulted), source: .shorthand(key: "healthcheck_url", mark)))
            }
        }
        let explicitSettles = probes.compactMap { probe -> Located<Duration>? in
            if case .kubeSystemReady(let value) = probe.kind { return value }
            return nil
        }
        switch settle.origin {
        case .invalid:
            return
        case .policy(let mark):
            if explicitSettles.isEmpty {
                guard settle.value > .zero else { return }
                probes.append(Probe(
                    name: Located(names.derive("kube_system_ready"), .defaulted),
                    kind: .kubeSystemReady(settle: settle),
                    timeout: Located(.seconds(30), .defaulted), source: .shorthand(key: "kube_system_settle", mark)))
            } else if let other = explicitSettles.first(where: { $0.value != settle.value }) {
                let said = settle.value == .zero ? "turns the kube-system probe off" : "is \(DurationText.format(settle.value))"
                findings.append(Finding(
                    .shorthandConflict,
                    "`kube_system_settle` \(said), but the `kube_system_ready` probe's settle is \(DurationText.format(other.value))",
                    start: mark, help: "keep one: the shorthand or the probe under `healthcheck.probes`",
                    notes: other.origin.mark.map { [Finding.Note(message: "the probe's settle", mark: $0)] }
                        ?? [Finding.Note(message: "the probe, with the default settle of 30s", mark: mark)]))
            }
        case .defaulted:
            if explicitSettles.isEmpty {
                probes.append(Probe(
                    name: Located(names.derive("kube_system_ready"), .defaulted),
                    kind: .kubeSystemReady(settle: settle),
                    timeout: Located(.seconds(30), .defaulted), source: .defaulted))
            }
        }
    }

    private func backendType(_ fields: Fields) -> Located<String> {
        guard case .mapping(let mapping)? = fields.mapping["backend"]?.value,
            case .text(let text)? = mapping["type"]?.value, let start = mapping["type"]?.start
        else { return Located(PolicySchema.backend.defaultTag, .defaulted) }
        return Located(text, .policy(start))
    }

    private func backend(_ fields: Fields) -> Backend {
        guard case .mapping(let mapping)? = fields.mapping["backend"]?.value else {
            return .directory(root: Located("/var/lib/updatectl/slots", .defaulted), initialVersion: Located("0.0.0", .defaulted))
        }
        let type: String
        if case .text(let text)? = mapping["type"]?.value { type = text } else { type = PolicySchema.backend.defaultTag }
        guard let table = PolicySchema.backend.table(for: type) else {
            return .directory(root: Located("/var/lib/updatectl/slots", .defaulted), initialVersion: Located("0.0.0", .defaulted))
        }
        let f = Fields(mapping: mapping, table: table)
        if type == "command" {
            var commands: [String: Located<[String]>] = [:]
            for operation in PolicySchema.commandOperations {
                if let command = f.command(operation) { commands[operation] = command }
            }
            return .command(CommandBackend(commands: commands, timeout: f.duration("timeout")))
        }
        return .directory(root: f.text("root"), initialVersion: f.text("initial_version"))
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
        for entry in entries {
            guard let field = entry.options["name"], case .text(let name) = field.value else { continue }
            if let first = taken[name] {
                findings.append(Finding(
                    .duplicateName, "two \(noun)s are named `\(name)`", start: field.start, end: field.end, help: "give each \(noun) a distinct `name:`",
                    notes: first.map { [Finding.Note(message: "the other \(noun) named `\(name)`", mark: $0)] } ?? []))
            } else {
                taken[name] = field.start
            }
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
