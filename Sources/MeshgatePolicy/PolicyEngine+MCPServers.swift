import MeshgateCore

extension PolicyEngine {
    /// Judges the MCP servers an LLM request asks its provider to connect to (Anthropic
    /// `mcp_servers`, OpenAI `type: mcp` tools) as if the client called each one itself: a POST of
    /// MCP to that URL, by `identity`. The provider makes those connections, so no host rule would
    /// ever see them otherwise. A URL that is not absolute http(s) is judged by nothing and kept.
    public func evaluateMCPServers(_ urls: [String], identity: Identity?) -> [(url: String, verdict: Verdict)] {
        urls.compactMap { url in
            guard let parsed = AbsoluteURL(url) else { return nil }
            let facts = BodyFacts(raw: [], mcp: MCPFacts(isMCP: true, detections: ["MCP in LLM request"]))
            let request = PolicyRequest(scheme: parsed.scheme, host: parsed.hostPort.host, port: parsed.hostPort.port, method: "POST",
                                        path: parsed.target, identity: identity, bodyFacts: { facts })
            return (url, evaluate(request))
        }
    }
}
