public import UpdatePolicy

extension FleetLockGate: HeldGateEvaluating, SimulatesFacts, NodeReporting {
    func spec(_ gate: Gate) -> FleetEngineSpec {
        let urls = engine.value == .fleetlock ? [url?.value.text].compactMap { $0 } : (endpoints?.value.map(\.text) ?? [])
        return FleetEngineSpec(
            engine: engine.value == .fleetlock ? .fleetlock : .etcd, urls: urls, group: group.value, slots: slots.value,
            tls: TLSFiles(caFile: caFile?.value, certFile: certFile?.value, keyFile: keyFile?.value), timeout: gate.timeout.value)
    }

    /// `id`, the first line of `id_file`, or the application-specific id from /etc/machine-id.
    func identity(_ env: CheckEnvironment) -> Result<String, FleetError> { env.fleet.identity(derivedIdentity(env)) }

    func derivedIdentity(_ env: CheckEnvironment) -> Result<String, FleetError> {
        if let id { return .success(id.value) }
        if let idFile {
            guard let text = try? env.system.readText(idFile.value, limit: 4096) else {
                return .failure(FleetError("cannot read this node's fleet id from \(idFile.value)"))
            }
            let line = text.split(separator: "\n").first.map { String($0).trimmingSpaces } ?? ""
            guard Self.idRule.check(line) else {
                return .failure(
                    FleetError(
                        "\(idFile.value) does not hold a fleet id (printable ASCII without spaces, at most 256 characters, on "
                            + "its first line)"))
            }
            return .success(line)
        }
        do {
            return .success(try FleetIdentity.appSpecific(machineID: try env.system.machineID()))
        } catch let error as FleetError {
            return .failure(error)
        } catch {
            return .failure(FleetError("cannot read /etc/machine-id (\(error)): set the fleet lock's `id` or `id_file`"))
        }
    }

    func evaluate(_ gate: Gate, _ input: GateInput, _ env: CheckEnvironment) -> GateOutcome {
        if input.skipFleetLock { return .skipped("skipped by --skip-fleet-lock: activating without a reboot slot of group \(group.value)") }
        let id: String
        switch identity(env) {
        case .success(let value): id = value
        case .failure(let error): return .block("\(error); not activating without a reboot slot")
        }
        let engine = env.fleet.engine(spec(gate))
        if input.dryRun {
            do {
                guard let snapshot = try engine.snapshot() else {
                    return .skipped("dry run: would ask \(address) for a reboot slot of group \(group.value) as \(id)")
                }
                if snapshot.holders.contains(id) { return .pass("dry run: \(id) holds a slot of group \(group.value) already") }
                if snapshot.holders.count >= snapshot.totalSlots {
                    return .block(
                        "dry run: " + FleetSnapshot.full(total: snapshot.totalSlots, holders: snapshot.holders, group: group.value))
                }
                return .pass(
                    "dry run: a slot of group \(group.value) is free (\(snapshot.holders.count) of \(snapshot.totalSlots) held); "
                        + "a real run takes it as \(id)")
            } catch {
                return .block("dry run: the fleet lock cannot be read: \(error)")
            }
        }
        switch engine.lock(id: id) {
        case .done(let detail):
            return .pass("\(detail); held as \(id) until this node is steady again")
        case .refused(let reason):
            return .block("no reboot slot: \(reason); the release stays staged and the next run asks again")
        case .unreachable(let reason):
            return .block("the fleet lock did not answer (\(reason)); not activating without a reboot slot, the release stays staged")
        }
    }

    func release(_ gate: Gate, _ env: CheckEnvironment) -> FleetAnswer {
        switch identity(env) {
        case .success(let id): release(holder: id, gate, env)
        case .failure(let error): .unreachable("\(error)")
        }
    }

    func take(_ gate: Gate, _ env: CheckEnvironment) -> FleetAnswer {
        switch identity(env) {
        case .success(let id): env.fleet.engine(spec(gate)).lock(id: id)
        case .failure(let error): .unreachable("\(error)")
        }
    }

    func release(holder: String, _ gate: Gate, _ env: CheckEnvironment) -> FleetAnswer {
        env.fleet.engine(spec(gate)).unlock(id: holder)
    }

    func reportPlace(_ gate: Gate, _ env: CheckEnvironment, agent: AgentSchedule) -> NodeReportPlace? {
        guard engine.value == .etcd else { return nil }
        return NodeReportPlace(id: identity(env), group: group.value, ttl: reportTTL(agent: agent), spec: spec(gate))
    }

    func report(_ gate: Gate, _ env: CheckEnvironment) -> HeldReport {
        var report = HeldReport(
            gate: gate.name.value, engine: engine.value.rawValue, address: address, group: group.value,
            id: identity(env))
        do {
            report.snapshot = try env.fleet.engine(spec(gate)).snapshot()
        } catch {
            report.problem = error.description
        }
        return report
    }

    static func simulate(_ facts: ScenarioFacts, _ node: inout SimulatedNode) {
        node.fleetScript = (facts.texts(entry.name) ?? ["granted"]).flatMap { text in
            ScenarioFleetRule.parse(text).map { Array(repeating: $0.answer, count: $0.count) } ?? []
        }
    }
}
