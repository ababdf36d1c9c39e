import MeshgateJSON

extension MCPRecognizer {
    /// MCP servers an LLM API request asks the provider to connect to: Anthropic Messages
    /// `mcp_servers: [{type: "url", url, name}]` (with `mcp_toolset` tools), OpenAI Responses
    /// `tools: [{type: "mcp", server_url, server_label}]`, and provider-run connectors that name no
    /// URL (`{type: "mcp", connector_id, server_label}`). The provider, not the client, talks to
    /// those servers, so a host rule never sees them; only the request body names them.
    struct LLMEvidence {
        var present = false
        var serverURLs: [String] = []
        /// `type: mcp` tools without a `server_url`: `connector_id`, else `server_label`, else "unnamed".
        var connectors: [String] = []

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
                    let urls = tool.values(forKey: "server_url").compactMap(\.stringValue)
                    for url in urls { add(url) }
                    // Anthropic's mcp_toolset refers to an mcp_servers entry by name, which has the URL.
                    if urls.isEmpty, types.contains("mcp") {
                        let name = tool.values(forKey: "connector_id").compactMap(\.stringValue).first
                            ?? tool.values(forKey: "server_label").compactMap(\.stringValue).first ?? "unnamed"
                        if !connectors.contains(name) { connectors.append(name) }
                    }
                }
            }
        }

        private mutating func add(_ url: String) {
            if !serverURLs.contains(url) { serverURLs.append(url) }
        }
    }
}

extension MCPRecognizer {
    /// `body` (an LLM request) without the `type: mcp` tools that name no server URL and whose
    /// connector (`connector_id`, else `server_label`) is in `connectors`; a `tools` list left empty
    /// is dropped with its `tool_choice`. Nil when the body is not a JSON object or nothing was removed.
    public static func removingConnectors(_ connectors: Set<String>, from body: [UInt8]) -> [UInt8]? {
        guard case .object(let members) = try? JSONParser.parse(body) else { return nil }
        var removed = false
        var kept: [(key: String, value: JSONValue)] = []
        var emptiedTools = false
        for member in members {
            guard member.key == "tools", case .array(let tools) = member.value else {
                kept.append(member)
                continue
            }
            let remaining = tools.filter { tool in
                guard tool.values(forKey: "type").contains(.string("mcp")),
                      tool.values(forKey: "server_url").isEmpty else { return true }
                let name = tool.values(forKey: "connector_id").compactMap(\.stringValue).first
                    ?? tool.values(forKey: "server_label").compactMap(\.stringValue).first ?? "unnamed"
                guard connectors.contains(name) else { return true }
                removed = true
                return false
            }
            if remaining.isEmpty, !tools.isEmpty { emptiedTools = true } else { kept.append((member.key, .array(remaining))) }
        }
        guard removed else { return nil }
        if emptiedTools { kept.removeAll { $0.key == "tool_choice" } }
        return JSONValue.object(kept).jsonText
    }
}
