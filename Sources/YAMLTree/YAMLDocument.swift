/// The result of reading one YAML buffer: the root node when reading got that far, and every
/// problem found. A fatal problem leaves `root` nil; duplicate keys do not (the first value is
/// kept), so the layers above can go on checking.
public struct YAMLDocument: Sendable {
    public var root: Node?
    public var problems: [YAMLProblem]
    /// The bytes that were read, for rendering source lines under diagnostics.
    public var source: [UInt8]

    public init(root: Node?, problems: [YAMLProblem], source: [UInt8]) {
        self.root = root
        self.problems = problems
        self.source = source
    }
}
