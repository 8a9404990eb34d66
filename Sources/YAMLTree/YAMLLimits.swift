/// The bounds that keep hostile YAML from costing unbounded time, memory or stack.
public struct YAMLLimits: Sendable, Hashable {
    /// Largest buffer read, in bytes.
    public var maxBytes: Int
    /// Deepest nesting of sequences and mappings, counted from the root collection as 1,
    /// including what aliases bring in.
    public var maxDepth: Int
    /// Most nodes that aliases may add in total when they are expanded.
    public var maxAliasNodes: Int

    public init(maxBytes: Int = 16 << 20, maxDepth: Int = 256, maxAliasNodes: Int = 100_000) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxAliasNodes = maxAliasNodes
    }

    public static let `default` = YAMLLimits()
}
