import JSONValue
import Testing

/// The strict reader's number grammar (RFC 8259, section 6), and values surviving their own
/// writing; the fuzzer (`UPDATECTL_FUZZ_TARGET=json scripts/fuzz.sh`) checks the same property on
/// any bytes.
@Suite struct JSONReaderTests {
    @Test(arguments: [
        ("0", "0"), ("-0", "0"), ("7", "7"), ("-12", "-12"), ("1.5", "1.5"), ("1e5", "100000"), ("1E+2", "100"),
        ("-1.25e-3", "-0.00125"), ("123456789012345678901234567890", "1.2345678901234568e+29"),
        ("9223372036854775807", "9223372036854775807"),
    ])
    func aNumberIsRead(text: String, written: String) throws {
        #expect(try JSON.parse(Array(text.utf8)).render() == written)
    }

    /// What RFC 8259 does not allow, and a number no double holds (written back it would be
    /// `inf`, which no JSON reader takes: Go's refuses it too).
    @Test(arguments: [
        "01", "-01", "00", "1.", ".5", "-.5", "1e", "1e+", "1.e5", "+1", "-", "1e400", "-1e400", "0x10", "Infinity",
        "NaN", "1_000",
    ])
    func aNumberOutsideTheGrammarIsRefused(text: String) {
        #expect(throws: JSON.ParseError.self, "\(text)") { try JSON.parse(Array(text.utf8)) }
    }

    @Test func valuesSurviveTheirOwnWriting() throws {
        let text = #"{"b": [1, -0.5, 1.5e-300, true, null, "\u0000\"\\\/\n\ud83d\ude00"], "a": {"": {}}, "a2": []}"#
        let value = try JSON.parse(Array(text.utf8))
        for indent in [0, 2] {
            #expect(try JSON.parse(Array(value.render(indent: indent).utf8)) == value)
        }
        #expect(value.render(indent: 0).hasPrefix(#"{"b":[1,-0.5,"#))
    }

    /// Characters a terminal acts on (C1's CSI, NEL) or that reorder text (bidi controls) are
    /// written as escapes, so a hostile value in `status --format json` cannot reach a terminal raw;
    /// other text, and Go's style for Airlock, stay as they were.
    @Test func terminalControlsAreEscaped() throws {
        let hostile = "a\u{9B}2J\u{85}\u{202E}b\u{7F}é€"
        let written = JSON.quote(hostile)
        #expect(written == #""a\u009b2J\u0085\u202eb\u007fé€""#)
        #expect(try JSON.parse(Array(written.utf8)) == .string(hostile))
        #expect(JSON.quote("\u{202E}", goStyle: true) == "\"\u{202E}\"")
    }
}
