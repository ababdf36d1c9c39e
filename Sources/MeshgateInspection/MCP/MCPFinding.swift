import MeshgateJSON

/// What the recognizer found: why the request is MCP, and what it asks for.
public struct MCPFinding: Sendable, Equatable {
    /// Detection names (`MCPDetection` raw values) in a fixed order: JSON-RPC, Header, SSE,
    /// WebSocket, LLM request.
    public var detections: [String]
    /// The first MCP method of the body (or the `Mcp-Method` header when there is no body);
    /// the audit line's `mcp_method`.
    public var mcpMethod: String?
    /// `params.name` of the first `tools/call` (or the decoded `Mcp-Name` header for a `tools/call`
    /// without a readable body).
    public var toolName: String?
    /// `params.name` of every `tools/call` in the body, in order (what `mcp_tool` selects).
    public var toolNames: [String] = []
    /// Every MCP method of the body in order (one for a single message, several for a batch).
    public var methods: [String]
    /// MCP server URLs named inside an LLM request, deduplicated, in order.
    public var serverURLs: [String]
    /// MCP tools inside an LLM request that name no server URL (provider-run connectors), by
    /// `connector_id`, else `server_label`, deduplicated, in order.
    public var connectors: [String]
    /// The protocol version the client declared (initialize params, 2026 `_meta`, or the
    /// `MCP-Protocol-Version` header), when it did.
    public var protocolVersion: String?
    /// The `id` of every JSON-RPC request in the body, in order, so a block can answer each one
    /// with a JSON-RPC error (notifications and responses have none to answer).
    public var requestIDs: [JSONValue]

    /// Creates a finding.
    public init(
        detections: [String],
        mcpMethod: String? = nil,
        toolName: String? = nil,
        methods: [String] = [],
        serverURLs: [String] = [],
        connectors: [String] = [],
        protocolVersion: String? = nil,
        requestIDs: [JSONValue] = []
    ) {
        self.detections = detections
        self.mcpMethod = mcpMethod
        self.toolName = toolName
        self.methods = methods
        self.serverURLs = serverURLs
        self.connectors = connectors
        self.protocolVersion = protocolVersion
        self.requestIDs = requestIDs
    }

    /// Whether `detection` is among the detections.
    public func has(_ detection: MCPDetection) -> Bool {
        detections.contains(detection.rawValue)
    }
}
