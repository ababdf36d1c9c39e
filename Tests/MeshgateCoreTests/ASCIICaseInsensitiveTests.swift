import MeshgateCore
import Testing

@Suite struct ASCIICaseInsensitiveTests {
    @Test(arguments: [
        ("Text/Event-Stream; charset=utf-8", "text/event-stream", true),
        ("application/vnd.api+JSON", "json", true),
        ("application/jso", "json", false),
        ("", "json", false),
        ("anything", "", true),
        ("J\u{0130}SON", "json", false),  // non-ASCII letters are not folded
        ("xxjsoxjson", "json", true),
    ])
    func contains(value: String, needle: String, expected: Bool) {
        #expect(value.containsASCIICaseInsensitive(needle) == expected)
    }

    @Test(arguments: [
        ("TEXT/EVENT-STREAM", "text/event-stream", true),
        ("text/event-stream;q=1", "text/event-stream", true),
        ("text/event", "text/event-stream", false),
        (" text/event-stream", "text/event-stream", false),
    ])
    func prefix(value: String, prefix: String, expected: Bool) {
        #expect(value.hasASCIICaseInsensitivePrefix(prefix) == expected)
    }
}
