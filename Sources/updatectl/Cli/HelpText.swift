import UpdateAgent
import UpdatePolicy

/// `--help`: overview, discussion, usage, arguments, options and subcommands, wrapped at 80
/// columns.
enum HelpText {
    static let width = 80
    static let column = 26

    static func usage(_ command: any Command.Type, path: [String]) -> String {
        let definitions = command.declared
        if !command.info.subcommands.isEmpty { return path.joined(separator: " ") + " <subcommand>" }
        let positionals = definitions.filter { $0.kind == .positional }.map { $0.isRequired ? $0.usage : "[\($0.usage)]" }
        let options = definitions.filter { $0.kind != .positional }.map { "[\($0.usage)]" }
        return (path + positionals + options).joined(separator: " ")
    }

    static func render(_ command: any Command.Type, path: [String]) -> String {
        let info = command.info
        var out = "OVERVIEW: \(info.abstract)\n\n"
        if !info.discussion.isEmpty { out += wrap(info.discussion, indent: 0) + "\n\n" }
        out += "USAGE: \(usage(command, path: path))\n\n"
        let definitions = command.declared
        let positionals = definitions.filter { $0.kind == .positional }
        if !positionals.isEmpty {
            out += "ARGUMENTS:\n" + positionals.map { row("<\($0.name)>", describe($0)) }.joined() + "\n"
        }
        var options = definitions.filter { $0.kind != .positional }.map { row($0.usage, describe($0)) }
        if path.count == 1, info.version != nil { options.append(row("--version", "Show the version.")) }
        options.append(row("-h, --help", "Show help information."))
        out += "OPTIONS:\n" + options.joined()
        if !info.subcommands.isEmpty {
            out += "\nSUBCOMMANDS:\n" + info.subcommands.map { row($0.info.name, $0.info.abstract) }.joined()
            out += "\n  See '\(([path[0], "help"] + path.dropFirst()).joined(separator: " ")) <subcommand>' for detailed help.\n"
        }
        return out
    }

    static func describe(_ definition: ArgumentDefinition) -> String {
        var notes: [String] = []
        if !definition.choices.isEmpty { notes.append("values: " + definition.choices.joined(separator: ", ")) }
        if let value = definition.defaultText { notes.append("default: \(value)") }
        return definition.help + (notes.isEmpty ? "" : " (\(notes.joined(separator: "; ")))")
    }

    /// `  NAME                    TEXT`, the text wrapped under itself.
    static func row(_ name: String, _ text: String) -> String {
        let head = "  " + name
        let body = wrap(text, indent: column)
        if head.count < column - 1 {
            return head + String(repeating: " ", count: column - head.count) + body.dropFirst(column) + "\n"
        }
        return head + "\n" + body + "\n"
    }

    /// `text` wrapped at `width`, every line indented by `indent`; its own line breaks kept.
    static func wrap(_ text: String, indent: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if line.isEmpty { return "" }
            // Lines that start with spaces are laid out already (the exit-status table).
            if line.hasPrefix(" ") { return pad + line }
            var lines: [String] = []
            var current = ""
            for word in line.split(separator: " ") {
                if !current.isEmpty, indent + current.count + 1 + word.count > width {
                    lines.append(pad + current)
                    current = ""
                }
                current += (current.isEmpty ? "" : " ") + word
            }
            lines.append(pad + current)
            return lines.joined(separator: "\n")
        }.joined(separator: "\n")
    }
}

/// The man page, in mdoc: the root command, then each subcommand with its options. Its date is
/// `SOURCE_DATE_EPOCH`'s day when set (reproducible builds), else today.
enum ManualPage {
    static var date: String {
        let seconds = Environment.get("SOURCE_DATE_EPOCH").flatMap { Int64($0) }
        let now = seconds.map { Timestamp(seconds: $0) } ?? SystemWallClock().now()
        return String(now.description.prefix(10))
    }

    static func render(_ root: any Command.Type) -> String {
        let info = root.info
        var out = ".Dd \(date)\n.Dt \(info.name.uppercased()) 1\n.Os\n.Sh NAME\n.Nm \(info.name)\n.Nd \(escape(info.abstract))\n"
        out += ".Sh SYNOPSIS\n.Nm\n.Ar subcommand\n.Op Fl -version\n.Op Fl -help\n"
        out += ".Sh DESCRIPTION\n" + paragraphs(info.discussion)
        out += ".Sh COMMANDS\n.Bl -tag -width 6n\n"
        for (path, command) in commands(root, path: []) {
            let sub = command.info
            out += ".It Cm \(path.joined(separator: " "))\n" + paragraphs(sub.abstract)
            if !sub.discussion.isEmpty { out += paragraphs(sub.discussion) }
            let definitions = command.declared
            if !definitions.isEmpty {
                out += ".Bl -tag -width 6n\n"
                for definition in definitions {
                    switch definition.kind {
                    case .positional: out += ".It Ar \(definition.name)\(definition.isList ? " ..." : "")\n"
                    case .flag: out += ".It Fl -\(definition.name)\n"
                    case .option: out += ".It Fl -\(definition.name) Ar \(definition.name)\n"
                    }
                    out += paragraphs(HelpText.describe(definition))
                }
                out += ".El\n"
            }
        }
        out += ".El\n.Sh EXIT STATUS\n.Bl -tag -width 3n\n"
        for status in ExitStatus.allCases { out += ".It \(status.rawValue)\n\(escape(status.meaning))\n" }
        out += ".El\n.Sh AUTHORS\nThe updatectl authors.\n"
        return out
    }

    /// Every command below `root` that runs (leaves), with its words.
    static func commands(_ command: any Command.Type, path: [String]) -> [([String], any Command.Type)] {
        command.info.subcommands.flatMap { sub -> [([String], any Command.Type)] in
            let words = path + [sub.info.name]
            return sub.info.subcommands.isEmpty ? [(words, sub)] : commands(sub, path: words)
        }
    }

    /// Paragraphs as text lines separated by `.Pp`, without the exit-status table (its own section).
    static func paragraphs(_ text: String) -> String {
        var groups: [[String]] = [[]]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingSpaces.isEmpty {
                if !groups[groups.count - 1].isEmpty { groups.append([]) }
            } else {
                groups[groups.count - 1].append(line.trimmingSpaces)
            }
        }
        let kept = groups.filter { !$0.isEmpty && $0.first != "EXIT STATUS:" }
        if kept.isEmpty { return "" }
        return kept.map { $0.map(escape).joined(separator: "\n") }.joined(separator: "\n.Pp\n") + "\n"
    }

    /// A line roff reads as text: backslashes written as `\e`, a leading `.` or `'` escaped.
    static func escape(_ line: String) -> String {
        let text = line.split(separator: "\\", omittingEmptySubsequences: false).joined(separator: "\\e")
        return text.hasPrefix(".") || text.hasPrefix("'") ? "\\&" + text : text
    }
}
