/// The published MCP protocol revisions the recognizer knows.
public enum MCPProtocolVersion: String, Sendable, Hashable, CaseIterable, Comparable {
    /// The first revision: `initialize` handshake, HTTP+SSE transport (`GET /sse`, `POST /messages`).
    case v2024_11_05 = "2024-11-05"
    /// Streamable HTTP, `Mcp-Session-Id`, JSON-RPC batches (the only revision that allows them).
    case v2025_03_26 = "2025-03-26"
    /// Batches removed, `MCP-Protocol-Version` header, `elicitation/create`.
    case v2025_06_18 = "2025-06-18"
    /// Experimental tasks (`tasks/*`), URL elicitation.
    case v2025_11_25 = "2025-11-25"
    /// Stateless: no `initialize`, no sessions; `server/discover`, `subscriptions/listen`,
    /// `Mcp-Method` / `Mcp-Name` headers, per-request `_meta` protocol version; tasks as an extension.
    case v2026_07_28 = "2026-07-28"

    /// Orders revisions by date.
    public static func < (lhs: MCPProtocolVersion, rhs: MCPProtocolVersion) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}
