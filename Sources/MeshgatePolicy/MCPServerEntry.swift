import MeshgateCore

/// One approved MCP server of a ruleset's registry (`mcp_servers:`): where it lives and, when pinned,
/// the tools it may expose, each with the digest of its definition (`MCPToolDigest`).
public struct MCPServerEntry: Sendable {
    /// `name:` — what `mcp_server: NAME` selects and the audit line's `mcp_server` says.
    public var name: String
    /// `urls:` — the server's MCP endpoints, as written.
    public var urls: [String]
    /// `tools:` — the pinned tools (nil when the entry pins none: any tool list is accepted).
    public var tools: [MCPPinnedTool]?
    /// `on_drift:` — what a `tools/list` answer that differs from the pins gets.
    public var onDrift: MCPDriftAction
    /// Where the entry starts.
    public var location: SourceLocation
    /// The endpoints, parsed.
    let endpoints: [AbsoluteURL]

    init(name: String, urls: [String], endpoints: [AbsoluteURL], tools: [MCPPinnedTool]?, onDrift: MCPDriftAction, location: SourceLocation) {
        self.name = name
        self.urls = urls
        self.endpoints = endpoints
        self.tools = tools
        self.onDrift = onDrift
        self.location = location
    }

    /// Whether a request to `scheme://host:port` + `path` is for this server: same origin, and the
    /// path is an endpoint's path or below it (the query is ignored; a trailing slash does not matter).
    public func serves(scheme: String, host: String, port: Int, path: String) -> Bool {
        let requestPath = Self.trimmed(Self.pathOnly(path))
        for endpoint in endpoints where endpoint.scheme == scheme.lowercased()
            && endpoint.hostPort.port == port && endpoint.hostPort.host.lowercased() == host.lowercased() {
            let base = Self.trimmed(Self.pathOnly(endpoint.target))
            if base.isEmpty || requestPath == base || requestPath.hasPrefix(base + "/") { return true }
        }
        return false
    }

    /// The pin for `tool`, when the entry pins tools.
    public func pin(for tool: String) -> MCPPinnedTool? {
        tools?.first { $0.name == tool }
    }

    private static func pathOnly(_ target: String) -> Substring {
        target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    }

    private static func trimmed(_ path: Substring) -> String {
        var path = path
        while path.hasSuffix("/") { path = path.dropLast() }
        return String(path)
    }
}

/// A tool an approved server may expose, pinned by the digest of its definition.
public struct MCPPinnedTool: Sendable, Equatable {
    /// The tool's `name`.
    public var name: String
    /// `sha256:<64 hex digits>` over the definition (`MCPToolDigest`).
    public var digest: String

    /// Creates a pin.
    public init(name: String, digest: String) {
        self.name = name
        self.digest = digest
    }
}

/// What a drifted `tools/list` answer gets (`on_drift:`).
public enum MCPDriftAction: String, Sendable, CaseIterable {
    /// The answer passes; an `mcp_drift` audit line records the change.
    case log
    /// The answer is replaced by a JSON-RPC error.
    case block
    /// Changed and unpinned tools are removed from the list the agent sees.
    case filter
}

extension PolicyEngine {
    /// The registry entry whose endpoints serve a request to `scheme://host:port` + `path`, if any.
    public func mcpServer(servingScheme scheme: String, host: String, port: Int, path: String) -> MCPServerEntry? {
        mcpServers.first { $0.serves(scheme: scheme, host: host, port: port, path: path) }
    }
}
