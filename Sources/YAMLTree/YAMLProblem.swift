/// A problem found while reading YAML: libyaml's own errors, and the rules this layer adds
/// (duplicate keys, alias budget, depth cap, one document, size cap).
///
/// It is data, not text: the policy layer turns it into a diagnostic with a rule code.
public struct YAMLProblem: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// libyaml's reader: invalid UTF-8, control characters (a NUL byte).
        case reader
        /// libyaml's scanner: tabs in indentation, unterminated quotes, bad escapes.
        case scanner
        /// libyaml's parser: structure that is not YAML.
        case parser
        /// A key given twice in one mapping.
        case duplicateKey = "duplicate_key"
        /// An alias whose anchor was never defined.
        case undefinedAlias = "undefined_alias"
        /// Aliases that would expand past the node budget.
        case aliasBudget = "alias_budget"
        /// Nesting deeper than the cap.
        case tooDeep = "too_deep"
        /// A second document in the stream.
        case multipleDocuments = "multiple_documents"
        /// No document at all.
        case empty
        /// A buffer over the size cap.
        case tooLarge = "too_large"
        /// The file could not be read.
        case unreadable
    }

    /// A secondary location that explains the problem ("first given here").
    public struct Note: Sendable, Hashable, Codable {
        public var message: String
        public var mark: Mark

        public init(message: String, mark: Mark) {
            self.message = message
            self.mark = mark
        }
    }

    public var kind: Kind
    public var message: String
    /// Where the problem is.
    public var mark: Mark
    /// Where the offending span ends, when it is known.
    public var end: Mark?
    public var notes: [Note]

    public init(_ kind: Kind, _ message: String, at mark: Mark, end: Mark? = nil, notes: [Note] = []) {
        self.kind = kind
        self.message = message
        self.mark = mark
        self.end = end
        self.notes = notes
    }

    /// Whether reading stopped here (every kind but a duplicate key).
    public var isFatal: Bool { kind != .duplicateKey }

    public var description: String { "\(mark): \(message)" }
}
