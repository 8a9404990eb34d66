#if canImport(Glibc)
import Glibc
#endif
public import UpdatePlan
public import UpdatePolicy

public enum ApplyOutcome: Sendable, Equatable {
    case upToDate(version: String)
    case activated(version: String, rebooted: Bool)
    case deferred(gate: String, reason: String)
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
        var imagePath = ""
        var digest = ""
        var written = 0
        var blockedBy: String?

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
            switch state.phase {
            case .activated where !run.dryRun && run.policy.reboot.value == .auto
                && state.activationBootID != nil && state.activationBootID == (try? env.backend.bootID()):
                // Activated, but the run stopped before its reboot: finish it.
                env.reporter.note("the update to \(state.toVersion ?? "a new version") is activated but the node has not "
                    + "rebooted since; rebooting now")
                try env.backend.reboot()
                return .activated(version: state.toVersion ?? "", rebooted: true)
            case .rolledBack where !run.dryRun && state.targetSlot != nil
                && state.targetSlot == (try? env.backend.bootedSlot())?.rawValue:
                // Rolled back, but the run stopped before its reboot: the node still runs the
                // rolled-back slot and the previous one boots next.
                let previous = Slot(rawValue: state.targetSlot ?? "a")?.other.rawValue ?? "a"
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
            case .checking, .downloading, .staged:
                if !run.dryRun {
                    let started = state.phase != .checking
                    if started { state.interruptedAttempts += 1 }
                    env.reporter.note("the previous attempt was interrupted in phase \(state.phase.rawValue); starting over")
                    if let slot = state.targetSlot.flatMap(Slot.init(rawValue:)) {
                        env.backend.invalidate(slot: slot)
                        // It may have been activated just before the interruption: boot the running slot.
                        if state.phase == .staged { try? env.backend.rollback(to: slot.other, version: "", fromVersion: "") }
                    }
                    try transition(.failed, .init(error: "interrupted in phase \(state.phase.rawValue)"))
                }
            default:
                break
            }
            if state.interruptedAttempts >= ApplyRun.interruptionLimit {
                return .failed("the last \(state.interruptedAttempts) attempts at \(state.toVersion ?? "this version") were "
                    + "interrupted (killed, or power lost mid-update); not retrying until someone looks: check the node, "
                    + "then run `updatectl state reset --yes`")
            }
            do {
                booted = try env.backend.bootedSlot()
                running = try env.backend.runningVersion()
            } catch {
                return .failed("the backend cannot say what the node runs: \(error)")
            }
            if !run.dryRun {
                state.policySHA256 = run.policySHA256
                state.bootedSlot = booted.rawValue
                try transition(.checking, .init(fromVersion: running))
            }
            for (index, step) in run.steps.enumerated() {
                do {
                    if let outcome = try perform(index, step) { return outcome }
                } catch let failure as Failure {
                    report(index, step, .fail, failure.message)
                    if let target = state.targetSlot.flatMap(Slot.init(rawValue:)), state.phase == .downloading {
                        env.backend.invalidate(slot: target)
                    }
                    if !run.dryRun { try transition(.failed, .init(error: "\(step.id): \(failure.message)")) }
                    return .failed("\(step.id): \(failure.message)")
                }
            }
            if run.dryRun { return .dryRun(blockedBy: blockedBy) }
            return .activated(version: metadata?.version ?? "", rebooted: run.policy.reboot.value == .auto)
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
                    let offered = try parseMetadata()
                    env.reporter.note("no public_key: this release is not authenticated; whoever can change the server's "
                        + "files or the connection chooses what is installed")
                    report(index, step, .done, "offered \(offered.version) (\(ByteText.show(UInt64(offered.size)))) at "
                        + "\(offered.imageURL), unauthenticated")
                }
            case .verifySignature(let spec):
                let signature = try fetch(plan.metadataURL + ".sig", limit: 4096, what: "signature")
                do {
                    let key = try Signature.key(spec)
                    try Signature.verify(message: metadataBytes, signatureText: signature, key: key)
                } catch {
                    throw Failure(message: "\(error)")
                }
                let offered = try parseMetadata()
                if let expires = offered.expires, expires < env.clock.now() {
                    throw Failure(message: "the metadata expired at \(expires) (now \(env.clock.now()))")
                }
                report(index, step, .pass, "signature verifies; offered \(offered.version) (\(ByteText.show(UInt64(offered.size)))) "
                    + "at \(offered.imageURL)" + (offered.expires.map { "; valid until \($0)" } ?? ""))
            case .compareVersions:
                let offered = metadata!
                if offered.version == running {
                    report(index, step, .stop, "up to date: the node runs \(running)")
                    if !run.dryRun { try transition(.idle) }
                    return .upToDate(version: running)
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
                let input = GateInput(
                    offered: metadata!, runningVersion: running, committedVersion: committed, state: state,
                    imageDirectory: env.backend.imageDirectory(for: booted.other), force: run.force,
                    channel: run.policy.channel.value, dataDir: run.policy.dataDir.value)
                switch env.gates.evaluate(gate, input) {
                case .pass(let detail): report(index, step, .pass, detail)
                case .skipped(let detail): report(index, step, .skip, detail)
                case .error(let detail): throw Failure(message: detail)
                case .block(let reason):
                    report(index, step, .block, reason)
                    if run.dryRun {
                        if blockedBy == nil { blockedBy = gate.name.value }
                        return nil
                    }
                    let deferral = UpdateState.Deferral(gate: gate.name.value, reason: reason, at: env.clock.now())
                    try transition(.idle, .init(deferral: deferral))
                    return .deferred(gate: gate.name.value, reason: reason)
                }
            case .download:
                let offered = metadata!
                let target = booted.other
                if run.dryRun {
                    report(index, step, .skip, "dry run: would download \(ByteText.show(UInt64(offered.size))) into slot \(target.rawValue)")
                    return nil
                }
                state.targetSlot = target.rawValue
                try transition(.downloading, .init(toVersion: offered.version, fromVersion: running))
                imagePath = try env.backend.prepareImage(for: target)
                try download(offered)
                report(index, step, .done, "\(ByteText.show(UInt64(written))) written to slot \(target.rawValue)")
            case .verifySize:
                guard !run.dryRun else { return skip(index, step) }
                let offered = metadata!
                guard written == offered.size else {
                    throw Failure(message: "size mismatch: \(written) bytes downloaded, \(offered.size) announced")
                }
                report(index, step, .pass, "\(written) bytes, as announced")
            case .verifyDigest:
                guard !run.dryRun else { return skip(index, step) }
                let offered = metadata!
                guard digest == offered.sha256 else {
                    throw Failure(message: "sha256 mismatch: the image hashes to \(digest), the metadata says \(offered.sha256)")
                }
                report(index, step, .pass, "sha256 \(digest.prefix(16))… matches")
            case .stage:
                guard !run.dryRun else { return skip(index, step) }
                let offered = metadata!
                do {
                    try env.backend.stage(image: imagePath, slot: booted.other, version: offered.version, fromVersion: running)
                } catch {
                    throw Failure(message: "\(error)")
                }
                TestPause.here("apply.staged-unsaved")
                try transition(.staged)
                report(index, step, .done, "slot \(booted.other.rawValue) holds \(offered.version)")
            case .activate:
                guard !run.dryRun else { return skip(index, step) }
                let offered = metadata!
                do {
                    try env.backend.activate(slot: booted.other, version: offered.version, fromVersion: running)
                    state.activationBootID = try env.backend.bootID()
                } catch {
                    throw Failure(message: "\(error)")
                }
                TestPause.here("apply.activated-unsaved")
                report(index, step, .done, "slot \(booted.other.rawValue) boots next")
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

        mutating func skip(_ index: Int, _ step: Step) -> ApplyOutcome? {
            report(index, step, .skip, "dry run: not carried out")
            return nil
        }

        private var plan: Plan { run.plan }

        func fetch(_ url: String, limit: Int, what: String) throws -> [UInt8] {
            do {
                let (response, body) = try env.transport.fetch(TransportRequest(url: url, maxBytes: limit))
                guard response.status == 200 else {
                    throw Failure(message: "GET \(url) answered HTTP \(response.status)"
                        + (what == "signature" && response.status == 404 ? ": the signature is missing" : ""))
                }
                return body
            } catch let failure as Failure {
                throw failure
            } catch TransportError.tooLarge(let limit) {
                throw Failure(message: "the \(what) at \(url) is larger than \(limit) bytes; cut off")
            } catch {
                throw Failure(message: "cannot fetch the \(what) \(url): \(error)")
            }
        }


        mutating func download(_ offered: ReleaseMetadata) throws {
            let fd = open(imagePath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard fd >= 0 else { throw Failure(message: "\(SystemError("cannot create", imagePath))") }
            defer { close(fd) }
            var hasher = SHA256Stream()
            var count = 0
            var lastReport = 0
            let reporter = env.reporter
            let path = imagePath
            let minRate = run.policy.download.minRate.value
            let deadline = ApplyRun.downloadDeadline(size: offered.size, minRate: minRate)
            do {
                _ = try env.transport.get(TransportRequest(
                    url: offered.imageURL, maxBytes: offered.size, timeout: deadline,
                    lowSpeed: minRate > 0 ? (minRate, 60) : nil
                )) { chunk in
                    hasher.update(chunk)
                    try AtomicFile.writeAll(fd, chunk, path: path)
                    count += chunk.count
                    if count - lastReport >= max(1, offered.size / 100) || count == offered.size {
                        lastReport = count
                        reporter.progress(bytes: count, total: offered.size)
                    }
                }
            } catch TransportError.tooLarge {
                throw Failure(message: "the image is larger than the \(offered.size) bytes announced; cut off")
            } catch TransportError.timedOut(let reason) {
                let limit = deadline.map { "its deadline of \(DurationText.format($0)) (the image's size at "
                    + "`download.min_rate` \(RateText.format(minRate)), plus a minute)" } ?? "its deadline"
                throw Failure(message: "the download of \(offered.imageURL) was stopped: slower than \(RateText.format(minRate)) "
                    + "for a minute, or longer than \(limit) (\(reason)); on a slower link lower `download.min_rate`")
            } catch {
                throw Failure(message: "the download of \(offered.imageURL) failed: \(error)")
            }
            guard fsync(fd) == 0 else { throw Failure(message: "\(SystemError("cannot fsync", imagePath))") }
            written = count
            digest = hasher.finalizeHex()
        }
    }
}

extension Plan {
    /// `<server>/<channel>/latest.json`.
    public var metadataURL: String {
        server.map { Planner.metadataURL(server: $0.value, channel: channel.value) } ?? ""
    }
}


