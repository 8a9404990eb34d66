import YAMLTree

/// The rules that relate several values, each with its reasoning in the message. Values that were
/// written wrong (already reported) are left out, so one mistake gives one finding.
struct CrossChecks {
    let policy: Policy
    /// The `updates:` key, where policy-wide findings land.
    let anchor: Node
    /// The policy's bytes, to find where a value that starts at a mark ends.
    let source: [UInt8]
    var findings: [Finding] = []

    /// The end of the one-line scalar starting at `mark`: the closing quote of a quoted one, else
    /// the last character before `,`, `}`, `]`, a comment or the line's end. Values keep only
    /// their start (a policy holds hundreds of thousands of them); findings want the span.
    func end(of mark: Mark?) -> Mark? {
        guard let mark, mark.offset < source.count else { return nil }
        var index = mark.offset
        let first = source[index]
        if first == UInt8(ascii: "\"") || first == UInt8(ascii: "'") {
            index += 1
            while index < source.count, source[index] != 0x0A {
                if first == UInt8(ascii: "\""), source[index] == UInt8(ascii: "\\") {
                    index += 2
                    continue
                }
                if source[index] == first {
                    index += 1
                    break
                }
                index += 1
            }
        } else {
            while index < source.count {
                let byte = source[index]
                if byte == 0x0A || byte == 0x0D || byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}")
                    || byte == UInt8(ascii: "]") || (byte == UInt8(ascii: "#") && index > 0 && source[index - 1] == 0x20)
                {
                    break
                }
                index += 1
            }
            while index > mark.offset, source[index - 1] == 0x20 || source[index - 1] == 0x09 { index -= 1 }
        }
        guard index > mark.offset, index <= source.count else { return nil }
        let width = String(decoding: source[mark.offset..<index], as: UTF8.self).unicodeScalars.count
        return Mark(line: mark.line, column: mark.column + width, offset: index)
    }

    func at(_ origin: Origin) -> Mark { origin.mark ?? anchor.start }
    func format(_ duration: Duration) -> String { DurationText.format(duration) }
    func said(_ origin: Origin) -> String { origin.isDefault ? " (the default)" : "" }

    mutating func run() {
        let health = policy.healthcheck
        let timeout = health.timeout
        let timeoutUsable = !timeout.origin.isInvalid

        if timeoutUsable {
            settleChecks(health)
            // Read in place: a policy may list tens of thousands of probes, and few are reported.
            let long = health.probes.withUnsafeBufferPointer { probes in
                probes.indices.filter { !probes[$0].timeout.origin.isInvalid && probes[$0].timeout.value > timeout.value }
            }
            for index in long {
                let probe = health.probes[index]
                findings.append(
                    Finding(
                        .probeTimeoutOverRun,
                        "probe `\(probe.name.value)` may take \(format(probe.timeout.value))\(said(probe.timeout.origin)), longer "
                            + "than the whole verification run (healthcheck.timeout \(format(timeout.value))\(said(timeout.origin))): "
                            + "the run's deadline cuts it off first",
                        start: at(probe.timeout.origin.isDefault ? originOf(probe.source) : probe.timeout.origin),
                        end: end(of: probe.timeout.origin.mark), help: "shorten the probe's timeout or lengthen healthcheck.timeout"))
            }
            let interval = health.interval
            if !interval.origin.isInvalid, interval.value < .seconds(1), let mark = interval.origin.mark {
                findings.append(
                    Finding(
                        .shortInterval,
                        "healthcheck.interval \(format(interval.value)) is under a second: probe rounds would run back to back "
                            + "(updatectl waits at least 100ms between them)",
                        start: mark, end: end(of: mark), help: "use a few seconds, e.g. 10s"))
            }
            if !interval.origin.isInvalid, interval.value > timeout.value {
                findings.append(
                    Finding(
                        .intervalOverTimeout,
                        "healthcheck.interval \(format(interval.value)) is longer than healthcheck.timeout "
                            + "\(format(timeout.value))\(said(timeout.origin)): only one probe round can run, so one slow start "
                            + "fails the update",
                        start: at(interval.origin), end: end(of: interval.origin.mark),
                        help: "make the interval a fraction of the timeout, e.g. 10s"))
            }
        }

        let explicitProbes = health.probes.contains { if case .defaulted = $0.source { return false } else { return true } }
        if case .policy(let mark) = policy.autoRollbackAfter.origin, policy.autoRollbackAfter.value == 0, explicitProbes {
            findings.append(
                Finding(
                    .rollbackOff,
                    "auto_rollback_after is 0 while probes are configured: failed verification is counted but never rolls "
                        + "back, so a bad update stays on the node until someone acts",
                    start: mark, end: end(of: mark), help: "set auto_rollback_after to the failed runs that should roll back, e.g. 3"))
        } else if policy.autoRollbackAfter.origin.isDefault,
            health.probes.contains(where: { if case .entry = $0.source { return true } else { return false } })
        {
            findings.append(
                Finding(
                    .rollbackOff,
                    "probes are configured but auto_rollback_after is not set, so it is 0: failed verification never rolls back",
                    start: anchor.start, help: "add `auto_rollback_after: 3` (or the count you want)"))
        }

        if let server = policy.server, policy.publicKey == nil, let mark = server.origin.mark {
            let scheme = server.value.scheme
            if scheme == "https" {
                findings.append(
                    Finding(
                        .unauthenticated,
                        "no public_key: the server is authenticated by TLS, but the release itself is not signed-checked",
                        start: mark, end: end(of: mark), help: "set `public_key: ed25519:<base64>` and sign latest.json",
                        severity: .info))
            } else {
                findings.append(
                    Finding(
                        .unauthenticated,
                        "updates come over `\(scheme)` without a public_key: anyone who can change those bytes can install "
                            + "an OS on the node",
                        start: mark, end: end(of: mark), help: "set `public_key: ed25519:<base64>` and sign latest.json"))
            }
        }

        let preflight = policy.preflight
        for index in preflight.indices {
            for command in preflight[index].kind.commands { shellVariableCheck(command, "gate `\(preflight[index].name.value)`") }
        }
        health.probes.withUnsafeBufferPointer { probes in
            for index in probes.indices {
                for command in probes[index].kind.commands { shellVariableCheck(command, "probe `\(probes[index].name.value)`") }
            }
        }
        if case .command(let backend) = policy.backend {
            for (operation, command) in backend.commands.sorted(by: { $0.key < $1.key }) {
                shellVariableCheck(command, "the backend's `\(operation)`")
            }
        }

        // Each kind's own checks: of each entry, then of the whole policy.
        preflight.withUnsafeBufferPointer { gates in
            for gate in gates.indices { PolicyKinds.checkedGate(gates[gate].kindType)?.check(entry: gates[gate], &self) }
        }
        health.probes.withUnsafeBufferPointer { probes in
            for probe in probes.indices { PolicyKinds.checkedProbe(probes[probe].kindType)?.check(entry: probes[probe], &self) }
        }
        for kind in PolicyKinds.decodableGates { kind.checkPolicy(&self) }

        if case .command(let backend) = policy.backend, policy.reboot.value == .auto, backend.commands["reboot"] == nil,
            let mark = policy.reboot.origin.mark
        {
            findings.append(
                Finding(
                    .rebootCommandMissing,
                    "reboot is auto, but the command backend has no `reboot` command: the update is activated and the node "
                        + "never reboots into it",
                    start: mark, end: end(of: mark), help: "add `reboot: [/usr/sbin/reboot]` to the backend, or set `reboot: manual`"))
        }
    }

    static let shells: Set<String> = ["sh", "bash", "dash", "ash", "ksh", "mksh", "zsh", "busybox"]

    /// `[/bin/sh, -c, "… ${VERSION} …"]`: the value becomes shell code.
    private mutating func shellVariableCheck(_ command: Located<[String]>, _ what: @autoclosure () -> String) {
        let argv = command.value
        guard let program = argv.first, let mark = command.origin.mark,
            Self.shells.contains(
                String(program[(program.utf8.lastIndex(of: UInt8(ascii: "/")).map(program.index(after:)) ?? program.startIndex)...]))
        else { return }
        var index = 1
        if program.hasSuffix("busybox"), argv.count > 1, Self.shells.contains(argv[1]) { index = 2 }
        while index < argv.count, argv[index].hasPrefix("-"), argv[index] != "--" {
            let option = argv[index]
            index += 1
            guard !option.hasPrefix("--"), option.contains("c"), index < argv.count else { continue }
            let script = argv[index]
            guard let start = script.range(of: "${"), let close = script[start.upperBound...].firstIndex(of: "}") else { return }
            let variable = String(script[start.upperBound..<close])
            findings.append(
                Finding(
                    .variableInShell,
                    "\(what()) substitutes `${\(variable)}` into a shell script (`\(option)`): a value with a quote or `;` in it "
                        + "becomes shell code",
                    start: mark, help: "pass it as an argument instead: [\(program), \(option), '… \"$1\" …', sh, \"${\(variable)}\"]"))
            return
        }
    }

    private func originOf(_ source: EntrySource) -> Origin {
        source.mark.map { .policy($0) } ?? .defaulted
    }

    private mutating func settleChecks(_ health: Healthcheck) {
        let timeout = health.timeout
        let settle = health.settle
        if !settle.origin.isInvalid, settle.value > .zero, settle.value >= timeout.value {
            findings.append(
                Finding(
                    .settleNotUnderTimeout,
                    "healthcheck.settle \(format(settle.value)) is not shorter than healthcheck.timeout "
                        + "\(format(timeout.value))\(said(timeout.origin)), which includes it: no probe round can run before "
                        + "the deadline, so verification can never pass",
                    start: at(settle.origin), end: end(of: settle.origin.mark),
                    help: "make healthcheck.timeout longer than the settle, with room for probe rounds"))
        }
    }

}
