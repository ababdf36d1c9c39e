/// What the inspection layer learnt from a request body (and, for MCP, its headers), handed to
/// the engine only when a rule needs it.
public struct BodyFacts: Sendable {
    /// The body after undoing transfer- and content-encoding, up to the inspection limit.
    public var raw: [UInt8]
    /// The canonical JSON form (string escapes decoded), when the body is JSON; nil otherwise.
    public var canonical: [UInt8]?
    /// The MCP recognizer's findings.
    public var mcp: MCPFacts
    /// The inspector found none of the policy's ``PolicyEngine/canonicalLiterals`` in the body (and
    /// so built no canonical form): no body pattern can match, and none is run.
    public var lacksPatternLiterals: Bool

    /// Creates body facts.
    public init(raw: [UInt8], canonical: [UInt8]? = nil, mcp: MCPFacts = .none, lacksPatternLiterals: Bool = false) {
        self.raw = raw
        self.canonical = canonical
        self.mcp = mcp
        self.lacksPatternLiterals = lacksPatternLiterals
    }

    /// An empty body that is not MCP.
    public static let empty = BodyFacts(raw: [])
}

/// The MCP recognizer's findings for one request, as the `mcp` selector sees them.
public struct MCPFacts: Sendable, Hashable {
    /// Whether the request is MCP by structure (JSON-RPC with MCP methods, MCP headers, SSE
    /// handshake, WebSocket subprotocol, or MCP servers named in an LLM request).
    public var isMCP: Bool
    /// MCP method names seen, in request order (several for a batch); the first becomes the
    /// verdict's `mcpMethod`.
    public var methods: [String]
    /// Detection names such as `MCP JSON-RPC`, `MCP Header`, `MCP in LLM request`.
    public var detections: [String]
    /// MCP servers an LLM request asks its provider to connect to (`mcp_servers[].url`,
    /// `tools[].server_url`), each judged by the policy like a request to it.
    public var serverURLs: [String]
    /// MCP tools inside an LLM request that name no server URL (provider-run connectors), by id.
    public var connectors: [String]
    /// `params.name` of every `tools/call`, in request order (what `mcp_tool` selects).
    public var toolNames: [String]

    /// Creates MCP facts.
    public init(isMCP: Bool, methods: [String] = [], detections: [String] = [], serverURLs: [String] = [], connectors: [String] = [],
                toolNames: [String] = []) {
        self.isMCP = isMCP
        self.toolNames = toolNames
        self.methods = methods
        self.detections = detections
        self.serverURLs = serverURLs
        self.connectors = connectors
    }

    /// Not MCP.
    public static let none = MCPFacts(isMCP: false)
}
