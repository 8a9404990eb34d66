import ArgumentParser
import JSONValue
import UpdatePolicy
import YAMLTree

#if canImport(Glibc)
import Glibc
#endif

/// Shows how updatectl reads a YAML file: every node with its position, style and tag.
struct Tree: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tree",
        abstract: "Show how a YAML file is read: every node with its line, column and style.",
        discussion: "Useful to see why a value is read as it is. Aliases appear expanded."
    )

    @Argument(help: "The YAML file to read, or - for standard input.", completion: .file())
    var path: String

    func run() throws {
        let document = YAMLParser.parse(contentsOf: path)
        for problem in document.problems {
            printError("\(path):\(problem.mark): error: \(problem.message)")
            for note in problem.notes {
                printError("\(path):\(note.mark): note: \(note.message)")
            }
        }
        if let root = document.root {
            var out = ""
            TreePrinter.write(root, into: &out)
            printText(out)
        }
        // A file that cannot be read is a usage mistake (2), as for every command; bad YAML is 1.
        if document.problems.contains(where: { $0.kind == .unreadable }) { throw ExitStatus.usage.exitCode }
        if !document.problems.isEmpty { throw ExitStatus.failure.exitCode }
    }
}

enum TreePrinter {
    /// Writes one line per node, indented by depth, iteratively (no recursion on user data).
    static func write(_ root: Node, into out: inout String) {
        var work: [(node: Node, depth: Int, label: String)] = [(root, 0, "")]
        while let (node, depth, label) = work.popLast() {
            let indent = String(repeating: "  ", count: depth)
            let tag = node.tag.map { " tag=\($0)" } ?? ""
            switch node.content {
            case .scalar(let scalar):
                out += "\(indent)\(label)\(node.start) scalar \(scalar.style.rawValue)\(tag) \(quoted(scalar.value))\n"
            case .sequence(let items):
                out += "\(indent)\(label)\(node.start) sequence\(tag) (\(items.count) items)\n"
                for (index, item) in items.enumerated().reversed() {
                    work.append((item, depth + 1, "[\(index)] "))
                }
            case .mapping(let pairs):
                out += "\(indent)\(label)\(node.start) mapping\(tag) (\(pairs.count) pairs)\n"
                for pair in pairs.reversed() {
                    work.append((pair.value, depth + 2, "value "))
                    work.append((pair.key, depth + 1, "key "))
                }
            }
        }
    }

    /// The value as a JSON string literal, so control characters and quotes are visible.
    static func quoted(_ value: String) -> String { JSON.quote(value) }
}
