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
    /// Each endpoint as requests are compared with it: scheme and host lowercased, path without query
    /// and trailing slashes (worked out once, not per request).
    private let matchers: [(scheme: String, host: String, port: Int, path: String)]

    init(name: String, urls: [String], endpoints: [AbsoluteURL], tools: [MCPPinnedTool]?, onDrift: MCPDriftAction, location: SourceLocation) {
        self.name = name
        self.urls = urls
        self.endpoints = endpoints
        self.tools = tools
        self.onDrift = onDrift
        self.location = location
        matchers = endpoints.map {
            ($0.scheme.lowercased(), $0.hostPort.host.lowercased(), $0.hostPort.port, String(Self.trimmed(Self.pathOnly($0.target[...]))))
        }
    }

    /// Whether a request to `scheme://host:port` + `path` is for this server: same origin, and the
    /// path is an endpoint's path or below it (the query is ignored; a trailing slash does not matter).
    /// Runs for MCP requests under `mcp_server` rules, so it allocates nothing.
    public func serves(scheme: String, host: String, port: Int, path: String) -> Bool {
        let requestPath = Self.trimmed(Self.pathOnly(path[...]))
        for endpoint in matchers where endpoint.port == port
            && Self.equalsLowercased(scheme, endpoint.scheme) && Self.equalsLowercased(host, endpoint.host) {
            if endpoint.path.isEmpty || requestPath == endpoint.path[...] { return true }
            if requestPath.utf8.count > endpoint.path.utf8.count, requestPath.hasPrefix(endpoint.path),
               requestPath.utf8[requestPath.utf8.index(requestPath.utf8.startIndex, offsetBy: endpoint.path.utf8.count)] == UInt8(ascii: "/") {
                return true
            }
        }
        return false
    }

    /// `text` equals `lower` (already lowercase) ignoring ASCII case.
    private static func equalsLowercased(_ text: String, _ lower: String) -> Bool {
        text.utf8.elementsEqual(lower.utf8) { a, b in (a >= 0x41 && a <= 0x5A ? a | 0x20 : a) == b }
    }

    /// The pin for `tool`, when the entry pins tools.
    public func pin(for tool: String) -> MCPPinnedTool? {
        tools?.first { $0.name == tool }
    }

    private static func pathOnly(_ target: Substring) -> Substring {
        guard let query = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return target }
        return target[..<query]
    }

    private static func trimmed(_ path: Substring) -> Substring {
        var path = path
        while path.utf8.last == UInt8(ascii: "/") { path = path.dropLast() }
        return path
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
