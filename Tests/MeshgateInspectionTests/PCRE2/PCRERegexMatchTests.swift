@testable import MeshgateInspection
import NIOCore
import Testing

@Suite("PCRE2 matching")
struct PCRERegexMatchTests {
    @Test func reportsByteRangesInEveryInputForm() throws {
        let regex = try PCRERegex(#""method"\s*:\s*"tools/call""#)
        let text = #"{"id":1,"method": "tools/call"}"#
        let bytes = Array(text.utf8)
        let expected = 8..<30

        #expect(try regex.firstMatch(in: bytes) == expected)
        #expect(try regex.firstMatch(in: text) == expected)
        #expect(try bytes.withUnsafeBytes { try regex.firstMatch(in: $0) } == expected)

        var buffer = ByteBuffer(string: "PREFIX" + text)
        buffer.moveReaderIndex(forwardBy: 6)
        #expect(try regex.firstMatch(in: buffer) == expected)  // relative to the reader index
        #expect(try regex.matches(in: buffer))
    }

    @Test func startOffsetFindsTheNextMatch() throws {
        let regex = try PCRERegex("abc")
        let bytes = Array("abcabc".utf8)
        #expect(try regex.firstMatch(in: bytes, startingAt: 0) == 0..<3)
        #expect(try regex.firstMatch(in: bytes, startingAt: 1) == 3..<6)
        #expect(try regex.firstMatch(in: bytes, startingAt: 4) == nil)
        #expect(try regex.firstMatch(in: bytes, startingAt: 7) == nil)
        #expect(try regex.firstMatch(in: bytes, startingAt: -1) == nil)
    }

    @Test func emptySubjects() throws {
        #expect(try PCRERegex("^$").firstMatch(in: [UInt8]()) == 0..<0)
        #expect(try PCRERegex("x").firstMatch(in: [UInt8]()) == nil)
        #expect(try PCRERegex("x").matches(in: ByteBuffer()) == false)
    }

    @Test func multiByteCharactersAreOneCharacterAndOffsetsAreBytes() throws {
        let regex = try PCRERegex("é.ü")
        #expect(try regex.firstMatch(in: "xxéßü") == 2..<8)
    }

    static let invalidUTF8: [(String, [UInt8])] = [
        ("lone 0xFF", [0xff]),
        ("lone continuation", [0x80]),
        ("overlong slash", [0xc0, 0xaf]),
        ("truncated 3-byte", [0xe2, 0x82]),
        ("UTF-16 surrogate", [0xed, 0xa0, 0x80]),
        ("beyond U+10FFFF", [0xf4, 0x90, 0x80, 0x80]),
        ("5-byte form", [0xf8, 0x88, 0x80, 0x80, 0x80]),
    ]

    @Test(arguments: invalidUTF8)
    func invalidUTF8NeitherCrashesNorHidesValidText(name: String, junk: [UInt8]) throws {
        let regex = try PCRERegex(#""method"\s{0,5}:\s{0,5}"tools/call""#)
        let payload = Array(#""method":"tools/call""#.utf8)
        let subject = junk + payload + junk
        #expect(try regex.firstMatch(in: subject) == junk.count..<(junk.count + payload.count))
        // An invalid sequence is a barrier: it matches nothing, not even `.` or [^x].
        #expect(try PCRERegex("a.b").matches(in: Array("a".utf8) + junk + Array("b".utf8)) == false)
        #expect(try PCRERegex("a[^x]+b").matches(in: Array("a".utf8) + junk + Array("b".utf8)) == false)
        #expect(try PCRERegex(".").matches(in: junk) == false)
    }

    @Test(arguments: [
        ("(a+)+$", false),
        ("(*NO_JIT)(a+)+$", true),
        ("(a|aa)+$", false),
        ("(\\w+\\s?)+$", false),
    ])
    func catastrophicBacktrackingHitsTheLimit(pattern: String, interpreter: Bool) throws {
        let regex = try PCRERegex(pattern)
        #expect(regex.isJITCompiled == !interpreter)
        let subject = String(repeating: "a", count: 30_000) + "!"
        let error = #expect(throws: PCREMatchError.self) { try regex.matches(in: subject) }
        #expect(error?.isLimitExceeded == true, "\(String(describing: error))")
    }

    @Test func limitErrorNamesThePatternAndTheLimit() {
        let error = PCREMatchError.limitExceeded(pattern: "(a+)+$", limit: .match)
        #expect(error.description.hasPrefix("regex '(a+)+$' exceeded the match limit while matching"))
    }

    @Test func lowerLimitsApply() throws {
        // A modest pattern that needs a few thousand steps fails under a tiny match limit.
        let subject = String(repeating: "ab", count: 2_000) + "!"
        let tight = try PCRERegex("(?:a|b)+$", limits: PCRERegex.Limits(matchLimit: 100))
        let roomy = try PCRERegex("(?:a|b)+$")
        #expect(throws: PCREMatchError.limitExceeded(pattern: "(?:a|b)+$", limit: .match)) {
            try tight.matches(in: subject)
        }
        #expect(try roomy.matches(in: subject) == false)
    }

    @Test func theRegexStillWorksAfterALimitError() throws {
        let regex = try PCRERegex("(a+)+$")
        _ = try? regex.matches(in: String(repeating: "a", count: 30_000) + "!")
        #expect(try regex.firstMatch(in: "xx aaa") == 3..<6)
    }

    @Test func matchDataIsReusedNotAllocatedPerCall() throws {
        let regex = try PCRERegex("needle")
        for _ in 0..<100 { _ = try regex.matches(in: "haystack with a needle") }
        #expect(regex.pooledScratchCount == 1)
    }

    @Test func concurrentMatchesOnOneRegexGiveCorrectAnswers() async throws {
        let regex = try PCRERegex(#""method"\s{0,5}:\s{0,5}"tools/call""#)
        let hit = Array(#"{"jsonrpc":"2.0","method" : "tools/call"}"#.utf8)
        let miss = Array(#"{"jsonrpc":"2.0","method" : "tools/list"}"#.utf8)
        let wrong = await withTaskGroup(of: Int.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var wrong = 0
                    for i in 0..<500 {
                        let expectHit = (i + task) % 2 == 0
                        let matched = (try? regex.matches(in: expectHit ? hit : miss)) ?? !expectHit
                        if matched != expectHit { wrong += 1 }
                    }
                    return wrong
                }
            }
            return await group.reduce(0, +)
        }
        #expect(wrong == 0)
        #expect(regex.pooledScratchCount >= 1)
        #expect(regex.pooledScratchCount <= max(2, System.coreCount * 2))
    }
}
