extension MCPRecognizer {
    /// MCP servers an LLM API request asks the provider to connect to: Anthropic Messages
    /// `mcp_servers: [{type: "url", url, name}]` (with `mcp_toolset` tools), OpenAI Responses
    /// `tools: [{type: "mcp", server_url, server_label}]`. The provider, not the client, talks to
    /// those servers, so a host rule never sees them; only the request body names them.
    struct LLMEvidence {
        var present = false
        var serverURLs: [String] = []

        static let none = LLMEvidence()

        private init() {}

        init(_ json: JSONValue) {
            guard json.isObject else { return }
            for case .array(let servers) in json.values(forKey: "mcp_servers") {
                for server in servers where server.isObject {
                    present = true
                    for case .string(let url) in server.values(forKey: "url") { add(url) }
                }
            }
            for case .array(let tools) in json.values(forKey: "tools") {
                for tool in tools {
                    let types = tool.values(forKey: "type").compactMap(\.stringValue)
                    guard types.contains("mcp") || types.contains("mcp_toolset") else { continue }
                    present = true
                    for case .string(let url) in tool.values(forKey: "server_url") { add(url) }
                }
            }
        }

        private mutating func add(_ url: String) {
            if !serverURLs.contains(url) { serverURLs.append(url) }
        }
    }
}
