import MeshgateJSON

/// Decides whether an HTTP request is MCP traffic by its structure, never by host name: the
/// JSON-RPC body, MCP's own headers, the legacy SSE handshake, the WebSocket subprotocol, or MCP
/// servers named inside an LLM API request. Pure and deterministic.
///
/// What deliberately does not count:
/// - other JSON-RPC (Ethereum `eth_*`, LSP `initialize` / `textDocument/*`, A2A `tasks/*` with
///   `params.id`): methods are matched exactly against `MCPMethodCatalog`, and the names MCP
///   shares with other protocols need MCP-shaped params (`initialize` with `protocolVersion`,
///   `tasks/*` with `taskId`) or other MCP evidence in the same request;
/// - MCP JSON quoted inside a string, or nested below the top level of some other document
///   (an issue body, a log record): only the top-level message or batch elements are read;
/// - an event-stream `GET …/sse`: the legacy transport's first request looks like any EventSource;
///   its answer (`event: endpoint`) is the evidence, judged by ``recognizeResponse(contentType:streamPrefix:)``;
/// - JSON-RPC responses (`result` / `error`) on their own: without a method nothing tells MCP from
///   any other JSON-RPC. A client answering a server request also sends `Mcp-Session-Id` or uses
///   the legacy `/messages` endpoint, which are recognised.
public enum MCPRecognizer {
    /// The finding for `request`, or nil when nothing about it is MCP.
    public static func recognize(request: MCPRequestInfo) -> MCPFinding? {
        let headers = HeaderEvidence(request)
        let json = request.json ?? request.body.flatMap { try? JSONParser.parse($0) }
        let body = json.map(JSONRPCEvidence.init) ?? JSONRPCEvidence.none
        // `GET …/sse` asking for an event stream is not evidence: a stock ticker's EventSource sends
        // exactly what a legacy MCP client sends. The answer tells them apart (`event: endpoint`,
        // recognizeResponse), so the proxy decides on the response; here it is only a signal.
        let sse = isLegacySSEPost(request) && body.isJSONRPC
        let webSocket = offersMCPSubprotocol(request)
        let llm = json.map(LLMEvidence.init) ?? LLMEvidence.none

        // A method only other protocols share is MCP when something else in the request is.
        let corroborated = headers.present || sse || webSocket
        // `ping` and `tasks/list` have no params to tell MCP's from another protocol's; posted to an
        // `/mcp` endpoint (the streamable HTTP transport's conventional path) they are MCP. LSP's
        // `initialize` and A2A's `tasks/get` do have params that tell, so the path does not help them.
        let bodyIsMCP = body.hasStrongMethod || (body.hasWeakMethod && corroborated)
            || (body.hasParamlessWeakMethod && isMCPEndpointPath(request))

        var detections: [MCPDetection] = []
        if bodyIsMCP { detections.append(.jsonRPC) }
        if headers.present { detections.append(.header) }
        if sse { detections.append(.sse) }
        if webSocket { detections.append(.webSocket) }
        if llm.present { detections.append(.llmRequest) }
        guard !detections.isEmpty else { return nil }

        var finding = MCPFinding(detections: detections.map(\.rawValue), serverURLs: llm.serverURLs, connectors: llm.connectors)
        if bodyIsMCP {
            finding.methods = body.methods
            finding.mcpMethod = body.methods.first
            finding.toolName = body.toolName
            finding.toolNames = body.toolNames
        }
        finding.requestIDs = body.requestIDs
        if finding.mcpMethod == nil, let method = headers.method {
            finding.mcpMethod = method
            finding.methods = [method]
        }
        if finding.toolName == nil, finding.mcpMethod == "tools/call", headers.method == "tools/call" {
            finding.toolName = headers.name
            finding.toolNames = headers.name.map { [$0] } ?? []
        }
        finding.protocolVersion = (bodyIsMCP ? body.protocolVersion : nil) ?? headers.protocolVersion
        return finding
    }

    /// The finding for a response stream, from its `Content-Type` and first bytes: an event stream
    /// whose first event is `event: endpoint` is the legacy SSE handshake ("MCP SSE").
    /// Nil otherwise, and also while the prefix holds no complete event yet.
    public static func recognizeResponse(contentType: String?, streamPrefix: [UInt8]) -> MCPFinding? {
        guard let contentType, contentType.lowercased().contains("text/event-stream") else { return nil }
        guard case .endpoint = MCPLegacySSE.inspect(streamPrefix: streamPrefix) else { return nil }
        return MCPFinding(detections: [MCPDetection.sse.rawValue])
    }
}
