#if canImport(Glibc)
import Glibc
#endif

/// What a command is called and says of itself. Immutable (hence shareable: metatypes are
/// constants).
struct CommandInfo: @unchecked Sendable {
    let name: String
    let abstract: String
    let discussion: String
    let subcommands: [any Command.Type]
    /// The root command's `--version` text.
    let version: String?

    init(name: String, abstract: String, discussion: String = "", version: String? = nil, subcommands: [any Command.Type] = []) {
        self.name = name
        self.abstract = abstract
        self.discussion = discussion
        self.subcommands = subcommands
        self.version = version
    }
}

/// A command of `updatectl`: its declarations, then `run`. A command with subcommands and no
/// `run` of its own prints its help.
protocol Command: ArgumentGroup {
    static var info: CommandInfo { get }
    mutating func run() throws
}

extension Command {
    mutating func run() throws {
        print(HelpText.render(Self.self, path: [Self.info.name]), terminator: "")
    }

    /// Its options and arguments, as declared.
    static var declared: [ArgumentDefinition] { CommandLineParser.definitions(of: Self()) }

    /// A new command filled from `words` (its options and arguments), validated, then run.
    static func execute(_ words: [String]) throws {
        var command = Self()
        try CommandLineParser.fill(CommandLineParser.definitions(of: command), from: words)
        try CommandLineParser.validateAll(command)
        try command.run()
    }
}

/// Parses argv into the command it names and runs it, with updatectl's exit statuses: a usage
/// mistake exits 2 with the message and the usage; `--help`, `help COMMAND`, `--version`,
/// `--generate-manual` and `--generate-completion-script SHELL` answer and exit 0.
enum CommandLineParser {
    static func main(_ root: any Command.Type, arguments: [String]) -> Never {
        var path = [root.info.name]
        var command: any Command.Type = root
        var rest = arguments[...]
        // Subcommands, as long as the next word names one.
        while let word = rest.first, let sub = command.info.subcommands.first(where: { $0.info.name == word }) {
            command = sub
            path.append(word)
            rest = rest.dropFirst()
        }
        if path.count == 1, let word = rest.first {
            switch word {
            case "help":
                var target: any Command.Type = root
                var targetPath = path
                for name in rest.dropFirst() {
                    guard let sub = target.info.subcommands.first(where: { $0.info.name == name }) else { break }
                    target = sub
                    targetPath.append(name)
                }
                finish(HelpText.render(target, path: targetPath))
            case "--version":
                if let version = root.info.version { finish(version + "\n") }
            case "--generate-manual":
                finish(ManualPage.render(root))
            case "--generate-completion-script":
                guard let shell = rest.dropFirst().first, let script = Completions.script(root, shell: shell) else {
                    fail(UsageError("--generate-completion-script takes bash, zsh or fish"), path: path, command: command)
                }
                finish(script)
            default:
                break
            }
        }
        if rest.contains(where: { $0 == "--help" || $0 == "-h" }) || (rest.isEmpty && !command.info.subcommands.isEmpty) {
            finish(HelpText.render(command, path: path))
        }
        if !command.info.subcommands.isEmpty, let word = rest.first {
            fail(UsageError("Unknown subcommand '\(word)'"), path: path, command: command)
        }
        do {
            try command.execute(Array(rest))
        } catch let error as UsageError {
            fail(error, path: path, command: command)
        } catch let stop as CommandExit {
            exit(stop.status)
        } catch {
            printError("error: \(error)")
            exit(ExitStatus.failure.rawValue)
        }
        exit(ExitStatus.success.rawValue)
    }

    /// The declarations of `value` and of its groups, in declaration order.
    static func definitions(of value: Any) -> [ArgumentDefinition] {
        Mirror(reflecting: value).children.flatMap { child -> [ArgumentDefinition] in
            guard let declaration = child.value as? any ArgumentDeclaration, let label = child.label else { return [] }
            return declaration.definitions(property: label.hasPrefix("_") ? String(label.dropFirst()) : label)
        }
    }

    /// `validate()` of the command's groups (and theirs), then of the command.
    static func validateAll(_ value: any ArgumentGroup) throws {
        for child in Mirror(reflecting: value).children {
            if let group = child.value as? any GroupDeclaration { try group.validateGroup() }
        }
        try value.validate()
    }

    static func fill(_ definitions: [ArgumentDefinition], from words: [String]) throws {
        var positionals: [String] = []
        var index = 0
        var onlyPositionals = false
        while index < words.count {
            let word = words[index]
            index += 1
            if onlyPositionals || !word.hasPrefix("-") || word == "-" {
                positionals.append(word)
                continue
            }
            if word == "--" {
                onlyPositionals = true
                continue
            }
            let body = word.hasPrefix("--") ? String(word.dropFirst(2)) : ""
            let name = body.split(separator: "=", maxSplits: 1).first.map(String.init) ?? body
            guard !name.isEmpty, let definition = definitions.first(where: { $0.kind != .positional && $0.name == name }) else {
                throw UsageError("Unknown option '\(word)'")
            }
            if definition.kind == .flag {
                guard !body.contains("=") else { throw UsageError("'--\(name)' takes no value") }
                definition.slot.seen = true
                continue
            }
            var value: String
            if let equals = body.firstIndex(of: "=") {
                value = String(body[body.index(after: equals)...])
            } else {
                guard index < words.count else { throw UsageError("Missing value for '--\(name) <\(name)>'") }
                value = words[index]
                index += 1
            }
            try accept(value, definition)
            definition.slot.values.append(value)
            definition.slot.seen = true
        }
        if let missing = definitions.first(where: { $0.kind == .option && $0.isRequired && !$0.slot.seen }) {
            throw UsageError("Missing expected argument '\(missing.usage)'")
        }
        for definition in definitions where definition.kind == .positional {
            if definition.isList {
                for value in positionals { try accept(value, definition) }
                definition.slot.values = positionals
                positionals = []
            } else if let value = positionals.first {
                try accept(value, definition)
                definition.slot.values = [value]
                positionals.removeFirst()
            } else if definition.isRequired {
                throw UsageError("Missing expected argument '<\(definition.name)>'")
            }
        }
        if let extra = positionals.first { throw UsageError("Unexpected argument '\(extra)'") }
    }

    private static func accept(_ value: String, _ definition: ArgumentDefinition) throws {
        guard definition.accepts(value) else {
            let choices = definition.choices.isEmpty ? "" : ": one of \(definition.choices.joined(separator: ", "))"
            throw UsageError("The value '\(value)' is invalid for '\(definition.usage)'\(choices)")
        }
    }

    private static func finish(_ text: String) -> Never {
        print(text, terminator: "")
        exit(ExitStatus.success.rawValue)
    }

    private static func fail(_ error: UsageError, path: [String], command: any Command.Type) -> Never {
        printError("Error: \(error.message)")
        printError("Usage: \(HelpText.usage(command, path: path))")
        printError("  See '\(path.joined(separator: " ")) --help' for more information.")
        exit(ExitStatus.usage.rawValue)
    }
}

/// Lets `validateAll` reach a group's `validate()` through the wrapper.
protocol GroupDeclaration {
    func validateGroup() throws
}

extension Group: GroupDeclaration {
    func validateGroup() throws { try CommandLineParser.validateAll(wrappedValue) }
}
