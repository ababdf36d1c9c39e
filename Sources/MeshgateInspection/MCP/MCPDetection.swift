/// The detection names the recognizer reports; they appear in audit lines and `rules test` output.
public enum MCPDetection: String, Sendable, Hashable, CaseIterable {
    /// A JSON-RPC 2.0 body (single or batch) carrying an MCP method.
    case jsonRPC = "MCP JSON-RPC"
    /// `MCP-Protocol-Version`, `Mcp-Session-Id`, `Mcp-Method`, `Mcp-Name` or `Mcp-Param-*` headers.
    case header = "MCP Header"
    /// The legacy HTTP+SSE transport (2024-11-05): `GET …/sse` for an event stream, its
    /// `POST …/messages?sessionId=` companion, or a response stream opening with `event: endpoint`.
    case sse = "MCP SSE"
    /// A WebSocket upgrade offering the `mcp` subprotocol.
    case webSocket = "MCP WebSocket"
    /// MCP servers named inside an LLM API request (Anthropic `mcp_servers`, OpenAI `type: mcp` tools).
    case llmRequest = "MCP in LLM request"
}
