import MeshgateJSON
import Testing

private func canonical(_ text: String, limits: JSONLimits = .default) -> String? {
    JSONCanonicalizer.canonicalize(Array(text.utf8), limits: limits)?.string
}

/// The shipped ruleset's DLP regex, run with Swift Regex here (the PCRE2 wrapper lives elsewhere):
/// the point is that the canonical text matches where the raw body does not.
private func matchesToolsCallRegex(_ text: String) throws -> Bool {
    // Scalar semantics, like PCRE2 over UTF-8: "\r\n" is two whitespace characters, not one.
    let regex = try Regex(#""method"\s{0,5}:\s{0,5}"tools/call""#).matchingSemantics(.unicodeScalar)
    return text.contains(regex)
}

@Suite struct JSONCanonicalizerTests {
    @Test(arguments: [
        (#"{"method":"tools\u002fcall"}"#, #"{"method":"tools/call"}"#),
        (#"{"method":"tools\u002Fcall"}"#, #"{"method":"tools/call"}"#),
        (#"{"method":"tools\/call"}"#, #"{"method":"tools/call"}"#),
        (#"{"\u006d\u0065thod":"\u0074ools/call"}"#, #"{"method":"tools/call"}"#),
        (#"{"e":"\ud83d\ude00"}"#, "{\"e\":\"\u{1F600}\"}"),
        (#"{"e":"\uD83D\uDE00"}"#, "{\"e\":\"\u{1F600}\"}"),
        (#"{"e":"\ud800x"}"#, "{\"e\":\"\u{FFFD}x\"}"),
        (#"{"e":"\ude00"}"#, "{\"e\":\"\u{FFFD}\"}"),
        (#"{"e":"\ud800\u0041"}"#, "{\"e\":\"\u{FFFD}A\"}"),
        (#"{"e":"a\nb\tc\r\b\f"}"#, "{\"e\":\"a\nb\tc\r\u{08}\u{0C}\"}"),
        (#"{"e":"caf\u00e9 \u20ac"}"#, "{\"e\":\"café €\"}"),
        // The two structural characters stay escaped, however they were written.
        (#"{"e":"say \"hi\" \\ \u0022 \u005c"}"#, #"{"e":"say \"hi\" \\ \" \\"}"#),
    ])
    func decodesEscapes(input: String, expected: String) {
        #expect(canonical(input) == expected)
    }

    @Test func escapedMethodMatchesTheDLPRegexOnlyAfterCanonicalisation() throws {
        let body = #"{"jsonrpc":"2.0","id":7,"method":"tools\u002fcall","params":{"name":"x"}}"#
        #expect(try !matchesToolsCallRegex(body))
        let text = try #require(canonical(body))
        #expect(try matchesToolsCallRegex(text))
    }

    @Test(arguments: [
        "{\"method\"      :      \"tools/call\"}",
        "{\"method\"\n\n\n\n\n\n:\t\t\t\t\t\t\"tools/call\"}",
        "  \r\n{ \"method\" \r\n\r\n : \r\n\r\n\r\n \"tools/call\" }\r\n ",
    ])
    func removesWhitespaceBetweenTokens(input: String) throws {
        #expect(try !matchesToolsCallRegex(input))
        let text = try #require(canonical(input))
        #expect(text == #"{"method":"tools/call"}"#)
        #expect(try matchesToolsCallRegex(text))
    }

    @Test func keepsWhitespaceInsideStrings() {
        #expect(canonical(#"{ "k" : "a  b" , "n" : [ 1 , 2 ] }"#) == #"{"k":"a  b","n":[1,2]}"#)
    }

    @Test func methodAfterFourKibibytesOfParamsIsStillInTheCanonicalText() throws {
        let blob = String(repeating: "A", count: 4096)
        let body = #"{"jsonrpc":"2.0","id":1,"params":{"name":"exfil","arguments":{"blob":""# + blob
            + #""}},"method" : "tools\/call"}"#
        #expect(body.utf8.count > 4096)
        let doc = try #require(JSONCanonicalizer.canonicalize(Array(body.utf8)))
        #expect(try matchesToolsCallRegex(doc.string))
        #expect(doc.value["method"] == .string("tools/call"))
    }

    @Test func walksBatchArrays() throws {
        let body = """
        [ {"jsonrpc":"2.0","id":1,"method":"tools\\/list"},
          {"jsonrpc":"2.0","id":2,"method":"tools\\u002fcall","params":{"name":"a"}} ]
        """
        let doc = try #require(JSONCanonicalizer.canonicalize(Array(body.utf8)))
        #expect(doc.string == #"[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"a"}}]"#)
        #expect(doc.value.arrayValue?.count == 2)
        #expect(try matchesToolsCallRegex(doc.string))
    }

    @Test func duplicateKeysAreAllVisible() throws {
        let doc = try #require(JSONCanonicalizer.canonicalize(Array(#"{"method":"ping","method":"tools\/call"}"#.utf8)))
        #expect(doc.string == #"{"method":"ping","method":"tools/call"}"#)
        #expect(doc.value.values(forKey: "method") == [.string("ping"), .string("tools/call")])
        // Lookups by key agree with JSON.parse and Python: the last one wins.
        #expect(doc.value["method"] == .string("tools/call"))
        guard case .object(let members) = doc.value else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.key) == ["method", "method"])
    }

    @Test func quotedPayloadInsideAStringDoesNotPoseAsStructure() throws {
        let body = #"{"title":"bug","body":"I sent {\"jsonrpc\":\"2.0\",\"method\":\"tools\/call\"} and it failed"}"#
        let text = try #require(canonical(body))
        #expect(text.contains(#"{\"jsonrpc\":\"2.0\",\"method\":\"tools/call\"}"#))
        #expect(try !matchesToolsCallRegex(text))
    }

    @Test func numbersKeepTheirText() throws {
        let doc = try #require(JSONCanonicalizer.canonicalize(Array(#"{"id": 1.50e+3, "n": -0, "big": 123456789012345678901234567890}"#.utf8)))
        #expect(doc.string == #"{"id":1.50e+3,"n":-0,"big":123456789012345678901234567890}"#)
        #expect(doc.value["big"] == .number("123456789012345678901234567890"))
    }

    @Test(arguments: [
        // (raw bytes inside the string, the UTF-8 bytes they must come out as)
        ([0x78, 0xFF, 0x79], [0x78, 0xEF, 0xBF, 0xBD, 0x79]),
        ([0x80], [0xEF, 0xBF, 0xBD]),
        ([0xC0, 0x80], [0xEF, 0xBF, 0xBD, 0xEF, 0xBF, 0xBD]),                    // overlong NUL
        ([0xED, 0xA0, 0x80], [0xEF, 0xBF, 0xBD, 0xEF, 0xBF, 0xBD, 0xEF, 0xBF, 0xBD]), // UTF-8 surrogate
        ([0xE2, 0x82], [0xEF, 0xBF, 0xBD]),                                     // truncated €
        ([0xF4, 0x90, 0x80, 0x80], [0xEF, 0xBF, 0xBD, 0xEF, 0xBF, 0xBD, 0xEF, 0xBF, 0xBD, 0xEF, 0xBF, 0xBD]),
        ([0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80], [0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80]), // valid passes
    ] as [([UInt8], [UInt8])])
    func repairsInvalidUTF8InStrings(raw: [UInt8], expected: [UInt8]) throws {
        let body: [UInt8] = Array(#"{"k":""#.utf8) + raw + Array(#""}"#.utf8)
        let doc = try #require(JSONCanonicalizer.canonicalize(body))
        #expect(doc.text == Array(#"{"k":""#.utf8) + expected + Array(#""}"#.utf8))
        // Same repair as Swift's own decoder (maximal subparts), so tree and text agree.
        #expect(doc.value["k"] == .string(String(decoding: raw, as: UTF8.self)))
    }

    @Test func depthLimit() throws {
        let limits = JSONLimits(maxDepth: 128)
        let ok = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        let tooDeep = String(repeating: "[", count: 129) + String(repeating: "]", count: 129)
        #expect(canonical(ok, limits: limits) == ok)
        #expect(canonical(tooDeep, limits: limits) == nil)
        #expect(throws: JSONParseError(.tooDeep(limit: 128), at: 128)) {
            try JSONCanonicalizer.canonicalizeOrThrow(Array(tooDeep.utf8), limits: limits)
        }
        let objects = String(repeating: #"{"a":"#, count: 129) + "1" + String(repeating: "}", count: 129)
        #expect(canonical(objects, limits: limits) == nil)
    }

    @Test func hostileNestingIsRejectedWithoutExhaustingTheStack() {
        let bomb = [UInt8](repeating: UInt8(ascii: "["), count: 500_000)
        #expect(JSONCanonicalizer.canonicalize(bomb, limits: JSONLimits(maxBytes: 1 << 20)) == nil)
        // Parsing is iterative; a raised limit still works (freeing the tree recurses per level,
        // which is one reason the default stays at 128).
        let deep = String(repeating: "[", count: 2_000) + String(repeating: "]", count: 2_000)
        let doc = JSONCanonicalizer.canonicalize(Array(deep.utf8), limits: JSONLimits(maxDepth: 2_000))
        #expect(doc?.text.count == 4_000)
    }

    @Test func sizeAndValueLimits() {
        let body = Array(#"{"a":[1,2,3,4,5]}"#.utf8)
        #expect(JSONCanonicalizer.canonicalize(body, limits: JSONLimits(maxBytes: body.count)) != nil)
        #expect(JSONCanonicalizer.canonicalize(body, limits: JSONLimits(maxBytes: body.count - 1)) == nil)
        #expect(JSONCanonicalizer.canonicalize(body, limits: JSONLimits(maxValues: 7)) != nil)
        #expect(JSONCanonicalizer.canonicalize(body, limits: JSONLimits(maxValues: 6)) == nil)
    }

    @Test(arguments: [
        "", "   ", "{", "}", "[1,]", "{\"a\":1,}", "{'a':1}", "{\"a\" 1}", "{\"a\":1} x", "{\"a\":1}{}",
        "[1 2]", "01", "-", "1.", ".5", "1e", "+1", "NaN", "Infinity", "tru", "nul", "True",
        "\"unterminated", "\"bad \\x escape\"", "\"bad \\u12G4\"", "\"raw\ttab\"", "\"raw\nnewline\"",
        "{\"a\":1}\u{0C}", "hello", "<html></html>", "a=1&b=2", "{\"a\":1}\n]",
    ])
    func rejectsNonJSON(input: String) {
        #expect(canonical(input) == nil)
    }

    @Test(arguments: ["1", "\"s\"", "null", "true", "[]", "{}", "-0.5e+10", "0", "[[],{}]"])
    func acceptsScalarsAndEmptyContainersAtTopLevel(input: String) {
        #expect(canonical(" \(input)\n") == input)
    }

    @Test func readsBOMAndUTF16Bodies() throws {
        let json = #"{"method":"tools\u002fcall"}"#
        let bom = try #require(JSONCanonicalizer.canonicalize([0xEF, 0xBB, 0xBF] + Array(json.utf8)))
        #expect(bom.string == #"{"method":"tools/call"}"#)
        #expect(bom.sourceEncoding == .utf8WithBOM)

        let utf16LE = json.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let le = try #require(JSONCanonicalizer.canonicalize(utf16LE))
        #expect(le.string == #"{"method":"tools/call"}"#)
        #expect(le.sourceEncoding == .utf16LE)

        let utf16BEWithBOM: [UInt8] = [0xFE, 0xFF] + json.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        #expect(JSONCanonicalizer.canonicalize(utf16BEWithBOM)?.string == #"{"method":"tools/call"}"#)

        let utf32LE = json.unicodeScalars.flatMap { s -> [UInt8] in
            let v = s.value
            return [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)]
        }
        #expect(JSONCanonicalizer.canonicalize(utf32LE)?.sourceEncoding == .utf32LE)
        #expect(JSONCanonicalizer.canonicalize(utf32LE)?.string == #"{"method":"tools/call"}"#)
    }

    @Test func errorsNameTheOffset() {
        #expect(throws: JSONParseError(.trailingData, at: 8)) {
            try JSONCanonicalizer.canonicalizeOrThrow(Array(#"{"a":1} x"#.utf8))
        }
        #expect(throws: JSONParseError(.unexpectedByte(UInt8(ascii: "]")), at: 3)) {
            try JSONCanonicalizer.canonicalizeOrThrow(Array("[1,]".utf8))
        }
        let error = JSONParseError(.unexpectedByte(UInt8(ascii: "]")), at: 3)
        #expect(error.description == "invalid JSON at byte 3: unexpected ']'")
    }
}
