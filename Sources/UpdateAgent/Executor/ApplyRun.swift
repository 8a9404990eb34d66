#if canImport(Glibc)
import Glibc
#endif
public import UpdatePlan
public import UpdatePolicy

public enum ApplyOutcome: Sendable, Equatable {
    case upToDate(version: String)
    case activated(version: String, rebooted: Bool)
    /// `activation: separate`: the release is staged and waits for `updatectl activate`.
    case staged(version: String)
    case deferred(gate: String, reason: String)
    /// A metadata gate refused the release (another channel or architecture, too old a
    /// starting version): recorded as failed, no attempt spent.
    case refused(gate: String, reason: String)
    /// `check`: an update the node would install; `deferredBy` names a gate about the moment
    /// (the maintenance window…) that would defer `apply` now.
    case available(version: String, deferredBy: String?)
    case failed(String)
    /// A dry run finished; `blockedBy` names the first gate that would defer a real run.
    case dryRun(blockedBy: String?)
    /// A reboot an earlier run missed was carried out (into `slot`); nothing else was done.
    case rebooted(slot: String)
}

/// One `apply`: walks the apply part of the plan against the state machine.
public struct ApplyRun {
    public let plan: Plan
    public let policy: Policy
    public let policySHA256: String?
    public let environment: AgentEnvironment
    public var force = false
    public var dryRun = false
    /// `check`: a dry run that stops before the download and says whether an update is available.
    public var checkOnly = false
    /// `--skip-fleet-lock`: activate without taking a fleet reboot slot.
    public var skipFleetLock = false

    /// A minute plus the image's size at the minimum rate: a download that takes longer is
    /// stopped instead of holding the lock for days. Nil (no deadline) with `min_rate: 0`.
    public static func downloadDeadline(size: Int, minRate: Int) -> Duration? {
        guard minRate > 0 else { return nil }
        return .seconds(60 + (size + minRate - 1) / minRate)
    }

    /// Interrupted attempts at one version before apply stops retrying it by itself.
    public static let interruptionLimit = 3

    public init(plan: Plan, policy: Policy, policySHA256: String?, environment: AgentEnvironment) {
        self.plan = plan
        self.policy = policy
        self.policySHA256 = policySHA256
        self.environment = environment
    }

    private var steps: [Step] { plan.steps.filter { $0.part == .apply } }

    struct Failure: Error {
        var message: String
    }

    /// Runs under the state lock (and the backend's), except a dry run, which only reads.
    public func run() throws -> ApplyOutcome {
        let lock = dryRun ? nil : try StateLock.acquire(statePath: environment.store.path, extraLock: environment.backend.lockPath)
        defer { lock?.release() }
        var run = Walk(run: self, lock: lock)
        return try run.go()
    }

    /// `updatectl activate`: activates the release a resting `staged` phase holds (and reboots,
    /// with `reboot: auto`), under the state lock.
    public func activate() throws -> ApplyOutcome {
        let lock = try StateLock.acquire(statePath: environment.store.path, extraLock: environment.backend.lockPath)
        defer { lock.release() }
        var run = Walk(run: self, lock: lock)
        return try run.activate()
    }

    /// The mutable part of a run.
    struct Walk {
        let run: ApplyRun
        let lock: StateLock?
        var env: AgentEnvironment { run.environment }
        var state = UpdateState()
        var records: [UpdateState.StepRecord] = []
        var metadataBytes: [UInt8] = []
        var metadata: ReleaseMetadata?
        var running = ""
        var booted = Slot.a
        /// Where each file of the release is written, by name.
        var paths: [String: String] = [:]
        var digests: [String: String] = [:]
        var written: [String: Int] = [:]
        /// File signatures fetched before their files (so a missing one is known early), by file name.
        var signatureFiles: [String: [UInt8]] = [:]
        var blockedBy: String?
        /// The version a resting `staged` phase holds: a run that is offered it again goes on
        /// to activation instead of downloading it again.
        var stagedVersion: String?
        /// The offered release is the staged one: download, verify and stage are done.
        var alreadyStaged = false
        /// A registry release: the client (holding its token) and the digests it resolved.
        var registry: RegistryClient?
        var resolved: RegistryRelease.Resolved?

        init(run: ApplyRun, lock: StateLock?) {
            self.run = run
            self.lock = lock
        }

        mutating func report(_ index: Int, _ step: Step, _ decision: StepDecision, _ detail: String) {
            records.append(.init(step: step.id, decision: decision.rawValue, detail: detail))
            env.reporter.stepFinished(index: index, total: run.steps.count, step: step, decision: decision, detail: detail)
        }

        mutating func transition(_ next: Phase, _ event: StateMachine.Event = .init()) throws {
            guard !run.dryRun else { return }
            state.lastRun = records
            state = try env.store.transition(state, to: next, event: event, clock: env.clock)
        }

        mutating func go() throws -> ApplyOutcome {
            if let lock {
                state = try env.store.load(holding: lock, clock: env.clock)
            } else {
                switch try env.store.read() {
                case .missing: state = UpdateState()
                case .state(let read): state = read
                case .broken(let problem):
                    return .failed("the state file \(env.store.path) cannot be parsed (\(problem)); it was left in place. "
                        + "A real run would move it aside and stop: check the node, then run `updatectl state reset --yes`")
                }
            }
            let broken = env.store.brokenFiles()
            if !broken.isEmpty {
                return .failed("a broken state file was moved aside earlier (\(broken.joined(separator: ", "))), so an update "
                    + "may have been in flight; check the node, then run `updatectl state reset --yes`")
            }
            let sidecar = try env.store.readSidecar()
            let activationBoot = state.activationBootID
                ?? sidecar.activation.flatMap { $0.version == state.toVersion ? $0.bootID : nil }
            switch state.phase {
            case .activated where !run.dryRun && run.policy.reboot.value == .auto
                && activationBoot != nil && activationBoot == (try? env.backend.bootID()):
                // Activated, but the run stopped before its reboot: finish it.
                env.reporter.note("the update to \(state.toVersion ?? "a new version") is activated but the node has not "
                    + "rebooted since; rebooting now")
                try env.backend.reboot()
                return .activated(version: state.toVersion ?? "", rebooted: true)
            case .rolledBack where !run.dryRun && (try? env.backend.runningVersion()) == state.toVersion
                && state.toVersion != nil && state.toVersion != state.fromVersion:
                // Rolled back, but the run stopped before its reboot: the node still runs the
                // rolled-back release and the previous slot boots next.
                let previous = ((try? env.backend.bootedSlot()) ?? .a).other.rawValue
                guard run.policy.reboot.value == .auto else {
                    return .failed("\(state.toVersion ?? "the update") was rolled back, but the node still runs it: reboot the "
                        + "node into slot \(previous) first")
                }
                env.reporter.note("\(state.toVersion ?? "the update") was rolled back, but the node still runs it; rebooting "
                    + "into slot \(previous) now")
                try env.backend.reboot()
                return .rebooted(slot: previous)
            case .activated, .verifying:
                return .failed("an update to \(state.toVersion ?? "a new version") is \(state.phase.rawValue) and waits for its "
                    + "post-boot check: run `updatectl healthcheck` (or `updatectl rollback`) first")
            case .staged where state.toVersion != nil:
                // A resting phase (activation: separate, a run that stopped after staging, or the
                // Go agent's apply): the release stays staged unless a different one is offered.
                do {
                    _ = try InFlight.staged(state, backend: env.backend)
                } catch {
                    return .failed("\(error)")
                }
                stagedVersion = state.toVersion
            case .checking, .downloading, .staged:
                if !run.dryRun {
                    if state.phase != .checking {
                        try env.store.updateSidecar(holding: lock!) { sidecar in
                            let count = sidecar.interrupted(state.toVersion) + 1
                            sidecar.interruptions = state.toVersion.map { Sidecar.Interruptions(version: $0, count: count) }
                        }
                        state.interruptedAttempts += 1
                    }
                    env.reporter.note("the previous attempt was interrupted in phase \(state.phase.rawValue); starting over"
                        + (state.phase == .downloading ? ", keeping what it downloaded" : ""))
                    // The passive slot held the partial release: the one the node does not run.
                    // Downloads stop short of it, so an interrupted download keeps its bytes.
                    if let slot = try? env.backend.bootedSlot().other {
                        env.backend.invalidate(slot: slot, keepingDownloads: state.phase == .downloading)
                        // It may have been activated just before the interruption: boot the running slot.
                        if state.phase == .staged { try? env.backend.rollback(to: slot.other, version: "", fromVersion: "") }
                    }
                    try transition(.failed, .init(error: "interrupted in phase \(state.phase.rawValue)"))
                }
            default:
                break
            }
            let interrupted = max(state.interruptedAttempts, try env.store.readSidecar().interrupted(state.toVersion))
            if interrupted >= ApplyRun.interruptionLimit {
                return .failed("the last \(interrupted) attempts at \(state.toVersion ?? "this version") were "
                    + "interrupted (killed, or power lost mid-update); not retrying until someone looks: check the node, "
                    + "then run `updatectl state reset --yes`")
            }
            do {
                booted = try env.backend.bootedSlot()
                running = try env.backend.runningVersion()
            } catch {
                return .failed("the backend cannot say what the node runs: \(error)")
            }
            if !run.dryRun, stagedVersion == nil {
                state.policySHA256 = run.policySHA256
                state.bootedSlot = booted.rawValue
                try transition(.checking, .init(fromVersion: running))
            }
            for (index, step) in run.steps.enumerated() {
                if run.checkOnly, case .download = step.operation { break }
                do {
                    if let outcome = try perform(index, step) { return outcome }
                } catch let failure as Failure {
                    report(index, step, .fail, failure.message)
                    if let target = state.targetSlot.flatMap(Slot.init(rawValue:)), state.phase == .downloading {
                        // A download that failed keeps its bytes for the next run to go on from
                        // (the SHA-256 check still decides); files that failed a check do not.
                        if case .download = step.operation {
                            env.backend.invalidate(slot: target, keepingDownloads: true)
                        } else {
                            env.backend.invalidate(slot: target)
                        }
                    }
                    // A staged release is kept when checking for a newer one fails.
                    if !run.dryRun, state.phase != .staged { try transition(.failed, .init(error: "\(step.id): \(failure.message)")) }
                    return .failed("\(step.id): \(failure.message)")
                }
            }
            if run.checkOnly { return .available(version: metadata?.version ?? "", deferredBy: blockedBy) }
            if run.dryRun { return .dryRun(blockedBy: blockedBy) }
            if state.phase == .staged { return .staged(version: state.toVersion ?? "") }
            return .activated(version: state.toVersion ?? "", rebooted: run.policy.reboot.value == .auto)
        }

        /// `updatectl activate`: the activation part of the plan, for the release a resting
        /// `staged` phase holds.
        mutating func activate() throws -> ApplyOutcome {
            guard let lock else { return .failed("activate takes the state lock") }
            state = try env.store.load(holding: lock, clock: env.clock)
            guard state.phase == .staged, let version = state.toVersion else {
                return .failed("nothing is staged (phase \(state.phase.rawValue)): `updatectl apply` stages a release first")
            }
            do {
                let inFlight = try InFlight.staged(state, backend: env.backend)
                booted = inFlight.booted
                running = inFlight.running
            } catch {
                return .failed("\(error)")
            }
            stagedVersion = version
            for (index, step) in run.plan.steps.enumerated() where step.part != .postBoot {
                switch step.operation {
                case .activate, .reboot: break
                case .gate(let gate) where type(of: gate.kind).placement == .heldAcrossReboot: break
                default: continue
                }
                do {
                    if let outcome = try perform(index, step) { return outcome }
                } catch let failure as Failure {
                    report(index, step, .fail, failure.message)
                    return .failed("\(step.id): \(failure.message)")
                }
            }
            return .activated(version: version, rebooted: run.policy.reboot.value == .auto)
        }

        /// Carries out one step; an outcome ends the run.
        mutating func perform(_ index: Int, _ step: Step) throws -> ApplyOutcome? {
            switch step.operation {
            case .fetchMetadata(let server, _):
                guard server != nil else { throw Failure(message: "the policy has no server") }
                let url = plan.metadataURL
                metadataBytes = try fetch(url, limit: 64 << 10, what: "metadata")
                if run.policy.publicKey != nil {
                    // Nothing in it is read, shown or compared before its signature verifies.
                    report(index, step, .done, "fetched \(url) (\(metadataBytes.count) bytes); its signature is checked next")
                } else {
                    var offered = try parseMetadata()
                    learnSizes(&offered)
                    env.reporter.note("no public_key: this release is not authenticated; whoever can change the server's "
                        + "files or the connection chooses what is installed")
                    report(index, step, .done, "offered \(describe(offered)), unauthenticated")
                }
            case .fetchManifest(let reference, let tag):
                var credentials: String?
                do {
                    credentials = try run.policy.registryAuth.map { path throws(RegistryClient.Failure) in
                        try RegistryClient.credentials(file: path.value)
                    }
                } catch {
                    throw Failure(message: "\(error)")
                }
                let client = RegistryClient(reference: reference, transport: env.transport, credentials: credentials)
                registry = client
                do {
                    resolved = try RegistryRelease.resolve(client, tag: tag, architecture: env.system.architecture())
                } catch {
                    throw Failure(message: "\(error)")
                }
                var offered = resolved!.release
                for index in offered.files.indices { offered.files[index].headers = client.headers }
                metadata = offered
                metadataBytes = offered.bytes
                if run.policy.publicKey == nil {
                    env.reporter.note("no public_key: this release is not authenticated; whoever can change the registry's "
                        + "content or the connection chooses what is installed")
                    report(index, step, .done, "offered \(describe(offered)) (manifest \(resolved!.manifestDigest.prefix(19))…), "
                        + "unauthenticated")
                } else {
                    report(index, step, .done, "manifest \(resolved!.manifestDigest.prefix(19))… of \(reference):\(tag); its "
                        + "signature is checked next")
                }
            case .verifyCosign(let spec):
                guard let registry, let resolved else { throw Failure(message: "no manifest was fetched") }
                let signed: String
                do {
                    let key = try Signature.key(spec)
                    var digests = [resolved.tagDigest]
                    if resolved.manifestDigest != resolved.tagDigest { digests.append(resolved.manifestDigest) }
                    signed = try CosignSignature.verify(registry, digests: digests, key: key)
                } catch {
                    throw Failure(message: "\(error)")
                }
                report(index, step, .pass, "cosign signature of \(signed.prefix(19))… verifies; offered \(describe(metadata!))")
            case .verifySignature(let spec):
                let key: [UInt8]
                do {
                    key = try Signature.key(spec)
                } catch {
                    throw Failure(message: "\(error)")
                }
                // Which signature covers the metadata is the one thing read before it verifies.
                let signatureURL = ReleaseMetadata.namedMetadataSignature(metadataBytes, metadataURL: plan.metadataURL)
                    ?? (ReleaseMetadata.isKubeSoloForm(metadataBytes) ? nil : plan.metadataURL + ".sig")
                if let signatureURL {
                    let signature = try fetch(signatureURL, limit: 4096, what: "signature")
                    do {
                        try Signature.verify(message: metadataBytes, signatureFile: signature, key: key, what: "latest.json")
                    } catch {
                        throw Failure(message: "\(error)")
                    }
                }
                var offered = try parseMetadata()
                if signatureURL == nil {
                    let unsigned = offered.files.filter { $0.signatureURL == nil }.map(\.name)
                    guard unsigned.isEmpty else {
                        throw Failure(message: "the release signs neither its metadata (no metadata_sig_url) nor "
                            + unsigned.joined(separator: " and ") + " (no *_sig_url): with a public key configured, an "
                            + "unauthenticated release is refused")
                    }
                    env.reporter.note("latest.json names no metadata_sig_url: its version, channel and other fields are not "
                        + "authenticated; each file's signature is checked after the download")
                }
                if let expires = offered.expires, expires < env.clock.now() {
                    throw Failure(message: "the metadata expired at \(expires) (now \(env.clock.now()))")
                }
                learnSizes(&offered)
                report(index, step, .pass, (signatureURL == nil ? "metadata unsigned, every file signed" : "signature verifies")
                    + "; offered \(describe(offered))" + (offered.expires.map { "; valid until \($0)" } ?? ""))
            case .compareVersions:
                let offered = metadata!
                if offered.version == running {
                    report(index, step, .stop, "up to date: the node runs \(running)")
                    if !run.dryRun, state.phase != .staged { try transition(.idle) }
                    return .upToDate(version: running)
                }
                if let staged = stagedVersion {
                    if staged == offered.version {
                        alreadyStaged = true
                        report(index, step, .pass, "running \(running); \(staged) is staged already in slot "
                            + "\(state.targetSlot ?? booted.other.rawValue)")
                        return nil
                    }
                    // Another release: the staged one is dropped and this one downloaded.
                    if !run.dryRun {
                        env.reporter.note("\(staged) is staged, but \(offered.version) is offered now: staging \(offered.version) instead")
                        state.policySHA256 = run.policySHA256
                        state.bootedSlot = booted.rawValue
                        try transition(.checking, .init(fromVersion: running))
                    }
                    stagedVersion = nil
                }
                if let earlier = try env.store.readSidecar().rollback(of: offered.version) {
                    let reason = "\(offered.version) was rolled back at \(earlier.at.wholeSeconds) (\(earlier.reason)); waiting for a newer "
                        + "version, or `--force` to install it again"
                    if run.force {
                        report(index, step, .pass, "running \(running), offered \(offered.version), which was rolled back at "
                            + "\(earlier.at.wholeSeconds): installing it again (--force)")
                        return nil
                    }
                    report(index, step, .block, reason)
                    if run.checkOnly { return .deferred(gate: step.id, reason: reason) }
                    if run.dryRun {
                        if blockedBy == nil { blockedBy = step.id }
                        return nil
                    }
                    try transition(.idle, .init(deferral: UpdateState.Deferral(gate: step.id, reason: reason, at: env.clock.now())))
                    return .deferred(gate: step.id, reason: reason)
                }
                report(index, step, .pass, "running \(running), offered \(offered.version)")
            case .gate(let gate):
                let committed = (try? env.backend.committedVersion()) ?? (state.phase == .success ? state.toVersion : nil)
                // `activate` reads no metadata: the staged release stands for it.
                let offered = metadata ?? ReleaseMetadata(version: stagedVersion ?? state.toVersion ?? "", format: .image, files: [],
                                                          bytes: [])
                var input = GateInput(
                    offered: offered, runningVersion: running, committedVersion: committed, state: state,
                    imageDirectory: env.backend.imageDirectory(for: booted.other), force: run.force,
                    channel: run.policy.channel.value, dataDir: run.policy.dataDir.value)
                let backend = env.backend
                let passive = booted.other
                input.passiveFreeBytes = { try backend.freeBytes(for: passive) }
                input.dryRun = run.dryRun
                input.skipFleetLock = run.skipFleetLock
                switch env.gates.evaluate(gate, input) {
                case .pass(let detail):
                    report(index, step, .pass, detail)
                    if !run.dryRun, type(of: gate.kind).placement == .heldAcrossReboot, let lock {
                        let held = Sidecar.Held(gate: gate.name.value, detail: detail, at: env.clock.now())
                        try env.store.updateSidecar(holding: lock) { sidecar in
                            sidecar.held.removeAll { $0.gate == held.gate }
                            sidecar.held.append(held)
                        }
                    }
                case .skipped(let detail): report(index, step, .skip, detail)
                case .error(let detail): throw Failure(message: detail)
                case .refuse(let reason):
                    report(index, step, .fail, reason)
                    if !run.dryRun { try transition(.failed, .init(error: "refused by \(gate.name.value): \(reason)")) }
                    return .refused(gate: gate.name.value, reason: reason)
                case .block(let reason):
                    report(index, step, .block, reason)
                    if run.dryRun {
                        if blockedBy == nil { blockedBy = gate.name.value }
                        return nil
                    }
                    let deferral = UpdateState.Deferral(gate: gate.name.value, reason: reason, at: env.clock.now())
                    if state.phase == .staged {
                        // The staged release stays; the deferral is recorded beside it.
                        state.deferral = deferral
                        state.lastRun = records
                        try env.store.save(state, clock: env.clock)
                    } else {
                        try transition(.idle, .init(deferral: deferral))
                    }
                    return .deferred(gate: gate.name.value, reason: reason)
                }
            case .releaseHeld(let gate, _):
                if run.checkOnly { return skip(index, step, "check takes and gives back nothing") }
                if stagedVersion != nil {
                    return skip(index, step, "\(stagedVersion!) is staged: a slot taken for it is kept for its activation")
                }
                if run.dryRun { return skip(index, step, HeldGates.previewRelease(gate, env.checks) ?? "dry run: not carried out") }
                switch HeldGates.release(gate, env.checks) {
                case .done(let detail)?:
                    report(index, step, .done, detail)
                    if let lock { try env.store.updateSidecar(holding: lock) { $0.held.removeAll { $0.gate == gate.name.value } } }
                case .refused(let reason)?, .unreachable(let reason)?:
                    report(index, step, .skip, "not given back now (\(reason)); the next run tries again")
                case nil:
                    break
                }
            case .download:
                if alreadyStaged { return skip(index, step, "\(metadata!.version) is staged already") }
                let offered = metadata!
                let target = booted.other
                if run.dryRun {
                    report(index, step, .skip, "dry run: would download \(offered.fileNames) "
                        + (offered.size.map { "(\(ByteText.show(UInt64($0)))) " } ?? "") + "into slot \(target.rawValue)")
                    return nil
                }
                state.targetSlot = target.rawValue
                try transition(.downloading, .init(toVersion: offered.version, fromVersion: running))
                do {
                    paths = try env.backend.prepareFiles(for: target, names: offered.files.map(\.name))
                } catch {
                    throw Failure(message: "\(error)")
                }
                try downloadAll(offered.files, total: offered.size)
                report(index, step, .done, offered.files.map { "\($0.name) \(ByteText.show(UInt64(written[$0.name] ?? 0)))" }
                    .joined(separator: ", ") + " written for slot \(target.rawValue)")
            case .verifyFiles:
                if alreadyStaged { return skip(index, step, "\(metadata!.version) is staged already") }
                guard !run.dryRun else { return skip(index, step) }
                let offered = metadata!
                for file in offered.files {
                    let count = written[file.name] ?? 0
                    if let size = file.size, count != size {
                        throw Failure(message: "size mismatch: \(count) bytes of \(file.name) downloaded, \(size) "
                            + (file.sizeAnnounced ? "announced" : "said by the server (Content-Length)"))
                    }
                    guard digests[file.name] == file.sha256 else {
                        throw Failure(message: "sha256 mismatch: \(file.name) hashes to \(digests[file.name] ?? "?"), the metadata "
                            + "says \(file.sha256)")
                    }
                }
                report(index, step, .pass, offered.files.map { "\($0.name) sha256 \($0.sha256.prefix(12))… matches" }
                    .joined(separator: "; "))
            case .verifyFileSignatures(let spec):
                if alreadyStaged { return skip(index, step, "\(metadata!.version) is staged already") }
                guard !run.dryRun else { return skip(index, step) }
                let offered = metadata!
                let key: [UInt8]
                do {
                    key = try Signature.key(spec)
                } catch {
                    throw Failure(message: "\(error)")
                }
                var said: [String] = []
                for file in offered.files {
                    guard let url = file.signatureURL else {
                        said.append("\(file.name): covered by the signed metadata's SHA-256")
                        continue
                    }
                    do {
                        let signature = try signatureFiles[file.name] ?? fetch(url, limit: 4096, what: "signature")
                        try Signature.verify(file: paths[file.name] ?? "", signatureFile: signature, key: key, what: file.name)
                    } catch let failure as Failure {
                        throw failure
                    } catch {
                        throw Failure(message: "\(error)")
                    }
                    said.append("\(file.name): signature verifies")
                }
                report(index, step, .pass, said.joined(separator: "; "))
            case .stage:
                if alreadyStaged { return skip(index, step, "\(metadata!.version) is staged already") }
                guard !run.dryRun else { return skip(index, step) }
                let offered = metadata!
                do {
                    try env.backend.stage(files: paths, slot: booted.other, version: offered.version, fromVersion: running)
                } catch {
                    throw Failure(message: "\(error)")
                }
                TestPause.here("apply.staged-unsaved")
                try transition(.staged)
                report(index, step, .done, "slot \(booted.other.rawValue) holds \(offered.version)")
                if run.policy.activation.value == .separate {
                    env.reporter.note("activation: separate: \(offered.version) waits in slot \(booted.other.rawValue) for "
                        + "`updatectl activate`")
                }
            case .activate:
                guard !run.dryRun else { return skip(index, step) }
                let version = metadata?.version ?? stagedVersion ?? state.toVersion ?? ""
                do {
                    let boot = try env.backend.bootID()
                    // Recorded before the bootloader is told: the Go agent may rewrite state.json.
                    if let lock {
                        try env.store.updateSidecar(holding: lock) { sidecar in
                            sidecar.activation = Sidecar.Activation(version: version, slot: booted.other.rawValue, bootID: boot)
                        }
                    }
                    try env.backend.activate(slot: booted.other, version: version, fromVersion: running)
                    state.activationBootID = boot
                    state.targetSlot = booted.other.rawValue
                } catch {
                    throw Failure(message: "\(error)")
                }
                TestPause.here("apply.activated-unsaved")
                report(index, step, .done, "slot \(booted.other.rawValue) boots next")
                state.deferral = nil
                try transition(.activated)
            case .reboot(let mode):
                guard !run.dryRun else { return skip(index, step) }
                switch mode {
                case .auto:
                    do {
                        try env.backend.reboot()
                    } catch {
                        // Activated already: the state stays activated; the next boot verifies.
                        report(index, step, .fail, "\(error)")
                        return .failed("the update is activated but the reboot failed: \(error); reboot the node, then run "
                            + "`updatectl healthcheck`")
                    }
                    report(index, step, .done, "rebooting into slot \(booted.other.rawValue)")
                case .manual:
                    report(index, step, .stop, "reboot the node, then run `updatectl healthcheck`")
                }
                state.lastRun = records
                try env.store.save(state, clock: env.clock)
            default:
                break
            }
            return nil
        }

        /// "1.1.0 (vmlinuz and kubesolo-os.gz, 120 MiB) for amd64 on stable".
        func describe(_ offered: ReleaseMetadata) -> String {
            var text = "\(offered.version) (\(offered.fileNames)" + (offered.size.map { ", \(ByteText.show(UInt64($0)))" } ?? "") + ")"
            if let architecture = offered.architecture { text += " for \(architecture)" }
            if let channel = offered.channel { text += " on \(channel)" }
            return text + " at " + offered.files.map(\.url).joined(separator: " and ")
        }

        /// Sizes the metadata does not give, from the server's `Content-Length` (a HEAD): the
        /// free-space gate needs them, and a download longer than said is cut off.
        mutating func learnSizes(_ offered: inout ReleaseMetadata) {
            for index in offered.files.indices where offered.files[index].size == nil {
                let request = TransportRequest(url: offered.files[index].url, maxBytes: 0, timeout: .seconds(30), method: "HEAD")
                if let response = try? env.transport.get(request, onData: { _ in }), response.status == 200,
                    let length = response.contentLength, length > 0, length <= ReleaseMetadata.maximumSize
                {
                    offered.files[index].size = length
                }
            }
            metadata = offered
        }

        /// Parses the fetched metadata (after its signature verified, when there is a key).
        mutating func parseMetadata() throws -> ReleaseMetadata {
            do {
                let parsed = try ReleaseMetadata.parse(metadataBytes, metadataURL: plan.metadataURL,
                                                       serverIsFile: run.policy.server?.value.scheme == "file")
                metadata = parsed
                return parsed
            } catch {
                throw Failure(message: "\(error)")
            }
        }

        mutating func skip(_ index: Int, _ step: Step, _ why: String = "dry run: not carried out") -> ApplyOutcome? {
            report(index, step, .skip, why)
            return nil
        }

        private var plan: Plan { run.plan }

        /// Tries of a small document before the run gives up on it: a server that is down for
        /// longer is the next timer run's to find, and an interactive `apply` or `check` should
        /// not wait minutes to say so.
        static let documentTries = 3

        /// A small document (metadata, a signature) whole. A failure on the link (the connection,
        /// a timeout, 5xx, 408, 429) is tried again after a random wait, as downloads are, but at
        /// most `documentTries` times (and never more than `download.retries` allows).
        func fetch(_ url: String, limit: Int, what: String) throws -> [UInt8] {
            var failed = 0
            while true {
                do {
                    return try fetchOnce(url, limit: limit, what: what)
                } catch let transient as TransientFetch {
                    failed += 1
                    guard failed < Self.documentTries, failed <= run.policy.download.retries.value else {
                        throw Failure(message: transient.message + (failed > 1 ? " (\(failed) tries)" : ""))
                    }
                    let wait = ReleaseDownload.backoff(tries: failed, random: env.jitter())
                    env.reporter.note("\(transient.message); trying again in \(DurationText.format(wait))")
                    env.clock.sleep(for: wait)
                }
            }
        }

        private struct TransientFetch: Error { var message: String }

        private func fetchOnce(_ url: String, limit: Int, what: String) throws -> [UInt8] {
            do {
                let (response, body) = try env.transport.fetch(TransportRequest(url: url, maxBytes: limit))
                if ReleaseDownload.isTransient(status: response.status) {
                    throw TransientFetch(message: "GET \(url) answered HTTP \(response.status)")
                }
                guard response.status == 200 else {
                    throw Failure(message: "GET \(url) answered HTTP \(response.status)"
                        + (what == "signature" && response.status == 404 ? ": the signature is missing" : ""))
                }
                return body
            } catch let failure as Failure {
                throw failure
            } catch let transient as TransientFetch {
                throw transient
            } catch TransportError.tooLarge(let limit) {
                throw Failure(message: "the \(what) at \(url) is larger than \(limit) bytes; cut off")
            } catch TransportError.failed(let reason) {
                throw TransientFetch(message: "cannot fetch the \(what) \(url): \(reason)")
            } catch TransportError.timedOut(let reason) {
                throw TransientFetch(message: "cannot fetch the \(what) \(url): timed out: \(reason)")
            } catch {
                throw Failure(message: "cannot fetch the \(what) \(url): \(error)")
            }
        }

        /// Downloads every file of the release at once, each to its path, hashing while it
        /// writes; `total` is the whole release's size, for progress.
        mutating func downloadAll(_ files: [ReleaseMetadata.File], total: Int?) throws {
            var jobs: [ReleaseDownload.Job] = []
            // With a key that can be read, each file's signature is fetched before the file; one
            // that cannot be had now is fetched again, and its failure reported, at verification.
            let verifiesFiles = run.plan.steps.contains { step in
                if case .verifyFileSignatures(let spec) = step.operation { return (try? Signature.key(spec)) != nil }
                return false
            }
            for file in files {
                guard let path = paths[file.name] else { throw Failure(message: "the backend gave no path for \(file.name)") }
                if verifiesFiles, let url = file.signatureURL {
                    signatureFiles[file.name] = try? fetch(url, limit: 4096, what: "signature")
                }
                jobs.append(ReleaseDownload.Job(file: file, path: path))
            }
            let settings = run.policy.download
            let download = ReleaseDownload(
                transport: env.transport, reporter: env.reporter, clock: env.clock,
                settings: ReleaseDownload.Settings(minRate: settings.minRate.value, maxRate: settings.maxRate.value,
                                                   retries: settings.retries.value, atOnce: env.downloadsAtOnce,
                                                   jitter: env.jitter),
                total: total ?? 0)
            for (job, downloaded) in zip(jobs, try download.run(jobs)) {
                written[job.file.name] = downloaded.count
                digests[job.file.name] = downloaded.sha256
            }
        }
    }
}
