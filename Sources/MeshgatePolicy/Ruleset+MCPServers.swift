import MeshgateCore

extension RulesetParser {
    static let mcpServerKeys = ["name", "urls", "tools", "on_drift"]

    /// `mcp_servers:` — the registry of approved MCP servers, each named once per file.
    func parseMCPServers(_ node: YAMLNode) throws(RulesetError) -> [MCPServerEntry] {
        var servers: [MCPServerEntry] = []
        var seen: [String: SourceLocation] = [:]
        for item in try node.list(expected: "a list of MCP servers { name, urls, tools, on_drift }") {
            let map = try item.mapping(keys: Self.mcpServerKeys, misplaced: ["url": "write 'urls:' with a list", "on-drift": "write 'on_drift:'"],
                                       expected: "an MCP server { name: NAME, urls: [URL], tools: [...], on_drift: log }")
            let nameNode = try map.required("name", fix: "name the server, e.g. name: github; rules select it with mcp_server: github")
            let name = try nameNode.identifier(expected: "MCP server name")
            if ["registered", "unregistered"].contains(name) {
                throw nameNode.error("'\(name)' is reserved: 'mcp_server: \(name)' selects servers by whether they are in the registry",
                                     fix: "choose another name")
            }
            if let first = seen[name] {
                throw nameNode.error("duplicate MCP server name '\(name)' (first defined at \(first))", fix: "server names must be unique")
            }
            seen[name] = nameNode.location
            var urls: [String] = []
            var endpoints: [AbsoluteURL] = []
            for (text, urlNode) in try map.required("urls", fix: "list the server's MCP endpoints, e.g. urls: [\"https://mcp.example.com/mcp\"]")
                .strings(expected: "an MCP endpoint URL") {
                guard let url = AbsoluteURL(text) else {
                    throw urlNode.error("'\(text)' is not an absolute http or https URL", fix: "write the endpoint as the agent calls it, e.g. https://mcp.example.com/mcp")
                }
                urls.append(text)
                endpoints.append(url)
            }
            let tools = try map["tools"].map { node throws(RulesetError) in try parsePinnedTools(node) }
            let onDrift = try map["on_drift"]?.choice(MCPDriftAction.self) ?? .log
            servers.append(MCPServerEntry(name: name, urls: urls, endpoints: endpoints, tools: tools, onDrift: onDrift, location: item.location))
        }
        return servers
    }

    private func parsePinnedTools(_ node: YAMLNode) throws(RulesetError) -> [MCPPinnedTool] {
        var tools: [MCPPinnedTool] = []
        var seen: [String: SourceLocation] = [:]
        let fix = "pin each tool as { name: NAME, digest: \"sha256:…\" }; 'meshgate mcp pin URL' prints them"
        for item in try node.list(expected: "a list of pinned tools { name, digest }") {
            let map = try item.mapping(keys: ["name", "digest"], misplaced: ["sha256": "write digest: \"sha256:…\""],
                                       expected: "a pinned tool { name: NAME, digest: \"sha256:…\" }")
            let nameNode = try map.required("name", fix: fix)
            let name = try nameNode.string(expected: "a tool name")
            if let first = seen[name] {
                throw nameNode.error("tool '\(name)' is pinned twice (first at \(first))", fix: "keep one pin per tool")
            }
            seen[name] = nameNode.location
            let digestNode = try map.required("digest", fix: fix)
            let digest = try digestNode.string(expected: "a digest \"sha256:<64 hex digits>\"")
            guard Self.isDigest(digest) else {
                throw digestNode.error("'\(digest)' is not a tool digest", fix: "write sha256: and 64 lower-case hex digits, as 'meshgate mcp pin URL' prints them")
            }
            tools.append(MCPPinnedTool(name: name, digest: digest))
        }
        return tools
    }

    static func isDigest(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 71, text.hasPrefix("sha256:") else { return false }
        return bytes[7...].allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
