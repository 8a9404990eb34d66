import ArgumentParser
import UpdateAgent

struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Manage the state file.",
        subcommands: [Reset.self]
    )

    struct Reset: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset",
            abstract: "Start over from idle: write a fresh state and clear broken-state evidence.",
            discussion: """
                Use it after a broken state file was moved aside, once you have checked which slot \
                the node runs. It takes the state lock, so it waits for no one: while another \
                updatectl runs it exits 4.

                \(ExitStatus.helpTable(for: [.success, .failure, .usage, .busy]))
                """
        )

        @Argument(help: "The policy, for its data_dir and its backend's passive slot (optional).", completion: .file())
        var policy: String?

        @OptionGroup var stateOptions: StateOptions

        @Flag(help: "Confirm: the current state is replaced by a fresh idle state.")
        var yes = false

        func validate() throws {
            guard yes else {
                throw ValidationError("state reset replaces the state with a fresh idle one; add --yes to confirm.")
            }
        }

        func run() throws {
            let loaded = try policy.map { try PolicyLoader.load($0) }
            let path = stateOptions.path(policy: loaded)
            // Nothing there: said, and nothing written (no lock file, no directory).
            if try Locking.exitingWhenBusy({ try StateStore(path: path).holdsNothingToReset() }) {
                printLine("no state file at \(path): nothing to reset")
                return
            }
            let backend = loaded.map { AgentEnvironment.backend(for: $0, runner: ProcessRunner()) }
            let lock = try Locking.exitingWhenBusy { try StateLock.acquire(statePath: path, extraLock: backend?.lockPath) }
            defer { lock.release() }
            let cleared = try StateStore(path: path).reset(holding: lock, clock: Clocks.wall)
            printLine("reset \(path) to idle")
            for file in cleared { printLine("cleared \(file) (renamed to \(file).cleared)") }
            // With the policy, its backend's passive slot loses what an interrupted staging left.
            guard let backend else { return }
            do {
                let passive = try backend.bootedSlot().other
                for name in try backend.removeLeftovers(slot: passive) { printLine("removed \(name), left by an interrupted staging") }
            } catch {
                printError("warning: the passive slot could not be checked for what an interrupted staging left: \(error)")
            }
        }
    }
}

enum Locking {
    /// Takes the state lock; when another process holds it, says who and exits 4.
    static func acquire(statePath: String) throws -> StateLock {
        try exitingWhenBusy { try StateLock.acquire(statePath: statePath) }
    }

    /// Runs `body`, which takes the locks itself; a lock another process holds exits 4, other
    /// errors exit 1, each said on standard error.
    static func exitingWhenBusy<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let busy as StateLock.Busy {
            printError("error: \(busy)")
            throw ExitStatus.busy.exitCode
        } catch let stop as ExitCode {
            throw stop
        } catch {
            printError("error: \(error)")
            throw ExitStatus.failure.exitCode
        }
    }
}
