/// A unified diff of two versions of a file, as `diff -u` writes it and `patch -p0` and
/// `git apply -p0` read it: lines compared with their line ends, so a changed CRLF shows.
enum UnifiedDiff {
    /// Lines of context around each change.
    static let context = 3

    /// The diff of `old` and `new`, both named `path`; empty when they are equal.
    static func render(old: [UInt8], new: [UInt8], path: String) -> String {
        let a = lines(old), b = lines(new)
        let script = operations(a, b)
        guard script.contains(where: { $0 != .keep }) else { return "" }
        // A name with a blank ends at a tab, as `diff -u` writes it and `patch` reads it.
        let name = path.contains(" ") || path.contains("\t") ? path + "\t" : path
        var out = "--- \(name)\n+++ \(name)\n"
        // Walk the script, opening a hunk at each change and closing it after `context` equal lines
        // that no further change follows within twice the context.
        var index = 0, oldLine = 0, newLine = 0
        while index < script.count {
            guard script[index] != .keep else {
                index += 1
                oldLine += 1
                newLine += 1
                continue
            }
            let lead = min(context, oldLine, newLine)
            var hunkStart = index - lead
            var end = index
            var quiet = 0
            var scan = index
            while scan < script.count {
                if script[scan] == .keep {
                    quiet += 1
                    if quiet > 2 * context { break }
                } else {
                    quiet = 0
                    end = scan
                }
                scan += 1
            }
            let hunkEnd = min(script.count, end + 1 + context)
            let oldStart = oldLine - lead, newStart = newLine - lead
            var body = "", oldCount = 0, newCount = 0
            var o = oldStart, n = newStart
            while hunkStart < hunkEnd {
                switch script[hunkStart] {
                case .keep:
                    body += line(" ", a[o])
                    o += 1
                    n += 1
                    oldCount += 1
                    newCount += 1
                case .delete:
                    body += line("-", a[o])
                    o += 1
                    oldCount += 1
                case .insert:
                    body += line("+", b[n])
                    n += 1
                    newCount += 1
                }
                hunkStart += 1
            }
            out += "@@ -\(range(oldStart, oldCount)) +\(range(newStart, newCount)) @@\n" + body
            index = hunkEnd
            oldLine = o
            newLine = n
        }
        return out
    }

    enum Operation { case keep, delete, insert }

    /// One line of the diff; a last line without a newline is marked as `diff` marks it.
    private static func line(_ sign: String, _ bytes: ArraySlice<UInt8>) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        return bytes.last == 0x0A ? sign + text : sign + text + "\n\\ No newline at end of file\n"
    }

    /// `1,3` for three lines from line 1; an empty range names the line before it.
    private static func range(_ start: Int, _ count: Int) -> String {
        count == 1 ? "\(start + 1)" : "\(count == 0 ? start : start + 1),\(count)"
    }

    /// The lines of `bytes`, each with its newline.
    static func lines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var out: [ArraySlice<UInt8>] = []
        var start = 0
        for (index, byte) in bytes.enumerated() where byte == 0x0A {
            out.append(bytes[start...index])
            start = index + 1
        }
        if start < bytes.count { out.append(bytes[start...]) }
        return out
    }

    /// The shortest edit script from `a` to `b` (Myers' O(ND) algorithm), after the common
    /// prefix and suffix are set aside: fixes change few lines of long files.
    static func operations(_ a: [ArraySlice<UInt8>], _ b: [ArraySlice<UInt8>]) -> [Operation] {
        var prefix = 0
        while prefix < a.count, prefix < b.count, a[prefix] == b[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < a.count - prefix, suffix < b.count - prefix, a[a.count - 1 - suffix] == b[b.count - 1 - suffix] { suffix += 1 }
        let x = Array(a[prefix..<(a.count - suffix)]), y = Array(b[prefix..<(b.count - suffix)])
        return Array(repeating: .keep, count: prefix) + patience(x, y) + Array(repeating: .keep, count: suffix)
    }

    /// Patience diff: lines that occur once in each file and in the same order anchor the two
    /// files to each other, and only the stretches between anchors go to Myers' algorithm. Fixes
    /// change thousands of lines apart from each other in long files; between two unique lines
    /// that did not change, a stretch is a line or two.
    private static func patience(_ a: [ArraySlice<UInt8>], _ b: [ArraySlice<UInt8>]) -> [Operation] {
        var counts: [ArraySlice<UInt8>: (a: Int, b: Int, index: Int)] = [:]
        for (index, line) in a.enumerated() {
            counts[line, default: (0, 0, 0)].a += 1
            counts[line]!.index = index
        }
        for line in b { counts[line]?.b += 1 }
        // Unique in both, in b's order: the longest run increasing in a is the anchors (patience sorting).
        var pairs: [(a: Int, b: Int)] = []
        for (index, line) in b.enumerated() {
            if let count = counts[line], count.a == 1, count.b == 1 { pairs.append((count.index, index)) }
        }
        var piles: [Int] = []  // index into pairs of each pile's top
        var previous = [Int](repeating: -1, count: pairs.count)
        for (index, pair) in pairs.enumerated() {
            var low = 0, high = piles.count
            while low < high {
                let middle = (low + high) / 2
                if pairs[piles[middle]].a < pair.a { low = middle + 1 } else { high = middle }
            }
            if low > 0 { previous[index] = piles[low - 1] }
            if low == piles.count { piles.append(index) } else { piles[low] = index }
        }
        var anchors: [(a: Int, b: Int)] = []
        var at = piles.last ?? -1
        while at >= 0 {
            anchors.append(pairs[at])
            at = previous[at]
        }
        anchors.reverse()
        guard !anchors.isEmpty else { return myers(a, b) }
        var out: [Operation] = []
        var i = 0, j = 0
        for anchor in anchors + [(a.count, b.count)] {
            out += myers(Array(a[i..<anchor.a]), Array(b[j..<anchor.b]))
            if anchor.a < a.count { out.append(.keep) }
            i = anchor.a + 1
            j = anchor.b + 1
        }
        return out
    }

    /// Edit steps Myers' search takes at most in one stretch.
    static let longestSearch = 2_000

    private static func myers(_ a: [ArraySlice<UInt8>], _ b: [ArraySlice<UInt8>]) -> [Operation] {
        let n = a.count, m = b.count
        if n == 0 { return Array(repeating: .insert, count: m) }
        if m == 0 { return Array(repeating: .delete, count: n) }
        let max = n + m, offset = max + 1
        var v = [Int](repeating: 0, count: 2 * max + 3)
        // Each step keeps only the diagonals it can reach, -d-1…d+1: memory grows with the
        // changes, not with the file.
        var trace: [[Int]] = []
        var found = false
        search: for d in 0...min(max, longestSearch) {
            trace.append(Array(v[(offset - d - 1)...(offset + d + 1)]))
            for k in stride(from: -d, through: d, by: 2) {
                var x = k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]) ? v[offset + k + 1] : v[offset + k - 1] + 1
                var y = x - k
                while x < n, y < m, a[x] == b[y] {
                    x += 1
                    y += 1
                }
                v[offset + k] = x
                if x >= n, y >= m {
                    found = true
                    break search
                }
            }
        }
        // A stretch this different (every line of a long one changed) is written as removed, then
        // added: a valid diff, if not the shortest, instead of a search that grows with its square.
        guard found else { return Array(repeating: .delete, count: n) + Array(repeating: .insert, count: m) }
        // Back through the trace, from the end to the start.
        var operations: [Operation] = []
        var x = n, y = m
        for d in stride(from: trace.count - 1, through: 0, by: -1) {
            let window = trace[d]
            func at(_ k: Int) -> Int { window[k + d + 1] }
            let k = x - y
            let previous = k == -d || (k != d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1
            let previousX = d == 0 ? 0 : at(previous), previousY = previousX - previous
            while x > previousX, y > previousY {
                operations.append(.keep)
                x -= 1
                y -= 1
            }
            if d > 0 {
                operations.append(x == previousX ? .insert : .delete)
                x = previousX
                y = previousY
            }
        }
        return operations.reversed()
    }
}
