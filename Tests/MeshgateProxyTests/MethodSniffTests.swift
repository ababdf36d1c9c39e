import NIOHTTP1
import Testing

@testable import MeshgateProxy

/// Which request bodies are held (without any rule needing them) so the audit line can name the
/// JSON-RPC method.
@Suite struct MethodSniffTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var headers: [(String, String)]
        var held: Bool
        var testDescription: String { "\(headers) -> \(held ? "held" : "streamed")" }
    }

    static let json: [(String, String)] = [("Content-Type", "application/json")]

    static let cases: [Case] = [
        // Small JSON: always held.
        Case(headers: json + [("Content-Length", "300")], held: true),
        Case(headers: json + [("Content-Length", "8192")], held: true),
        // Large JSON that does not look like MCP streams through.
        Case(headers: json + [("Content-Length", "65536")], held: false),
        Case(headers: json + [("Content-Length", "9000"), ("Accept", "application/json")], held: false),
        // Large JSON from an MCP client (Streamable HTTP headers) is still held up to 64 KiB.
        Case(headers: json + [("Content-Length", "65536"), ("Accept", "application/json, text/event-stream")], held: true),
        Case(headers: json + [("Content-Length", "20000"), ("Mcp-Session-Id", "abc")], held: true),
        Case(headers: json + [("Content-Length", "20000"), ("MCP-Protocol-Version", "2025-06-18")], held: true),
        Case(headers: json + [("Content-Length", "65537"), ("Mcp-Session-Id", "abc")], held: false),
        // Not JSON, or no length.
        Case(headers: [("Content-Type", "text/plain"), ("Content-Length", "300")], held: false),
        Case(headers: json + [("Transfer-Encoding", "chunked")], held: false),
    ]

    @Test(arguments: cases)
    func heldForMethod(_ c: Case) {
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/mcp", headers: HTTPHeaders(c.headers))
        #expect(RequestShape.isSmallJSON(head) == c.held)
    }
}
