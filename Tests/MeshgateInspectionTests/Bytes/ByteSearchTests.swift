import MeshgateInspection
import Testing

@Suite struct ByteSearchTests {
    private func naive(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard haystack.count >= needle.count else { return false }
        return (0...(haystack.count - needle.count)).contains { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
    }

    @Test(arguments: [
        (#"{"jsonrpc":"2.0"}"#, #""jsonrpc""#, true),
        (#""jsonrpc""#, #""jsonrpc""#, true),
        (#"x"jsonrpc"#, #""jsonrpc""#, false),
        (#"{"json":"rpc","jsonrpcx":1}"#, #""jsonrpc""#, false),
        (#"{"tools":[{"type":"mcp"}]}"#, #""mcp"#, true),
        (#"jjjjjjjjj"jsonrpc"#, #""jsonrpc""#, false),
        ("", "a", false),
        ("abc", "", true),
        ("ab", "abc", false),
    ])
    func findsTheNeedleWhereverItIs(haystack: String, needle: String, expected: Bool) {
        #expect(ByteSearch.contains(Array(haystack.utf8), Array(needle.utf8)) == expected)
    }

    @Test func anyOfManyNeedlesSharingAPrefix() {
        let needles = ["ghp", "gho", "ghu", "github_pat_", "xox"].map { Array($0.utf8) }
        #expect(ByteSearch.containsAny(Array("a gh and a ghu".utf8), needles))
        #expect(ByteSearch.containsAny(Array("see github_pat_".utf8), needles))
        #expect(!ByteSearch.containsAny(Array("the agent ghx gh".utf8), needles))
        #expect(!ByteSearch.containsAny(Array("anything".utf8), []))
    }

    @Test func agreesWithANaiveSearchOnRandomInput() {
        // A tiny alphabet so candidates for the anchor byte are everywhere, near misses included.
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array(#"ab"j"#.utf8)
        for _ in 0..<2_000 {
            let haystack = (0..<Int.random(in: 0...40, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            let needle = (0..<Int.random(in: 1...5, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            #expect(ByteSearch.contains(haystack, needle) == naive(haystack, needle), "\(haystack) \(needle)")
            let more = (0..<3).map { _ in (0..<Int.random(in: 1...4, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! } }
            #expect(ByteSearch.containsAny(haystack, [needle] + more) == ([needle] + more).contains { naive(haystack, $0) })
        }
    }
}
