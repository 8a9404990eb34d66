import Foundation
import Testing
import YAMLTree

@Suite struct TreeTests {
    @Test func keepsMappingOrderStylesAndTags() throws {
        let document = Fixture.parse("styles.yaml")
        #expect(document.problems.isEmpty)
        let pairs = try #require(document.root?.mapping)
        #expect(
            pairs.map { $0.key.scalar?.value } == [
                "plain", "single", "double", "number", "literal", "folded", "tagged", "empty",
            ])
        let values = pairs.map { $0.value.scalar }
        #expect(values[0] == Scalar("on", style: .plain))
        #expect(values[1] == Scalar("on", style: .singleQuoted))
        #expect(values[2] == Scalar("30", style: .doubleQuoted))
        #expect(values[3] == Scalar("30", style: .plain))
        #expect(values[4] == Scalar("line one\nline two\n", style: .literal))
        #expect(values[5] == Scalar("folded text\n", style: .folded))
        #expect(values[6] == Scalar("0755", style: .plain))
        #expect(pairs[6].value.tag == "tag:yaml.org,2002:str")
        #expect(pairs[0].value.tag == nil)
        #expect(values[7]?.isNull == true)
        #expect(values[1]?.isNull == false)
    }

    @Test func everyNodeKnowsLineColumnAndOffset() throws {
        let text = "updates:\n  server: https://x\n  preflight:\n    - free_space: {headroom: 10%}\n"
        let root = try #require(parse(text).root)
        let updates = try #require(root["updates"])
        #expect(updates.start == Mark(line: 2, column: 3, offset: 11))
        let server = try #require(updates["server"])
        #expect(server.start == Mark(line: 2, column: 11, offset: 19))
        #expect(server.end == Mark(line: 2, column: 20, offset: 28))
        let gate = try #require(updates["preflight"]?.sequence?.first)
        #expect(gate.start.line == 4 && gate.start.column == 7)
        let headroom = try #require(gate["free_space"]?["headroom"])
        #expect(headroom.scalar?.value == "10%")
        #expect(headroom.start == Mark(line: 4, column: 30, offset: 71))
        let offset = headroom.start.offset
        #expect(Array(text.utf8)[offset..<offset + 3] == Array("10%".utf8)[...])
    }

    @Test func columnsCountScalarsAndOffsetsCountBytes() throws {
        let text = "caf\u{e9}: \u{1F600}\nnext: '\u{fc}ber'\n"
        let root = try #require(parse(text).root)
        let pairs = try #require(root.mapping)
        #expect(pairs[0].value.start == Mark(line: 1, column: 7, offset: 7))
        #expect(pairs[1].key.start == Mark(line: 2, column: 1, offset: 12))
        #expect(pairs[1].value.start == Mark(line: 2, column: 7, offset: 18))
        #expect(pairs[1].value.scalar?.value == "\u{fc}ber")
    }

    @Test func byteOrderMarkAndCRLFKeepOffsetsRight() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("a: 1\r\nb: 2\r\n".utf8)
        let root = try #require(YAMLParser.parse(bytes).root)
        let b = try #require(root.mapping?[1])
        #expect(b.key.start == Mark(line: 2, column: 1, offset: 9))
        #expect(bytes[b.value.start.offset] == UInt8(ascii: "2"))
        let error = YAMLParser.parse([0xEF, 0xBB, 0xBF] + Array("a: \u{1}\n".utf8))
        #expect(error.problems.first?.mark == Mark(line: 1, column: 4, offset: 6))
    }

    /// A byte offset gives back the parser's own line and column, past a byte-order mark, CRLF,
    /// a lone CR and characters of several bytes.
    @Test func aByteOffsetGivesTheParsersMark() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("caf\u{e9}: \u{1F600}\r\nnext: '\u{fc}ber'\rlast: [\u{e9}, x]\n".utf8)
        var marks: [Mark] = []
        func collect(_ node: Node) {
            marks += [node.start, node.end]
            node.mapping?.forEach {
                collect($0.key)
                collect($0.value)
            }
            node.sequence?.forEach(collect)
        }
        collect(try #require(YAMLParser.parse(bytes).root))
        #expect(marks.count > 10)
        for mark in marks { #expect(Mark(ofByte: mark.offset, in: bytes) == mark, "\(mark) at byte \(mark.offset)") }
        #expect(Mark(ofByte: 3, in: bytes) == Mark(line: 1, column: 1, offset: 3))
        #expect(Mark(ofByte: bytes.count + 5, in: bytes).offset == bytes.count)
    }

    @Test func utf16IsRejectedWithAClearMessage() {
        let document = YAMLParser.parse([0xFF, 0xFE, 0x61, 0x00, 0x3A, 0x00])
        #expect(document.problems.map(\.kind) == [.reader])
        #expect(document.problems.first?.message.contains("UTF-16") == true)
    }

    @Test func offsetsStayRightFarIntoALongNonASCIIFile() throws {
        var text = ""
        for index in 0..<2_000 { text += "k\(index): \u{e9}\u{e9}\u{e9}\n" }
        let bytes = Array(text.utf8)
        let pairs = try #require(YAMLParser.parse(bytes).root?.mapping)
        #expect(pairs.count == 2_000)
        for pair in pairs {
            #expect(bytes[pair.value.start.offset] == 0xC3)
            #expect(bytes[pair.key.start.offset] == UInt8(ascii: "k"))
        }
    }

    @Test func scalarsKeepEmbeddedNULFromEscapes() throws {
        let root = try #require(parse("a: \"x\\0y\"\n").root)
        #expect(root["a"]?.scalar?.value.utf8.count == 3)
    }

    @Test func explicitSingleDocumentIsFine() throws {
        let document = parse("---\na: 1\n...\n")
        #expect(document.problems.isEmpty)
        #expect(document.root?["a"]?.scalar?.value == "1")
    }
}

@Suite struct AliasTests {
    @Test func aliasesExpandToTheAnchoredNode() throws {
        let document = Fixture.parse("anchors.yaml")
        #expect(document.problems.isEmpty)
        let probes = try #require(document.root?["updates"]?["healthcheck"]?["probes"]?.sequence)
        #expect(probes.count == 2)
        for probe in probes {
            #expect(probe["http"]?["url"]?.scalar?.value == "http://127.0.0.1/healthz")
            #expect(probe["http"]?.start == Mark(line: 1, column: 11, offset: 10))
        }
    }

    @Test func billionLaughsIsRejectedByTheBudget() throws {
        let document = Fixture.parse("alias-bomb.yaml")
        #expect(document.root == nil)
        let problem = try #require(document.problems.first)
        #expect(document.problems.count == 1)
        #expect(problem.kind == .aliasBudget)
        #expect(problem.mark.line == 6 && problem.mark.column == 8)
        #expect(problem.message.contains("100000 nodes"))
    }

    @Test func aBudgetJustLargeEnoughAdmitsTheSameAliases() throws {
        let text = "a: &a [1, 2, 3]\nb: [*a, *a]\n"
        #expect(parse(text, limits: YAMLLimits(maxAliasNodes: 8)).problems.isEmpty)
        let over = parse(text, limits: YAMLLimits(maxAliasNodes: 7))
        #expect(over.problems.map(\.kind) == [.aliasBudget])
        #expect(over.problems.first?.mark == Mark(line: 2, column: 9, offset: 24))
    }

    @Test func undefinedAliasIsAnErrorAtTheAlias() throws {
        let document = Fixture.parse("undefined-alias.yaml")
        #expect(document.root == nil)
        let problem = try #require(document.problems.first)
        #expect(problem.kind == .undefinedAlias)
        #expect(problem.mark == Mark(line: 1, column: 10, offset: 9))
        #expect(problem.message.contains("*missing"))
    }

    @Test func aliasesCannotBuildNestingPastTheCap() throws {
        // Each level wraps the previous anchor two levels deeper.
        var text = "l0: &l0 [[x]]\n"
        for level in 1...10 { text += "l\(level): &l\(level) [[*l\(level - 1)]]\n" }
        #expect(parse(text, limits: YAMLLimits(maxDepth: 32)).problems.isEmpty)
        let document = parse(text, limits: YAMLLimits(maxDepth: 16))
        #expect(document.problems.map(\.kind) == [.tooDeep])
    }
}

@Suite struct StructureTests {
    @Test func duplicateKeyIsReportedAtTheSecondWithANoteAtTheFirst() throws {
        let document = Fixture.parse("duplicate-key.yaml")
        let problem = try #require(document.problems.first)
        #expect(document.problems.count == 1)
        #expect(problem.kind == .duplicateKey)
        #expect(!problem.isFatal)
        #expect(problem.mark == Mark(line: 4, column: 3, offset: 49))
        #expect(problem.notes == [.init(message: "first given here", mark: Mark(line: 2, column: 3, offset: 11))])
        // Reading goes on, keeping the first value, so the layers above can check the rest.
        let updates = try #require(document.root?["updates"])
        #expect(updates.mapping?.count == 2)
        #expect(updates["server"]?.scalar?.value == "https://a")
    }

    @Test func duplicateKeysInNestedAndFlowMappingsAreAllFound() throws {
        let document = parse("a: {x: 1, x: 2}\nb:\n  c: 1\n  d: 2\n  c: 3\nb: 4\n")
        #expect(document.problems.map(\.kind) == [.duplicateKey, .duplicateKey, .duplicateKey])
        #expect(document.problems.map(\.mark.line) == [1, 5, 6])
    }

    /// A key written as an alias is reported where the alias stands, not at its anchor.
    @Test func aDuplicateKeyThroughAnAliasIsReportedAtTheAlias() throws {
        let document = parse("base: &k name\nmap:\n  name: 1\n  *k : 2\n")
        let problem = try #require(document.problems.first)
        #expect(document.problems.count == 1 && problem.kind == .duplicateKey)
        #expect(problem.mark.line == 4 && problem.mark.column == 3, "\(problem.mark)")
        #expect(problem.notes.first?.mark.line == 3)
        #expect(document.root?["map"]?["name"]?.scalar?.value == "1")
    }

    /// Lists and mappings used as keys are compared by their content; different ones are not
    /// duplicates, and a scalar never equals a complex key.
    @Test func aRepeatedComplexKeyIsFound() throws {
        let document = parse("? [a, b]\n: 1\n? [a, b]\n: 2\n? {x: 1}\n: 3\n? {x: 2}\n: 4\n? {x: 1}\n: 5\n'[\"a\", \"b\"]': 6\n")
        #expect(document.problems.map(\.kind) == [.duplicateKey, .duplicateKey])
        #expect(document.problems.map(\.mark.line) == [3, 9])
        #expect(document.problems.first?.message == "key '[\"a\", \"b\"]' is given twice in this mapping")
        #expect(document.root?.mapping?.count == 4)
    }

    @Test func twoDocumentsAreRejectedAtTheSecond() throws {
        let document = Fixture.parse("two-documents.yaml")
        #expect(document.root == nil)
        let problem = try #require(document.problems.first)
        #expect(problem.kind == .multipleDocuments)
        #expect(problem.mark.line == 3 && problem.mark.column == 1)
        #expect(problem.notes.first?.mark.line == 1)
    }

    @Test(arguments: ["empty.yaml", "only-comment.yaml"])
    func emptyFilesAreRejected(name: String) throws {
        let document = Fixture.parse(name)
        #expect(document.root == nil)
        #expect(document.problems.map(\.kind) == [.empty])
        #expect(document.problems.first?.mark == .start)
    }

    @Test func deepNestingIsCappedWithoutRecursion() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("deep.yaml", Array(repeating: UInt8(ascii: "["), count: 100_000))
        let document = YAMLParser.parse(contentsOf: path)
        #expect(document.root == nil)
        let problem = try #require(document.problems.first)
        #expect(problem.kind == .tooDeep)
        #expect(problem.mark == Mark(line: 1, column: 257, offset: 256))
    }

    @Test func deepBlockMappingsAreCappedToo() throws {
        var text = ""
        for depth in 0..<300 { text += String(repeating: " ", count: depth) + "k:\n" }
        let document = parse(text)
        #expect(document.problems.map(\.kind) == [.tooDeep])
        #expect(document.problems.first?.mark.line == 257)
    }

    @Test func deepNestingOnASmallStackDoesNotOverflow() async throws {
        let bytes = Array(repeating: UInt8(ascii: "["), count: 100_000) + Array(repeating: UInt8(ascii: "]"), count: 100_000)
        let kinds = await SmallStackThread.run(stackSize: 256 << 10) {
            YAMLParser.parse(bytes, limits: YAMLLimits(maxDepth: 1_000)).problems.map(\.kind)
        }
        #expect(kinds == [.tooDeep])
    }
}

@Suite struct LibyamlErrorTests {
    struct Case: Sendable, CustomStringConvertible {
        var file: String
        var kind: YAMLProblem.Kind
        var line: Int
        var column: Int
        var text: String
        var description: String { file }
    }

    static let cases: [Case] = [
        Case(file: "tab-indent.yaml", kind: .scanner, line: 2, column: 1, text: "cannot start any token"),
        Case(file: "invalid-utf8.yaml", kind: .reader, line: 2, column: 16, text: "invalid trailing UTF-8 octet"),
        Case(file: "nul-byte.yaml", kind: .reader, line: 2, column: 12, text: "control characters are not allowed (#x0)"),
        Case(file: "unterminated-quote.yaml", kind: .scanner, line: 3, column: 1, text: "unexpected end of stream"),
    ]

    @Test(arguments: cases)
    func libyamlErrorsCarryTheirPositionAndText(expected: Case) throws {
        let document = Fixture.parse(expected.file)
        #expect(document.root == nil)
        let problem = try #require(document.problems.first)
        #expect(document.problems.count == 1)
        #expect(problem.kind == expected.kind)
        #expect(problem.mark.line == expected.line)
        #expect(problem.mark.column == expected.column)
        #expect(problem.message.contains(expected.text))
    }

    @Test func scannerErrorsKeepLibyamlsContextAsANote() throws {
        let problem = try #require(Fixture.parse("unterminated-quote.yaml").problems.first)
        #expect(problem.notes == [.init(message: "while scanning a quoted scalar", mark: Mark(line: 2, column: 11, offset: 19))])
    }

    @Test func parserErrorsAreReported() throws {
        let problem = try #require(parse("a: [1, 2\nb: 3\n").problems.first)
        #expect(problem.kind == .parser || problem.kind == .scanner)
        #expect(problem.mark.line == 2)
    }
}

@Suite struct SizeAndReadingTests {
    @Test func filesOverTheCapAreRejectedBeforeParsing() throws {
        let directory = try TemporaryDirectory()
        let limit = 16 << 20
        var bytes = Array("a: ".utf8)
        bytes += Array(repeating: UInt8(ascii: "x"), count: limit + 1 - bytes.count)
        let path = try directory.write("big.yaml", bytes)
        let document = YAMLParser.parse(contentsOf: path)
        #expect(document.root == nil)
        #expect(document.problems.map(\.kind) == [.tooLarge])
        #expect(document.problems.first?.message.contains("16 MiB") == true)
        // Exactly at the cap is accepted.
        let fits = try directory.write("fits.yaml", Array(bytes.dropLast()))
        #expect(YAMLParser.parse(contentsOf: fits).problems.isEmpty)
    }

    @Test func buffersOverACustomCapAreRejected() {
        let document = parse("a: 12345\n", limits: YAMLLimits(maxBytes: 8))
        #expect(document.problems.map(\.kind) == [.tooLarge])
    }

    @Test func missingFilesAndDirectoriesAreUnreadable() throws {
        let missing = YAMLParser.parse(contentsOf: "/nonexistent/policy.yaml")
        #expect(missing.problems.map(\.kind) == [.unreadable])
        #expect(missing.problems.first?.message.contains("No such file") == true)
        let directory = try TemporaryDirectory()
        let folder = YAMLParser.parse(contentsOf: directory.url.path)
        #expect(folder.problems.map(\.kind) == [.unreadable])
        #expect(folder.problems.first?.message.contains("directory") == true)
    }
}
