import ArgumentParser

/// The exit codes of every updatectl command. docs/exit-codes.md, `--help` and the tests use
/// this table.
enum ExitStatus: Int32, CaseIterable {
    /// Everything worked; `lint` found nothing at or above `--fail-on`.
    case success = 0
    /// The command ran and the answer is no: findings at or above `--fail-on`, an update that failed.
    case failure = 1
    /// Nothing could be checked or run: bad flags, an unreadable path, a policy that cannot be read.
    case usage = 2
    /// A pre-flight gate deferred the update; nothing was changed and no attempt was spent.
    case deferred = 3
    /// Another updatectl holds the state lock.
    case busy = 4
    /// `check`: no update is available.
    case noUpdate = 5

    var meaning: String {
        switch self {
        case .success: "success; for lint, nothing at or above --fail-on"
        case .failure: "failure; for lint, findings at or above --fail-on"
        case .usage: "usage: bad flags or nothing could be checked (an unreadable path)"
        case .deferred: "deferred by a pre-flight gate; nothing changed"
        case .busy: "busy: another updatectl holds the state lock"
        case .noUpdate: "check: no update available (up to date)"
        }
    }

    /// The meaning in one command's table, which says nothing of other commands.
    var commandMeaning: String {
        switch self {
        case .success: "success"
        case .failure: "failure: the command ran and the answer is no"
        case .noUpdate: "no update available (up to date)"
        case .usage, .deferred, .busy: meaning
        }
    }

    /// Thrown to end the command with this status.
    var exitCode: ExitCode { ExitCode(rawValue) }

    /// The whole table, as `updatectl --help` (and the man page's EXIT STATUS) shows it.
    static var helpTable: String { table(allCases.map { ($0, $0.meaning) }) }

    /// The codes one command can return, as its `--help` shows them (docs/exit-codes.md lists
    /// which command returns which).
    static func helpTable(for codes: [ExitStatus]) -> String { table(codes.map { ($0, $0.commandMeaning) }) }

    private static func table(_ rows: [(ExitStatus, String)]) -> String {
        "EXIT STATUS:\n" + rows.map { "  \($0.0.rawValue)  \($0.1)" }.joined(separator: "\n")
    }
}

/// Values kept until the process exits instead of freed one by one: a command's process ends right
/// after it, and freeing tens of thousands of linted entries only delays the exit (about 4 % of
/// `updatectl lint` of a 2.7 MB policy). The system takes the memory back at exit.
enum KeptUntilExit {
    private final class Box {
        let value: Any
        init(_ value: Any) { self.value = value }
    }

    static func keep(_ value: Any) { _ = Unmanaged.passRetained(Box(value)) }
}
