/// "Did you mean" by edit distance.
public enum Suggestions {
    /// The candidate closest to `word`, if it is close enough to be a likely typo.
    public static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
        let target = Array(word.lowercased().unicodeScalars)
        let limit = closeness(target)
        var best: (String, Int)?
        for candidate in candidates {
            let distance = editDistance(target, Array(candidate.lowercased().unicodeScalars), limit: limit)
            if distance <= limit, distance < (best?.1 ?? .max) { best = (candidate, distance) }
        }
        return best?.0
    }

    /// How many edits away a candidate may be and still be offered for `target`.
    static func closeness(_ target: [Unicode.Scalar]) -> Int { max(1, min(3, target.count / 3)) }

    /// Whether `guess` is the only candidate close enough to `word` to be offered.
    static func isOnlyCandidate(_ guess: String, for word: String, in candidates: some Sequence<String>) -> Bool {
        let target = Array(word.lowercased().unicodeScalars)
        let limit = closeness(target)
        return !candidates.contains { $0 != guess && editDistance(target, Array($0.lowercased().unicodeScalars), limit: limit) <= limit }
    }

    /// Whether `word` is `candidate` with one slip of the keyboard: one letter left out or added, or
    /// two adjacent letters swapped (case aside). A letter written for another is not one: `Male`
    /// is a place of its own, not a misspelt `Mahe`.
    public static func isSimpleTypo(_ word: String, of candidate: String) -> Bool {
        let a = Array(word.lowercased().unicodeScalars), b = Array(candidate.lowercased().unicodeScalars)
        if a.count == b.count {
            guard let first = a.indices.first(where: { a[$0] != b[$0] }), first + 1 < a.count else { return false }
            return a[first] == b[first + 1] && a[first + 1] == b[first] && a[(first + 2)...] == b[(first + 2)...]
        }
        let (short, long) = a.count < b.count ? (a, b) : (b, a)
        guard long.count == short.count + 1 else { return false }
        let first = short.indices.first { short[$0] != long[$0] } ?? short.count
        return short[first...] == long[(first + 1)...]
    }

    /// Whether `word` is `candidate` or one edit from it (a letter left out, added or changed, or
    /// two adjacent letters swapped), case aside.
    public static func isWithinOneEdit(_ word: String, of candidate: String) -> Bool {
        editDistance(Array(word.lowercased().unicodeScalars), Array(candidate.lowercased().unicodeScalars), limit: 1) <= 1
    }

    /// Optimal string alignment distance (Levenshtein plus transpositions), stopping early past `limit`.
    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar], limit: Int) -> Int {
        if abs(a.count - b.count) > limit { return limit + 1 }
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            var rowMin = current[0]
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    value = min(value, previous2[j - 2] + 1)
                }
                current[j] = value
                rowMin = min(rowMin, value)
            }
            if rowMin > limit { return limit + 1 }
            swap(&previous2, &previous)
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
