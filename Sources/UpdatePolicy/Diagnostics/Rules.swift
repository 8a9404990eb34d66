extension RuleID {
    public static let unusedSuppression = Rules.unusedSuppression.id
    public static let badSuppression = Rules.badSuppression.id

    public static let yamlSyntax = Rules.yamlSyntax.id
    public static let duplicateKey = Rules.duplicateKey.id
    public static let undefinedAlias = Rules.undefinedAlias.id
    public static let aliasBudget = Rules.aliasBudget.id
    public static let tooDeep = Rules.tooDeep.id
    public static let multipleDocuments = Rules.multipleDocuments.id
    public static let emptyFile = Rules.emptyFile.id
    public static let fileTooLarge = Rules.fileTooLarge.id
    public static let confSyntax = Rules.confSyntax.id
    public static let fixBreaksFile = Rules.fixBreaksFile.id

    public static let unknownKey = Rules.unknownKey.id
    public static let wrongType = Rules.wrongType.id
    public static let missingUpdates = Rules.missingUpdates.id
    public static let missingServer = Rules.missingServer.id
    public static let badEntry = Rules.badEntry.id
    public static let duplicateName = Rules.duplicateName.id
    public static let shorthandConflict = Rules.shorthandConflict.id
    public static let missingOption = Rules.missingOption.id

    public static let badDuration = Rules.badDuration.id
    public static let badPercentage = Rules.badPercentage.id
    public static let badURL = Rules.badURL.id
    public static let badTimeZone = Rules.badTimeZone.id
    public static let badDay = Rules.badDay.id
    public static let badTimeOfDay = Rules.badTimeOfDay.id
    public static let outOfRange = Rules.outOfRange.id
    public static let badValue = Rules.badValue.id
    public static let yaml11Boolean = Rules.yaml11Boolean.id
    public static let yaml11Number = Rules.yaml11Number.id
    public static let badCommand = Rules.badCommand.id
    public static let unknownVariable = Rules.unknownVariable.id
    public static let badPublicKey = Rules.badPublicKey.id
    public static let badAddress = Rules.badAddress.id
    public static let badPath = Rules.badPath.id

    public static let hostProgram = Rules.hostProgram.id
    public static let hostFile = Rules.hostFile.id
    public static let hostPermissions = Rules.hostPermissions.id
    public static let hostKubernetes = Rules.hostKubernetes.id
    public static let hostBackend = Rules.hostBackend.id
    public static let hostKeyTrust = Rules.hostKeyTrust.id
    public static let hostPolicyTrust = Rules.hostPolicyTrust.id
}

/// Every rule updatectl knows, with its documentation. `updatectl lint --explain CODE` prints one.
public enum Rules {
    /// Every rule, by code: the general ones below, the cross-field ones (one per file in
    /// `Lint/Rules/`) and the ones gate and probe kinds own.
    public static let all: [Rule] = (general + (CrossChecks.rules + CrossChecks.rulesAfterKinds).map { $0.rule } + PolicyKinds.rules)
        .sorted { $0.id < $1.id }

    static let general: [Rule] = [
        unusedSuppression,
        badSuppression,
        yamlSyntax,
        duplicateKey,
        undefinedAlias,
        aliasBudget,
        tooDeep,
        multipleDocuments,
        emptyFile,
        fileTooLarge,
        confSyntax,
        fixBreaksFile,
        unknownKey,
        wrongType,
        missingUpdates,
        missingServer,
        badEntry,
        duplicateName,
        shorthandConflict,
        missingOption,
        badDuration,
        badPercentage,
        badURL,
        badTimeZone,
        badDay,
        badTimeOfDay,
        outOfRange,
        badValue,
        yaml11Boolean,
        yaml11Number,
        badCommand,
        unknownVariable,
        badPublicKey,
        badAddress,
        badPath,
        hostProgram,
        hostFile,
        hostPermissions,
        hostKubernetes,
        hostBackend,
        hostKeyTrust,
        hostPolicyTrust,
    ]

    private static let byID: [RuleID: Rule] = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0) })

    /// The rule with that id. Every `RuleID` constant is in `all`; a test checks it.
    public static func rule(_ id: RuleID) -> Rule {
        byID[id] ?? Rule(id.rawValue, "unknown", .error, summary: "", rationale: "", fix: "", example: "")
    }

    /// The rule whose id or name is `text` (case-insensitive for the id).
    public static func lookup(_ text: String) -> Rule? {
        let upper = text.uppercased()
        return all.first { $0.id.rawValue == upper || $0.name == text }
    }
}

/// The general rules (the kinds own theirs), each written once: its code is read from here by
/// the `RuleID` constants above.
extension Rules {
    static let unusedSuppression = Rule(
        "UPD001", "unused-suppression", .warning,
        summary: "An inline `# updatectl: disable=CODE` comment silences nothing.",
        rationale: "A suppression that no longer matches a finding hides the next real problem on that line.",
        fix: "Remove the comment, or the code from it.",
        example: "updates:\n  channel: stable  # updatectl: disable=UPD301", fixes: .safe)

    static let badSuppression = Rule(
        "UPD002", "bad-suppression", .warning,
        summary: "An inline suppression names a code that is not a rule.",
        rationale: "A misspelt code silences nothing, so the finding it was meant for still fails CI.",
        fix: "Use a code from `updatectl lint --explain`, e.g. `# updatectl: disable=UPD404`.",
        example: "updates:\n  auto_rollback_after: 0  # updatectl: disable=UPD4O4", fixes: .unsafe)

    static let yamlSyntax = Rule(
        "UPD101", "yaml-syntax", .error,
        summary: "The file is not valid YAML (libyaml's reader, scanner or parser stopped).",
        rationale: "Nothing after the error can be read, so the policy cannot be checked or run.",
        fix: "Fix the YAML at the position given; tabs may not indent, quotes must close, files are UTF-8.",
        example: "updates:\n\tserver: https://updates.example.com")

    static let duplicateKey = Rule(
        "UPD102", "duplicate-key", .error,
        summary: "A key is given twice in one mapping.",
        rationale: "Most YAML tools keep the last value silently, others the first; the policy means "
            + "different things to different readers.",
        fix: "Keep one of the two; the note points at the first.",
        example: "updates:\n  reboot: manual\n  reboot: auto")

    static let undefinedAlias = Rule(
        "UPD103", "undefined-alias", .error,
        summary: "An alias (`*name`) refers to an anchor (`&name`) that is not defined before it.",
        rationale: "YAML resolves aliases only backwards; the value is missing.",
        fix: "Define the anchor before its first use, or fix the spelling.",
        example: "updates:\n  healthcheck: *checks")

    static let aliasBudget = Rule(
        "UPD104", "alias-budget", .error,
        summary: "Aliases expand to more than 100,000 nodes.",
        rationale: "A few hundred bytes of nested aliases (\"billion laughs\") can expand to billions of "
            + "nodes and exhaust a node's memory.",
        fix: "Write the values out, or share fewer, smaller anchors.",
        example: "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n...")

    static let tooDeep = Rule(
        "UPD105", "too-deep", .error,
        summary: "Lists and mappings nest more than 256 levels deep.",
        rationale: "No policy needs that depth; unbounded depth is how parsers are made to overflow.",
        fix: "Flatten the structure.",
        example: "updates: [[[[[[ ... ]]]]]]")

    static let multipleDocuments = Rule(
        "UPD106", "multiple-documents", .error,
        summary: "The file holds more than one YAML document.",
        rationale: "A policy is one document; which one a tool reads would be a guess.",
        fix: "Remove the `---` and the second document, or split them into two files.",
        example: "updates: {}\n---\nupdates: {}")

    static let emptyFile = Rule(
        "UPD107", "empty-file", .error,
        summary: "The file is empty or holds only comments.",
        rationale: "An empty policy is almost always a truncated or mis-generated file.",
        fix: "Write the policy, or remove the file.",
        example: "# nothing here")

    static let fileTooLarge = Rule(
        "UPD108", "file-too-large", .error,
        summary: "The file is larger than 16 MiB.",
        rationale: "No policy is that large; the cap keeps a hostile file from costing unbounded memory.",
        fix: "Check that the right file is being linted.",
        example: "(a 17 MiB file)")

    static let confSyntax = Rule(
        "UPD109", "conf-syntax", .error,
        summary: "A line of update.conf that is not `key=value`, a `#` comment or blank.",
        rationale: "KubeSolo OS's agent skips what it cannot read, so the setting the line meant is silently "
            + "missing.",
        fix: "Write `key=value`, e.g. `server=https://updates.example.com`.",
        example: "# update.conf\nserver https://updates.example.com")

    static let fixBreaksFile = Rule(
        "UPD110", "fix-breaks-file", .warning,
        summary: "`lint --fix` left a fix out: with it the file would no longer have read as one policy.",
        rationale: "A fix that breaks the YAML (or makes a duplicate key, as two misspelt keys fixed to one name "
            + "do) would turn a policy with a finding into one no node can read; that fix is left out, the others "
            + "are applied.",
        fix: "Make the change by hand if it is what was meant; of two keys fixed to one name, keep one.",
        example: "(reported by `updatectl lint --fix`, never by `lint` alone)")

    static let unknownKey = Rule(
        "UPD201", "unknown-key", .error,
        summary: "A key that the policy does not define; the hint names the closest known key. In update.conf a "
            + "warning: KubeSolo OS ignores keys it does not know.",
        rationale: "A misspelt key is silently ignored by most tools, so the setting it was meant to change "
            + "keeps its default.",
        fix: "Use the key the hint suggests, or see docs/policy.md for the keys of that mapping.",
        example: "updates:\n  auto_rollback_afer: 3", fixes: .safeOrUnsafe)

    static let wrongType = Rule(
        "UPD202", "wrong-type", .error,
        summary: "A value of the wrong type: a list where a mapping is expected, text where a number is.",
        rationale: "The value cannot mean what the key needs.",
        fix: "Write the type the message names; quoting turns a number into text.",
        example: "updates:\n  auto_rollback_after: \"3\"", fixes: .safeOrUnsafe)

    static let missingUpdates = Rule(
        "UPD203", "missing-updates", .error,
        summary: "The file has no top-level `updates:` mapping.",
        rationale: "The policy is the mapping under `updates:`; without it there is nothing to check or run.",
        fix: "Put the policy under a top-level `updates:` key.",
        example: "server: https://updates.example.com", fixes: .unsafe)

    static let missingServer = Rule(
        "UPD204", "missing-server", .error,
        summary: "The policy has no `server`.",
        rationale: "`apply` needs a server to read `<server>/<channel>/latest.json` from.",
        fix: "Add `server: https://…` (or `file:///…` for air-gapped nodes).",
        example: "updates:\n  channel: stable")

    static let badEntry = Rule(
        "UPD205", "bad-entry", .error,
        summary: "A gate or probe entry is not a one-key mapping `- KIND: {options}`, or its kind is unknown.",
        rationale: "Each entry names exactly one check; anything else cannot be run.",
        fix: "Write `\(RuleExamples.defaultGate)`; the hint names the closest kind.",
        example: "updates:\n  preflight:\n    - free_spase: {}", fixes: .safeOrUnsafe)

    static let duplicateName = Rule(
        "UPD206", "duplicate-name", .error,
        summary: "Two gates or two probes have the same name.",
        rationale: "Names identify steps in the plan, in `status` and in logs; two of one name cannot be told apart.",
        fix: "Give each a distinct `name:`.",
        example: "updates:\n  healthcheck:\n    probes:\n      \(RuleExamples.probe(at: 1, ["name: api"]))\n"
            + "      \(RuleExamples.probe("name: api"))")

    static let shorthandConflict = Rule(
        "UPD207", "shorthand-conflict", .error,
        summary: "An upstream shorthand (`healthcheck_url`, `kube_system_settle`) disagrees with the explicit probe.",
        rationale: "Two settings for one probe: one of them is stale, and it is not clear which is meant.",
        fix: "Keep one form: either the shorthand or the probe under `healthcheck.probes`.",
        example: "updates:\n  healthcheck_url: http://127.0.0.1:8080/healthz\n  healthcheck:\n    probes:\n"
            + "      - http: {url: \"http://127.0.0.1:8080/healthz\", status: 204}")

    static let missingOption = Rule(
        "UPD208", "missing-option", .error,
        summary: "A gate, probe or backend lacks an option it needs (a probe without the address it checks).",
        rationale: "The check cannot run without it.",
        fix: "Add the option the message names.",
        example: "updates:\n  healthcheck:\n    probes:\n      \(RuleExamples.probeMissingItsOption)")

    static let badDuration = Rule(
        "UPD301", "bad-duration", .error,
        summary: "Not a duration: durations are `250ms`, `30s`, `5m`, `1h30m`, `2h`, or a whole number of seconds.",
        rationale: "A duration the tool would guess at is a timeout nobody chose.",
        fix: "Write a number with a unit: ms, s, m or h.",
        example: "updates:\n  healthcheck:\n    timeout: 30 seconds", fixes: .safeOrUnsafe)

    static let badPercentage = Rule(
        "UPD302", "bad-percentage", .error,
        summary: "Not a percentage: `10%` or a number from 0 to 100.",
        rationale: "Headroom and rollout shares are percentages; anything else is a guess.",
        fix: "Write e.g. `10%`.",
        example: RuleExamples.gate(withOptionOf: { if case .percentage = $0 { true } else { false } }, written: "ten"), fixes: .safe)

    static let badURL = Rule(
        "UPD303", "bad-url", .error,
        summary: "Not a URL, or a URL with a scheme this key does not take.",
        rationale: "The server may be `https`, `http` or `file`; probes and gates `http` or `https`. Other "
            + "schemes cannot be fetched.",
        fix: "Write an absolute URL such as `https://updates.example.com/os`.",
        example: "updates:\n  server: ftp://updates.example.com")

    static let badTimeZone = Rule(
        "UPD304", "bad-time-zone", .error,
        summary: "Not an IANA time zone name.",
        rationale: "The maintenance window would open at the wrong hour.",
        fix: "Write a name such as `Europe/Berlin` or `UTC`; the hint names the closest zone.",
        example: RuleExamples.gate(withOptionOf: { if case .timeZone = $0 { true } else { false } }, written: "Europe/Berln"),
        fixes: .safeOrUnsafe)

    static let badDay = Rule(
        "UPD305", "bad-day", .error,
        summary: "Not a day of the week: `mon`, `tue`, `wed`, `thu`, `fri`, `sat`, `sun`.",
        rationale: "The window would never open on the day meant.",
        fix: "Use the three-letter lower-case names.",
        example: RuleExamples.gate(withOptionOf: { if case .days = $0 { true } else { false } }, written: "[monday]"), fixes: .safeOrUnsafe)

    static let badTimeOfDay = Rule(
        "UPD306", "bad-time-of-day", .error,
        summary: "Not a time of day `HH:MM` (00:00 to 23:59).",
        rationale: "The window's bounds must be clock times.",
        fix: "Write `\"02:30\"`, quoted.",
        example: RuleExamples.gate(withOptionOf: { if case .timeOfDay = $0 { true } else { false } }, written: "\"25:00\""))

    static let outOfRange = Rule(
        "UPD307", "out-of-range", .error,
        summary: "A number outside the range its key allows.",
        rationale: "The value cannot be meant: a negative count, a status code that is not HTTP's, a zero port, a zero timeout.",
        fix: "Use a value in the range the message gives.",
        example: "updates:\n  auto_rollback_after: -1")

    static let badValue = Rule(
        "UPD308", "bad-value", .error,
        summary: "A value that is not one of those the key takes (`reboot: auto|manual`, a channel name).",
        rationale: "The tool would have to guess what was meant.",
        fix: "Use one of the values the message lists.",
        example: "updates:\n  reboot: sometimes", fixes: .safeOrUnsafe)

    static let yaml11Boolean = Rule(
        "UPD309", "yaml11-boolean", .warning,
        summary: "A plain `yes`, `no`, `on`, `off`, `y`, `n`, `true` or `false` where text is expected.",
        rationale: "updatectl reads it as text, but YAML 1.1 tools (cloud-init's PyYAML among them) read it "
            + "as a boolean, so the same file means different things to different readers.",
        fix: "Quote it: `\"on\"`.",
        example: "updates:\n  channel: on", fixes: .safe)

    static let yaml11Number = Rule(
        "UPD310", "yaml11-number", .warning,
        summary: "A plain value that YAML 1.1 reads as a number: `0755` (octal) or `22:00` (base 60).",
        rationale: "updatectl reads it as text, but YAML 1.1 tools read `22:00` as 1320 (base 60) and `0755` as 493 (octal).",
        fix: "Quote it: `\"22:00\"`.",
        example: RuleExamples.gate(withOptionOf: { if case .timeOfDay = $0 { true } else { false } }, written: "22:00"), fixes: .safe)

    static let badCommand = Rule(
        "UPD311", "bad-command", .error,
        summary: "A command that is not a non-empty list whose first item is an absolute path.",
        rationale: "Commands run without a shell and without a search path, so that nothing in the "
            + "environment decides which program runs.",
        fix: "Write `command: [/usr/bin/systemctl, is-active, kubelet]`.",
        example: "updates:\n  preflight:\n    - exec: {command: [systemctl, is-active, kubelet]}", fixes: .unsafe)

    static let unknownVariable = Rule(
        "UPD312", "unknown-variable", .error,
        summary: "A `${VAR}` in a command that updatectl does not substitute.",
        rationale: "Commands run without a shell, so an unknown variable would reach the program as literal text.",
        fix: "Use one of the variables the message lists, or write `$${...}` for a literal `${...}`.",
        example: "updates:\n  backend:\n    type: command\n    stage: [/usr/bin/dd, \"if=${IMAGE}\", \"of=${SLOTT}\"]\n"
            + "    activate: [/usr/local/sbin/ab-switch, \"${SLOT}\"]\n    rollback: [/usr/local/sbin/ab-switch, --back]\n    booted_slot: [/usr/local/sbin/ab-switch, --booted]",
        fixes: .safeOrUnsafe)

    static let badPublicKey = Rule(
        "UPD313", "bad-public-key", .error,
        summary: "`public_key` is neither `ed25519:<base64 of 32 bytes>` nor an absolute path, or it is no real signing key.",
        rationale: "A key that cannot be read turns every signed update into a failure; a key of small order (the "
            + "identity point and its kin) lets one fixed signature verify many messages.",
        fix: "Write `ed25519:` and the base64 of the 32-byte public key, or the key file's absolute path.",
        example: "updates:\n  public_key: ed25519:abc")

    static let badAddress = Rule(
        "UPD314", "bad-address", .error,
        summary: "A TCP address that is not `host:port` (`[::1]:port` for IPv6) with a port from 1 to 65535.",
        rationale: "The probe cannot connect.",
        fix: "Write e.g. `\"127.0.0.1:6443\"`.",
        example: RuleExamples.gate(withOptionOf: { if case .hostPort = $0 { true } else { false } }, written: "localhost"))

    static let badPath = Rule(
        "UPD315", "bad-path", .error,
        summary: "A path that is empty or not absolute.",
        rationale: "updatectl runs from init with no meaningful working directory.",
        fix: "Write an absolute path.",
        example: "updates:\n  data_dir: var/lib/kubesolo")

    static let hostProgram = Rule(
        "UPD501", "host-program", .error,
        summary: "With `--on-host`: a command's program is missing, not executable, writable by group or others, or "
            + "owned by neither root nor the running user; or so is a directory on its way.",
        rationale: "updatectl refuses such a program at run time; an update would fail, or anyone who can change the "
            + "program could run code as root.",
        fix: "Install the program, or `chmod go-w` and `chown root` it.",
        example: "updates:\n  preflight:\n    - exec: {command: [/usr/local/bin/not-installed]}")

    static let hostFile = Rule(
        "UPD502", "host-file", .error,
        summary: "With `--on-host`: a file or partition the policy names (the public key; a fleet lock's certificates "
            + "and id file; the kubesolo backend's GRUB environment and slot labels) is missing or unreadable here.",
        rationale: "Every signed update, or every update of the boot slots, would fail on this machine.",
        fix: "Install the file at the path the policy names, or point the backend at this node's grubenv and labels.",
        example: "updates:\n  public_key: /etc/updatectl/release.pub")

    static let hostPermissions = Rule(
        "UPD503", "host-permissions", .warning,
        summary: "With `--on-host`: the policy file is writable by group or others.",
        rationale: "Whoever can change the policy decides which commands updatectl runs as root, as sshd's "
            + "StrictModes reasons about its own files.",
        fix: "`chmod go-w` the policy file.",
        example: "(a policy file with mode 0666)")

    static let hostKubernetes = Rule(
        "UPD504", "host-kubectl", .warning,
        summary: "With `--on-host`: a Kubernetes gate or probe is configured (the default kube-system probe "
            + "included) but kubectl is not on PATH here.",
        rationale: "Without kubectl the node-label gate passes without asking, and the kube-system probe fails "
            + "when the node has a kubeconfig: a good update would be rolled back.",
        fix: "Install kubectl, or set `kube_system_settle: 0` and drop the gate on nodes without Kubernetes.",
        example: "updates:\n  kube_system_settle: 30s")

    static let hostBackend = Rule(
        "UPD505", "host-backend", .warning,
        summary: "With `--on-host`: the policy uses the `directory` backend, which changes no real system.",
        rationale: "The directory backend only moves marker files under its root: on a real node `apply` would say "
            + "\"rebooting into slot b\" while the OS never changes, and `status` would report success.",
        fix: "Name this node's backend: `backend: {type: kubesolo}` on a KubeSolo OS node (the default when no backend "
            + "is written), or `type: command` with your own commands.",
        example: "updates:\n  backend: {type: directory, root: /var/lib/updatectl/slots}")

    static let hostKeyTrust = Rule(
        "UPD506", "host-key-trust", .error,
        summary: "With `--on-host`: a public key file (`public_key: /path`, `pubkey`, update.conf's `pubkey`) or the "
            + "`ca_file` belongs to another user or is writable by group or others; or so is a directory above it, or a "
            + "symbolic link on its way belongs to another user.",
        rationale: "The key decides which releases are genuine: whoever can replace it signs a release of their own and "
            + "root installs it; whoever can replace the `ca_file` can stand in for the update server. `apply --strict` "
            + "refuses such a file (without `--strict`, a warning), as sshd's StrictModes refuses its own files.",
        fix: "Keep the file root's, mode 0644, in directories that are root's and not writable by group or others.",
        example: "updates:\n  pubkey: /srv/shared/release.pub  # in a directory with mode 0777")

    static let hostPolicyTrust = Rule(
        "UPD507", "host-policy-trust", .warning,
        summary: "With `--on-host`: the policy file belongs to another user, a directory above it belongs to another "
            + "user or is writable by group or others, or a symbolic link on its way belongs to another user.",
        rationale: "Whoever can change or replace the policy decides which server, key and commands updatectl uses as "
            + "root. `apply --strict` refuses such a policy (without `--strict`, a warning). A policy file writable by "
            + "others is UPD503.",
        fix: "Keep the policy root's in directories that are root's and not writable by group or others.",
        example: "(a policy file in a directory with mode 0777)")
}
