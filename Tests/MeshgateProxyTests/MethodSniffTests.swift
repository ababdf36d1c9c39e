import NIOHTTP1
import Testing

@testable import MeshgateProxy

/// Which request bodies are held (without any rule needing them) so the audit line can name the
/// JSON-RPC method.
@Suite struct MethodSniffTests {
    static func head(_ headers: [(String, String)]) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: .POST, uri: "/mcp", headers: HTTPHeaders(headers))
    }

    @Test(arguments: [
        // Small JSON: always held.
        ([("Content-Type", "application/json"), ("Content-Length", "300")], true),
        ([("Content-Type", "application/json"), ("Content-Length", "8192")], true),
        // Large JSON that does not look like MCP streams through.
        ([("Content-Type", "application/json"), ("Content-Length", "65536")], false),
        ([("Content-Type", "application/json"), ("Content-Length", "9000"), ("Accept", "application/json")], false),
        // Large JSON from an MCP client (Streamable HTTP headers) is still held up to 64 KiB.
        ([("Content-Type", "application/json"), ("Content-Length", "65536"), ("Accept", "application/json, text/event-stream")], true),
        ([("Content-Type", "application/json"), ("Content-Length", "20000"), ("Mcp-Session-Id", "abc")], true),
        ([("Content-Type", "application/json"), ("Content-Length", "20000"), ("MCP-Protocol-Version", "2025-06-18")], true),
        ([("Content-Type", "application/json"), ("Content-Length", "65537"), ("Mcp-Session-Id", "abc")], false),
        // Not JSON, or no length.
        ([("Content-Type", "text/plain"), ("Content-Length", "300")], false),
        ([("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")], false),
    ])
    func heldForMethod(headers: [(String, String)], held: Bool) {
        #expect(HTTPProxyHandler.isSmallJSON(Self.head(headers)) == held)
    }
}
