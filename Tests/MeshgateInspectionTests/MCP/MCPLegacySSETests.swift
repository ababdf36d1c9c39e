import MeshgateInspection
import Testing

@Suite struct MCPLegacySSETests {
    @Test(arguments: [
        ("event: endpoint\ndata: /messages?sessionId=abc\n\n", MCPLegacySSE.Handshake.endpoint("/messages?sessionId=abc")),
        ("event: endpoint\r\ndata: /messages/?session_id=9f\r\n\r\n", .endpoint("/messages/?session_id=9f")),
        ("event:endpoint\rdata:/m?sessionId=1\r\r", .endpoint("/m?sessionId=1")),
        ("\u{FEFF}: keep-alive\n\nevent: endpoint\ndata: /x\n\n", .endpoint("/x")),
        ("retry: 3000\nid: 1\nevent: endpoint\ndata: a\ndata: b\n\n", .endpoint("a\nb")),
        ("event: message\ndata: {}\n\n", .notHandshake),
        ("data: /messages?sessionId=abc\n\n", .notHandshake),
        ("event: endpoint\ndata: /messages?sessionId=abc\n", .incomplete),
        ("event: endp", .incomplete),
        ("", .incomplete),
        ("<!doctype html>\n<html>\n", .notHandshake),
    ])
    func readsTheFirstEvent(stream: String, expected: MCPLegacySSE.Handshake) {
        #expect(MCPLegacySSE.inspect(streamPrefix: Array(stream.utf8)) == expected)
    }

    @Test func givesUpAfterMaxBytesWithoutAnEvent() {
        let endless = Array((": " + String(repeating: "x", count: 5000)).utf8)
        #expect(MCPLegacySSE.inspect(streamPrefix: endless, maxBytes: 4096) == .notHandshake)
    }
}
