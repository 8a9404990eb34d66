import YAMLTree

/// `${NAME}` substitution in command arguments: updatectl replaces them itself, never a shell.
/// `$${NAME}` stands for a literal `${NAME}`.
public enum CommandTemplate {
    public enum Piece: Equatable, Sendable {
        case literal(String)
        case variable(String)
    }

    public enum Problem: Error, Equatable {
        case unclosed(offset: Int)
        case empty(offset: Int)
    }

    /// Splits an argument into literal text and variables; `offset` is in Unicode scalars.
    public static func pieces(_ text: String) -> Result<[(piece: Piece, offset: Int)], Problem> {
        let scalars = Array(text.unicodeScalars)
        var out: [(Piece, Int)] = []
        var literal = ""
        var literalStart = 0
        var index = 0
        func flush() {
            if !literal.isEmpty { out.append((.literal(literal), literalStart)) }
            literal = ""
        }
        while index < scalars.count {
            if scalars[index] == "$", index + 2 < scalars.count, scalars[index + 1] == "$", scalars[index + 2] == "{" {
                if literal.isEmpty { literalStart = index }
                literal += "${"
                index += 3
                continue
            }
            if scalars[index] == "$", index + 1 < scalars.count, scalars[index + 1] == "{" {
                guard let close = scalars[(index + 2)...].firstIndex(of: "}") else { return .failure(.unclosed(offset: index)) }
                guard close > index + 2 else { return .failure(.empty(offset: index)) }
                flush()
                var name = ""
                name.unicodeScalars.append(contentsOf: scalars[(index + 2)..<close])
                out.append((.variable(name), index))
                index = close + 1
                literalStart = index
                continue
            }
            if literal.isEmpty { literalStart = index }
            literal.unicodeScalars.append(scalars[index])
            index += 1
        }
        flush()
        return .success(out)
    }

    /// Substitutes `values` into `argument`; unknown names stay as they are (lint reports them).
    public static func substitute(_ argument: String, _ values: [String: String]) -> String {
        guard case .success(let pieces) = pieces(argument) else { return argument }
        var out = ""
        for (piece, _) in pieces {
            switch piece {
            case .literal(let text): out += text
            case .variable(let name): out += values[name] ?? "${\(name)}"
            }
        }
        return out
    }

    /// Reports unknown or malformed variables in one argument. True when it is clean.
    static func check(_ scalar: Scalar, node: Node, variables: [String], findings: inout [Finding]) -> Bool {
        guard scalar.value.containsByte(UInt8(ascii: "$")) else { return true }
        let known = variables.map { "`${\($0)}`" }.joined(separator: ", ")
        switch pieces(scalar.value) {
        case .failure(let problem):
            let offset =
                switch problem {
                case .unclosed(let at), .empty(let at): at
                }
            let start = position(in: node, scalar: scalar, offset: offset)
            findings.append(Finding(.badVariableSyntax(problem, known: known), start: start))
            return false
        case .success(let pieces):
            var ok = true
            for (piece, offset) in pieces {
                guard case .variable(let name) = piece, !variables.contains(name) else { continue }
                ok = false
                let start = position(in: node, scalar: scalar, offset: offset)
                let end = Mark(
                    line: start.line, column: start.column + name.unicodeScalars.count + 3,
                    offset: start.offset + name.utf8.count + 3)
                let guess = Suggestions.closest(to: name, in: variables)
                let message = Message.unknownVariable(name, guess: guess, known: known)
                var finding = Finding(
                    message, start: start, end: start.line == node.start.line && node.scalar?.style != .literal ? end : nil)
                if isSimple(node, scalar), let guess {
                    finding.propose(
                        .yaml(
                            "${\(guess)}", "write `${\(guess)}`",
                            Suggestions.isOnlyCandidate(guess, for: name, in: variables) ? .safe : .unsafe),
                        replacing: start, end)
                }
                findings.append(finding)
            }
            return ok
        }
    }

    /// The position of the scalar at `offset` within a one-line plain or quoted scalar without
    /// escapes; the node's start otherwise.
    static func position(in node: Node, scalar: Scalar, offset: Int) -> Mark {
        guard isSimple(node, scalar) else { return node.start }
        let quote = scalar.style == .plain ? 0 : 1
        let prefix = String(String.UnicodeScalarView(scalar.value.unicodeScalars.prefix(offset)))
        return Mark(
            line: node.start.line, column: node.start.column + quote + offset,
            offset: node.start.offset + quote + prefix.utf8.count)
    }

    /// Whether the scalar's text stands in the file as it reads: one line, plain or quoted without escapes.
    static func isSimple(_ node: Node, _ scalar: Scalar) -> Bool {
        let simple: Bool
        switch scalar.style {
        case .plain: simple = true
        case .singleQuoted: simple = !scalar.value.contains("'")
        case .doubleQuoted: simple = !scalar.value.contains("\\") && !scalar.value.contains("\"")
        case .literal, .folded: simple = false
        }
        return simple && !scalar.value.contains("\n") && node.end.line == node.start.line && node.tag == nil
    }
}
