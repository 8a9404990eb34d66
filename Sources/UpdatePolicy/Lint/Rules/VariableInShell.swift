/// A `${VARIABLE}` substituted into a shell script (`sh -c`), where a value becomes code.
enum VariableInShell: PolicyRule {
    static let rule = Rule(
        "UPD411", "variable-in-shell", .warning,
        summary: "A `${VARIABLE}` is substituted into the script of a shell's `-c`.",
        rationale: "updatectl substitutes the text itself; a value with a quote, `;` or `$(…)` in it becomes shell "
            + "code. Release versions come from the update server.",
        fix: "Pass the value as an argument and use it quoted: `[/bin/sh, -c, 'tool \"$1\"', sh, \"${VERSION}\"]`.",
        example: "updates:\n  preflight:\n    - exec: {command: [/bin/sh, -c, \"check ${VERSION}\"]}")

    static let shells: Set<String> = ["sh", "bash", "dash", "ash", "ksh", "mksh", "zsh", "busybox"]

    static func check(_ checks: inout CrossChecks) {
        let policy = checks.policy, preflight = policy.preflight
        for index in preflight.indices {
            for command in preflight[index].kind.commands { check(command, "gate `\(preflight[index].name.value)`", &checks) }
        }
        policy.healthcheck.probes.withUnsafeBufferPointer { probes in
            for index in probes.indices {
                for command in probes[index].kind.commands { check(command, "probe `\(probes[index].name.value)`", &checks) }
            }
        }
        if case .command(let backend) = policy.backend {
            for (operation, command) in backend.commands.sorted(by: { $0.key < $1.key }) {
                check(command, "the backend's `\(operation)`", &checks)
            }
        }
        for point in HookPoint.allCases {
            for command in policy.hooks[point] { check(command, "hook `\(point.rawValue)`", &checks) }
        }
    }

    /// `[/bin/sh, -c, "… ${VERSION} …"]`: the value becomes shell code.
    private static func check(_ command: Located<[String]>, _ what: @autoclosure () -> String, _ checks: inout CrossChecks) {
        let argv = command.value
        guard let program = argv.first, let mark = command.origin.mark,
            shells.contains(
                String(program[(program.utf8.lastIndex(of: UInt8(ascii: "/")).map(program.index(after:)) ?? program.startIndex)...]))
        else { return }
        var index = 1
        if program.hasSuffix("busybox"), argv.count > 1, shells.contains(argv[1]) { index = 2 }
        while index < argv.count, argv[index].hasPrefix("-"), argv[index] != "--" {
            let option = argv[index]
            index += 1
            guard !option.hasPrefix("--"), option.contains("c"), index < argv.count else { continue }
            let script = argv[index]
            guard let start = script.range(of: "${"), let close = script[start.upperBound...].firstIndex(of: "}") else { return }
            let variable = String(script[start.upperBound..<close])
            checks.findings.append(
                Finding(
                    .variableInShell,
                    "\(what()) substitutes `${\(variable)}` into a shell script (`\(option)`): a value with a quote or `;` in it "
                        + "becomes shell code",
                    start: mark, help: "pass it as an argument instead: [\(program), \(option), '… \"$1\" …', sh, \"${\(variable)}\"]"))
            return
        }
    }
}

extension RuleID {
    public static let variableInShell = VariableInShell.rule.id
}
