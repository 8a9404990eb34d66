/// Shell completion scripts from the declarations: subcommands, then each command's options and,
/// for options with a fixed set of values, those values; files otherwise.
enum Completions {
    static func script(_ root: any Command.Type, shell: String) -> String? {
        switch shell {
        case "bash": bash(root)
        case "zsh": zsh(root)
        case "fish": fish(root)
        default: nil
        }
    }

    /// Every command path with its definitions (the root with none).
    static func all(_ root: any Command.Type) -> [(path: [String], command: any Command.Type)] {
        func walk(_ command: any Command.Type, _ path: [String]) -> [([String], any Command.Type)] {
            [(path, command)] + command.info.subcommands.flatMap { walk($0, path + [$0.info.name]) }
        }
        return walk(root, [])
    }

    static func options(_ command: any Command.Type) -> [ArgumentDefinition] {
        command.declared.filter { $0.kind != .positional }
    }

    static func bash(_ root: any Command.Type) -> String {
        let name = root.info.name
        let commands = all(root)
        func table(_ function: String, _ rows: [(key: String, words: [String])]) -> String {
            let cases = rows.filter { !$0.words.isEmpty }.map { "        \"\($0.key)\") echo \"\($0.words.joined(separator: " "))\" ;;" }
            return "_\(name)_\(function)() {\n    case \"$1\" in\n" + cases.joined(separator: "\n") + "\n    esac\n}\n"
        }
        let subcommands = commands.map { ($0.path.joined(separator: " "), $0.command.info.subcommands.map { $0.info.name }) }
        let optionRows = commands.map { ($0.path.joined(separator: " "), options($0.command).map { "--" + $0.name } + ["--help"]) }
        let valueRows = commands.flatMap { entry in
            options(entry.command).filter { !$0.choices.isEmpty }.map { ((entry.path + ["--" + $0.name]).joined(separator: " "), $0.choices) }
        }
        return """
            # bash completion for \(name): subcommands, options, option values, else files.
            _\(name)() {
                local current=${COMP_WORDS[COMP_CWORD]} previous=${COMP_WORDS[COMP_CWORD-1]} path="" index word words
                for ((index = 1; index < COMP_CWORD; index++)); do
                    word=${COMP_WORDS[index]}
                    case " $(_\(name)_subcommands "$path") " in *" $word "*) path="${path:+$path }$word" ;; esac
                done
                words=$(_\(name)_values "${path:+$path }$previous")
                if [ -n "$words" ]; then COMPREPLY=($(compgen -W "$words" -- "$current")); return; fi
                if [[ $current == -* ]]; then COMPREPLY=($(compgen -W "$(_\(name)_options "$path")" -- "$current")); return; fi
                words=$(_\(name)_subcommands "$path")
                if [ -n "$words" ]; then COMPREPLY=($(compgen -W "$words" -- "$current")); return; fi
                COMPREPLY=($(compgen -f -- "$current"))
            }

            """ + table("subcommands", subcommands) + table("options", optionRows) + table("values", valueRows)
            + "complete -F _\(name) \(name)\n"
    }

    static func zsh(_ root: any Command.Type) -> String {
        let name = root.info.name
        var functions = ""
        for (path, command) in all(root) {
            let function = (["_" + name] + path).joined(separator: "_").replacingDashes
            if command.info.subcommands.isEmpty {
                let specs = options(command).map { option -> String in
                    let help = quote(option.help)
                    switch option.kind {
                    case .flag: return "'--\(option.name)[\(help)]'"
                    default:
                        let values = option.choices.isEmpty ? "_files" : "(\(option.choices.joined(separator: " ")))"
                        return "'--\(option.name)=[\(help)]:\(option.name):\(values)'"
                    }
                } + ["'*:file:_files'"]
                functions += "\(function)() {\n    _arguments -s \\\n        \(specs.joined(separator: " \\\n        "))\n}\n"
            } else {
                let described = command.info.subcommands.map { "'\($0.info.name):\(quote($0.info.abstract))'" }.joined(separator: " ")
                functions += """
                    \(function)() {
                        local -a commands=(\(described))
                        if (( CURRENT == 2 )); then
                            _describe command commands
                        else
                            local next=${words[2]}
                            shift words; (( CURRENT-- ))
                            _call_function ret \(function)_${next//-/_}
                        fi
                    }

                    """
            }
        }
        return "#compdef \(name)\n\n" + functions + "\n_\(name) \"$@\"\n"
    }

    static func fish(_ root: any Command.Type) -> String {
        let name = root.info.name
        var lines = ["# fish completion for \(name)", "complete -c \(name) -f"]
        for (path, command) in all(root) {
            let condition = path.isEmpty ? "__fish_use_subcommand" : "__fish_seen_subcommand_from \(path.last!)"
            for sub in command.info.subcommands {
                lines.append("complete -c \(name) -n '\(condition)' -a \(sub.info.name) -d '\(quote(sub.info.abstract))'")
            }
            for option in options(command) {
                var line = "complete -c \(name) -n '\(condition)' -l \(option.name) -d '\(quote(option.help))'"
                if option.kind == .option { line += option.choices.isEmpty ? " -r -F" : " -x -a '\(option.choices.joined(separator: " "))'" }
                lines.append(line)
            }
            if command.info.subcommands.isEmpty, !path.isEmpty { lines.append("complete -c \(name) -n '\(condition)' -F") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Text inside single quotes (and zsh's brackets): quotes and brackets left out.
    static func quote(_ text: String) -> String {
        String(text.filter { $0 != "'" && $0 != "[" && $0 != "]" && $0 != ":" })
    }
}

extension String {
    var replacingDashes: String { String(map { $0 == "-" ? "_" : $0 }) }
}
