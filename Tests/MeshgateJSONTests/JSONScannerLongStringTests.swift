import MeshgateJSON
import Testing

/// Strings long enough for the scanner's word-at-a-time path, with the special bytes placed at
/// every offset inside a word, so the fast path and the byte path must agree with each other.
@Suite struct JSONScannerLongStringTests {
    private static let specials: [(raw: String, decoded: String, canonical: String)] = [
        (#"\n"#, "\n", "\n"),
        (#"\""#, "\"", #"\""#),
        (#"\\"#, "\\", #"\\"#),
        (#"\u0022"#, "\"", #"\""#),
        (#"\/"#, "/", "/"),
        ("é", "é", "é"),
        ("\u{1F600}", "\u{1F600}", "\u{1F600}"),
        (#"\ud83d\ude00"#, "\u{1F600}", "\u{1F600}"),
        (#"\ud800"#, "\u{FFFD}", "\u{FFFD}"),
    ]

    @Test(arguments: 0..<specials.count)
    func specialAtEveryOffsetDecodesAndCanonicalisesAlike(index: Int) throws {
        let special = Self.specials[index]
        let pad = "abcdefghijklmnopqrstuvwx"
        for offset in 0..<17 {
            let before = String(pad.prefix(offset))
            let raw = "{\"k\":\"\(before)\(special.raw)\(pad)\"}"
            let doc = try JSONCanonicalizer.canonicalizeOrThrow(Array(raw.utf8))
            let decoded = before + special.decoded + pad
            #expect(doc.value["k"] == .string(decoded))
            #expect(doc.string == "{\"k\":\"\(before)\(special.canonical)\(pad)\"}")
            // Character and scalar views must see the same text as one built the ordinary way.
            let value = try #require(doc.value["k"]?.stringValue)
            #expect(value.count == decoded.count)
            #expect(value.unicodeScalars.count == decoded.unicodeScalars.count)
            #expect(value.hashValue == decoded.hashValue)
        }
    }

    @Test func invalidUTF8InALongStringIsRepaired() throws {
        var bytes = Array(#"{"k":"0123456789abcdef"#.utf8)
        bytes += [0xC3, 0x28, 0xFF, 0xE2, 0x82]
        bytes += Array(#"0123456789abcdef"}"#.utf8)
        let doc = try JSONCanonicalizer.canonicalizeOrThrow(bytes)
        let expected = "0123456789abcdef\u{FFFD}(\u{FFFD}\u{FFFD}0123456789abcdef"
        #expect(doc.value["k"] == .string(expected))
        #expect(doc.value["k"]?.stringValue?.count == expected.count)
        #expect(doc.string == "{\"k\":\"\(expected)\"}")
    }

    @Test func controlCharacterAfterALongRunIsRejectedWhereItIs() {
        let raw = Array("{\"k\":\"0123456789abcdef0123\u{01}\"}".utf8)
        #expect(throws: JSONParseError(.controlCharacterInString(0x01), at: 26)) {
            try JSONCanonicalizer.canonicalizeOrThrow(raw)
        }
    }

    @Test func unterminatedLongStringEndsUnexpectedly() {
        let raw = Array("{\"k\":\"0123456789abcdef0123456789".utf8)
        #expect(throws: JSONParseError(.unexpectedEnd, at: raw.count)) {
            try JSONCanonicalizer.canonicalizeOrThrow(raw)
        }
    }

    @Test func parserAloneGivesTheSameTreeAsTheCanonicalizer() throws {
        let raw = #"{"a":"x\"y\\z \u00e9 0123456789abcdef","b":["0123456789abcdef\n",{"c\/":"d"}]}"#
        let doc = try JSONCanonicalizer.canonicalizeOrThrow(Array(raw.utf8))
        #expect(try JSONParser.parse(raw) == doc.value)
    }

    /// Each 0xFF becomes three bytes, so the canonical text outgrows the input several times over.
    @Test(arguments: [1, 100, 5000])
    func repairsLongerThanTheInputAreAllKept(count: Int) throws {
        var bytes = Array(#"{"a":"0123456789abcdef","k":""#.utf8)
        bytes += [UInt8](repeating: 0xFF, count: count)
        bytes += Array(#" tail 0123456789abcdef\n","b":[true,1]}"#.utf8)
        let doc = try JSONCanonicalizer.canonicalizeOrThrow(bytes)
        let repaired = String(repeating: "\u{FFFD}", count: count) + " tail 0123456789abcdef\n"
        #expect(doc.value["k"] == .string(repaired))
        #expect(doc.string == "{\"a\":\"0123456789abcdef\",\"k\":\"\(repaired)\",\"b\":[true,1]}")
        #expect(try JSONParser.parse(bytes) == doc.value)
    }
}
