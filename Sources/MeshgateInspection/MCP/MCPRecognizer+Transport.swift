extension MCPRecognizer {
    /// MCP's own request headers: any of them makes the request MCP.
    struct HeaderEvidence {
        var present = false
        var method: String?
        var name: String?
        var protocolVersion: String?

        init(_ request: MCPRequestInfo) {
            for (rawName, value) in request.headers {
                let name = rawName.lowercased()
                switch name {
                case "mcp-protocol-version":
                    present = true
                    if protocolVersion == nil { protocolVersion = String(Substring(value).trimmingSpacesAndTabs()) }
                case "mcp-session-id":
                    present = true
                case "mcp-method":
                    present = true
                    if method == nil { method = String(Substring(value).trimmingSpacesAndTabs()) }
                case "mcp-name":
                    present = true
                    if self.name == nil { self.name = MCPHeaderValue.decode(value) }
                default:
                    if name.hasPrefix("mcp-param-") { present = true }
                }
            }
        }
    }

    /// `POST …/messages?sessionId=…` (TypeScript SDK) or `…/messages/?session_id=…` (Python SDK):
    /// where a legacy client sends its JSON-RPC. Only counts when the body is JSON-RPC, since the
    /// path alone is common.
    static func isLegacySSEPost(_ request: MCPRequestInfo) -> Bool {
        guard request.method.uppercased() == "POST" else { return false }
        var path = pathWithoutQuery(request.path)
        if path.hasSuffix("/"), path.count > 1 { path = path.dropLast() }
        let lastSegment = path.split(separator: "/").last.map { $0.lowercased() }
        guard lastSegment == "messages" || lastSegment == "message" else { return false }
        guard let q = request.path.firstIndex(of: "?") else { return false }
        return request.path[request.path.index(after: q)...].split(separator: "&").contains { pair in
            let key = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            return key == "sessionId" || key == "session_id"
        }
    }

    /// A path whose last segment is `mcp` (`/mcp`, `/v1/mcp/`, `/mcp?x=1`): where streamable HTTP
    /// servers conventionally listen. Only corroborates a JSON-RPC body; never evidence alone.
    static func isMCPEndpointPath(_ request: MCPRequestInfo) -> Bool {
        var path = pathWithoutQuery(request.path)
        if path.hasSuffix("/"), path.count > 1 { path = path.dropLast() }
        return path.split(separator: "/").last.map { $0.lowercased() == "mcp" } ?? false
    }

    /// `Sec-WebSocket-Protocol` offering `mcp` (tokens compared case-insensitively).
    static func offersMCPSubprotocol(_ request: MCPRequestInfo) -> Bool {
        request.headerValues("sec-websocket-protocol").contains { value in
            value.split(separator: ",").contains { Substring($0).trimmingSpacesAndTabs().lowercased() == "mcp" }
        }
    }

    private static func pathWithoutQuery(_ target: String) -> Substring {
        let s = Substring(target)
        let end = s.firstIndex(where: { $0 == "?" || $0 == "#" }) ?? s.endIndex
        return s[..<end]
    }
}
