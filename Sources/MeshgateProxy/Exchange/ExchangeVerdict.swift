import MeshgateCore
import MeshgatePolicy

/// What the policy and the request filters decided.
struct ExchangeVerdict {
    var action: PolicyAction = .allow
    /// The deciding rule and its ruleset (nil when no rule matched).
    var rule: String?
    var ruleset: String?
    /// DLP pattern names and recognizer findings.
    var detections: [String] = []
    /// The JSON-RPC method when the body is JSON-RPC (MCP or not).
    var mcpMethod: String?
    /// Set once the request is known to be MCP by its structure: the registry entry it goes to
    /// (`mcp_server`, nil when unregistered) and the `tools/call` tool (`mcp_tool`).
    var mcp: MCPExchangeFacts?
    /// Where a redirect or reroute sent the request.
    var redirectTarget: String?
    /// The policy snapshot this request is decided and finished on.
    var policy: PolicyEngine?
    /// What the policy decided (for an allowed request: the MCP servers an LLM call names).
    var decision: PolicyDecision?
    /// Set when the policy saw only a prefix of the body (`inspection.over_limit: inspect_prefix`):
    /// how many bytes (after decoding) it saw. The audit line says so.
    var inspectedPrefixBytes: Int?
}

/// The MCP facts of an MCP exchange, for its audit line and the response filters.
struct MCPExchangeFacts {
    /// The registry entry's name; nil for a server the registry does not list.
    var server: String?
    /// The `tools/call` tool the decision was about (the first of a batch otherwise).
    var tool: String?
    /// Every `tools/call` tool of the request, in order.
    var tools: [String] = []
    /// The request's MCP methods, in order.
    var methods: [String] = []
    /// A `tools/list` asking for a later page (`params.cursor`).
    var listCursor = false
    /// The LLM call whose answer asked for this tool call (its `request_id`) and the provider's call id.
    var llmRequestID: String?
    var llmCallID: String?
    /// `streamable-http`, `sse` (the 2024-11-05 transport) or `websocket`, for the inventory.
    var transport = "streamable-http"
}
