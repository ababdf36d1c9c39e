@testable import MeshgatePolicy
import Testing

@Suite struct AbsoluteURLTests {
    @Test func splitsPlainURLs() throws {
        let url = try #require(AbsoluteURL("HTTPS://Portal.Example:8443/mcp?x=1#top"))
        #expect(url.scheme == "https")
        #expect(url.hostPort.description == "portal.example:8443")
        #expect(url.target == "/mcp?x=1")
        #expect(AbsoluteURL("http://h.example")?.target == "/")
        #expect(AbsoluteURL("http://h.example?q")?.target == "/?q")
        #expect(AbsoluteURL("http://user@h.example/") == nil)
    }

    // Found by scripts/fuzz.sh: delimiters were searched per Character, and a grapheme cluster can
    // take one in ("\u{600}#" and "?\u{308}" are single Characters).
    @Test func delimitersInsideGraphemeClusters() throws {
        #expect(AbsoluteURL("https://h.example/x\u{600}#frag")?.target == "/x\u{600}")
        #expect(AbsoluteURL("https://h.example?\u{308}q")?.target == "/?\u{308}q")
        #expect(AbsoluteURL("https://u\u{600}@h.example/") == nil)
    }
}
