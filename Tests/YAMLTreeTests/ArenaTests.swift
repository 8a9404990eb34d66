import Foundation
import Testing
import YAMLTree

/// The tree lives in one arena: nodes are indices, aliases share the anchored nodes, scalars'
/// text is read from one buffer.
@Suite struct ArenaTests {
    private func parse(_ text: String) -> YAMLDocument { YAMLParser.parse(Array(text.utf8)) }

    @Test func anAliasSharesTheAnchoredNodesInsteadOfCopyingThem() throws {
        // 100 scalars and a list under an anchor, used 50 times: a copying tree holds 5,000+ nodes.
        let items = (0..<100).map { "x\($0)" }.joined(separator: ", ")
        let uses = Array(repeating: "*a", count: 50).joined(separator: ", ")
        let root = try #require(parse("a: &a [\(items)]\nb: [\(uses)]\n").root)
        // The root, its 2 keys, the anchored list and its 100 items, the list of aliases.
        #expect(root.arena.nodeCount == 1 + 2 + 1 + 100 + 1)
        let used = try #require(root["b"]?.sequence)
        #expect(used.count == 50)
        #expect(used.allSatisfy { $0.sequence?.count == 100 && $0.sequence?[99].scalar?.value == "x99" })
        #expect(used[49].start == root["a"]?.start)
    }

    @Test func aNodeMadeFromContentCopiesListsAndMappingsIntoAnArenaOfItsOwn() throws {
        let root = try #require(parse("k: [1, {two: 2}, three]\n").root)
        let list = try #require(root["k"])
        let copy = Node(list.content, start: .start, end: .start, tag: "!custom")
        #expect(copy.tag == "!custom")
        #expect(copy.sequence?.map { $0.kindDescription } == ["a scalar", "a mapping", "a scalar"])
        #expect(copy.sequence?[1]["two"]?.scalar == Scalar("2"))
        #expect(copy.sequence?[2].start == list.sequence?[2].start)
        #expect(copy.arena.nodeCount == 6)
        let empty = Node.emptyMapping(at: Mark(line: 3, column: 1, offset: 9))
        #expect(empty.mapping?.isEmpty == true && empty.start.line == 3)
    }

    @Test(arguments: ["", "~", "null", "Null", "NULL", "'null'", "nul", "\"\"", "NULLS"])
    func nullIsReadFromTheBytesAsYAMLReadsIt(_ value: String) throws {
        let node = try #require(parse("k: \(value)\n").root?["k"])
        #expect(node.isNull == node.scalar?.isNull)
        #expect(node.isNull == ["", "~", "null", "Null", "NULL"].contains(value))
    }

    @Test func scalarsAreComparedByTheirBytesWithoutMakingStrings() throws {
        let root = try #require(parse("'größe': \"a\\u00e9\"\nplain: text\n").root)
        let pairs = try #require(root.mapping)
        #expect(pairs[0].key.isScalar("größe"))
        #expect(!pairs[0].key.isScalar("grösse"))
        #expect(pairs[0].value.isScalar("aé"))
        #expect(!pairs[1].key.isScalar("plai"))
        #expect(root["größe"]?.scalar?.style == .doubleQuoted)
        #expect(!root.isScalar("plain"))
    }

    @Test func escapesThatLengthenTheTextStillReadWhole() throws {
        // `\L` (3 bytes) and `\U0001F600` (4) from 2 and 10 source bytes: the text buffer grows.
        let text = "k: \"" + String(repeating: "\\L", count: 2_000) + "\\U0001F600\"\n"
        let value = try #require(parse(text).root?["k"]?.scalar?.value)
        #expect(value.unicodeScalars.count == 2_001)
        #expect(value.utf8.count == 6_004)
        #expect(value.hasSuffix("😀"))
    }
}
