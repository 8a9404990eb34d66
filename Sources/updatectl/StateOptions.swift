import ArgumentParser
import UpdateAgent
import UpdatePlan
import UpdatePolicy

#if canImport(Glibc)
import Glibc
#endif

/// `--state FILE`, else `<data_dir>/update/state.json` from the policy, else the upstream default.
struct StateOptions: ParsableArguments {
    @Option(
        help: "The state file (default: <data_dir>/update/state.json from the policy, else \(StateStore.defaultPath)).", completion: .file()
    )
    var state: String?

    func path(policy: Policy?) -> String {
        if let state { return state }
        if let policy { return StateStore.path(dataDir: policy.dataDir.value) }
        return StateStore.defaultPath
    }
}

enum Clocks {
    /// The wall clock; in debug builds `UPDATECTL_TEST_NOW=<RFC 3339>` fixes it, for tests, and
    /// makes waits virtual: a settle or an interval moves the clock on at once instead of sleeping.
    static var wall: any RunClock {
        if let text = TestSwitches.value("NOW"), let now = Timestamp.parse(text) {
            return FixedWallClock(now)
        }
        return SystemRunClock()
    }
}

enum PolicyLoader {
    /// Lints and decodes a policy for a command that acts on it; lint errors print as `lint`
    /// prints them and exit 1, an unreadable file exits 2.
    static func load(_ path: String, consequence: String = "fix them first") throws -> Policy {
        try loadWithSource(path, consequence: consequence).policy
    }

    /// The policy and the SHA-256 of its bytes (recorded in the state): the YAML policy at `path`
    /// (nil: none), with update.conf under it and the flags over it. With `discovered`, a file the
    /// search order found (cloud-init's user-data) that has no `updates:` section, and no
    /// update.conf, means the node has no update policy: said, and exit 0, so the shipped timer
    /// does not fail every hour.
    static func loadWithSource(
        _ path: String?, consequence: String = "fix them first", discovered: Bool = false,
        flags: PolicyFlags? = nil
    ) throws -> (policy: Policy, sha256: String) {
        let conf = flags?.confPath
        switch PolicyFiles.load(path, discovered: discovered, conf: conf, flags: flags?.values ?? []) {
        case .unreadable(let problem):
            printError("error: cannot read \(problem.path): \(problem.reason)")
            throw ExitStatus.usage.exitCode
        case .noPolicy:
            printLine("no update policy on this node: \(path ?? "") (found by the search order) has no `updates:` section; nothing to do")
            throw ExitStatus.success.exitCode
        case .errors(let results, let flagFindings):
            let report = LintReport(files: results.map { LintReport.File(path: DisplayPath.relative($0.file), result: $0) })
            if !results.isEmpty { printErrorText(TextRenderer.render(report)) }
            for finding in flagFindings { printError("error: \(finding.message)" + (finding.help.map { " (\($0))" } ?? "")) }
            let named = results.map(\.file).map(DisplayPath.relative) + (flagFindings.isEmpty ? [] : ["the command line"])
            printError("error: \(named.joined(separator: " and ")) \(named.count == 1 ? "has" : "have") lint errors, \(consequence)")
            throw ExitStatus.failure.exitCode
        case .policy(var policy, let sha256):
            policy.file = DisplayPath.relative(path ?? conf ?? "<command line>")
            return (policy, sha256)
        }
    }
}

extension AgentEnvironment {
    /// The live environment for a policy: real processes, libcurl, the policy's backend.
    static func live(policy: Policy, statePath: String, reporter: any RunReporter) -> AgentEnvironment {
        let runner = ProcessRunner()
        let proxy = policy.download.proxy.map { ProxySettings(url: $0.value.text, noProxy: policy.download.noProxy?.value) }
        return AgentEnvironment(
            clock: Clocks.wall, runner: runner, transport: CurlTransport(proxy: proxy), system: LiveSystem(),
            backend: AgentEnvironment.backend(for: policy, runner: runner), store: StateStore(path: statePath),
            reporter: reporter)
    }
}

/// `--strict`: like sshd's StrictModes, refuse a policy or public key file others could change,
/// or a state directory the running user does not own, instead of warning.
struct StrictOption: ParsableArguments {
    @Flag(
        help: "Refuse (exit 1) instead of warning when others could change the policy or the key file, or the state directory is not yours."
    )
    var strict = false

    func check(policyFiles: [String], keyFiles: [String], caFile: String?, statePath: String) throws {
        let directory = statePath.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let problems = HostChecks.strictModes(
            policyFiles: policyFiles, keyFiles: keyFiles, caFile: caFile, stateDirectory: directory.isEmpty ? "." : directory)
        for problem in problems { printError((strict ? "error: " : "warning: ") + problem) }
        if strict, !problems.isEmpty { throw ExitStatus.failure.exitCode }
    }
}

/// The arguments of the commands that act on the node (`apply`, `healthcheck`, `rollback`): the
/// policy (or the search order), `--state` and `--strict`.
struct NodeArguments: ParsableArguments {
    @Argument(help: "The policy file; without one, the search order of docs/policy-discovery.md.", completion: .file())
    var policy: String?

    @OptionGroup var stateOptions: StateOptions
    @OptionGroup var strictOption: StrictOption
    @OptionGroup var flags: PolicyFlags

    /// What a node command runs with: the loaded policy, its SHA-256, its plan, and the live
    /// environment reporting to the console.
    struct Live {
        var policy: Policy
        var sha256: String
        var reporter: ConsoleReporter
        var environment: AgentEnvironment
        /// The plan, its signature steps holding the key read from the checked key file.
        var plan: UpdatePlan.Plan
    }

    func live() throws -> Live {
        let (policy, sha256, statePath) = try prepare()
        let reporter = ConsoleReporter()
        return Live(
            policy: policy, sha256: sha256, reporter: reporter,
            environment: AgentEnvironment.live(policy: policy, statePath: statePath, reporter: reporter),
            plan: TrustAnchors.pinningKey(Planner.plan(policy)))
    }

    /// Finds, lints and loads the policy, resolves the state path, and applies StrictModes.
    func prepare() throws -> (policy: Policy, sha256: String, statePath: String) {
        let (path, searched) = try PolicyLocator.resolve(policy, confFound: flags.standAlone)
        let loaded = try PolicyLoader.loadWithSource(path, discovered: searched, flags: flags)
        let statePath = stateOptions.path(policy: loaded.policy)
        try strictOption.check(
            policyFiles: [path, flags.confPath].compactMap { $0 }, keyFiles: loaded.policy.publicKey?.value.files ?? [],
            caFile: loaded.policy.caFile?.value, statePath: statePath)
        return (loaded.policy, loaded.sha256, statePath)
    }
}
