import MeshgateCore

/// Every MCP server meshgate has seen traffic to ("Shadow MCP" included): where it is, who used
/// it, what was done and which tools were called. Fed from the audit lines of MCP exchanges and
/// drift lines; persisted by ``DashboardStore`` so it survives restarts. Pure and bounded.
public struct MCPInventory: Sendable {
    /// One server, keyed by its URL without the query.
    public struct Server: Codable, Sendable, Equatable {
        public var url: String
        public var host: String
        /// `streamable-http`, `sse` (the 2024-11-05 transport) or `websocket`.
        public var transport: String
        /// The last `MCP-Protocol-Version` a client sent, nil when none did.
        public var protocolVersion: String?
        /// The registry entry serving this URL, nil when unregistered.
        public var registeredAs: String?
        public var firstSeen: Int64
        public var lastSeen: Int64
        public var calls: Int
        /// Action → count (allow, log, block, reroute, …).
        public var actions: [String: Int]
        /// Up to ``MCPInventory/maxPeople`` identities and teams, most recent last.
        public var identities: [String]
        public var teams: [String]
        public var tools: [String: Tool]
    }

    /// One tool of a server as used through meshgate.
    public struct Tool: Codable, Sendable, Equatable {
        public var calls: Int
        public var blocked: Int
        public var lastSeen: Int64
        /// The last drift seen for it (`changed`, `added`, `removed`), nil when none.
        public var drift: String?
    }

    public static let maxServers = 2000
    public static let maxPeople = 50
    public static let maxTools = 500

    public private(set) var servers: [String: Server] = [:]
    /// URLs changed since the last `takeDirty()`.
    private var dirty: Set<String> = []

    public init(servers: [Server] = []) {
        for server in servers { self.servers[server.url] = server }
    }

    /// Whether `event` is an MCP exchange or drift line the inventory records.
    public static func concerns(_ event: AuditEvent) -> Bool {
        switch event.kind {
        // One pass over the line's fields (this runs for every HTTP line): only `method` and the
        // `mcp_*` fields start with "m".
        case .http: event.fields.contains { name, _ in
            name.utf8.first == UInt8(ascii: "m") && (name == "mcp_server" || name == "mcp_method")
        }
        case .mcpDrift: true
        case .dns, .ai, .ruleset: false
        }
    }

    public mutating func add(_ event: AuditEvent) {
        switch event.kind {
        case .http: addExchange(event)
        case .mcpDrift: addDrift(event)
        case .dns, .ai, .ruleset: break
        }
    }

    private mutating func addExchange(_ event: AuditEvent) {
        guard Self.concerns(event), let host = event.string("host") else { return }
        let scheme = event.string("scheme") ?? "https"
        let port = event.int("port") ?? (scheme == "https" ? 443 : 80)
        var path = event.string("path") ?? "/"
        if let q = path.firstIndex(of: "?") { path = String(path[..<q]) }
        let defaultPort: Int64 = scheme == "https" ? 443 : 80
        let authority = (host.contains(":") ? "[\(host)]" : host) + (port == defaultPort ? "" : ":\(port)")
        let url = "\(scheme)://\(authority)\(path)"
        let now = event.timestampMillis
        var server = servers[url] ?? Server(
            url: url, host: host, transport: "streamable-http", protocolVersion: nil, registeredAs: nil,
            firstSeen: now, lastSeen: now, calls: 0, actions: [:], identities: [], teams: [], tools: [:])
        if servers[url] == nil, servers.count >= Self.maxServers { evictOldest() }
        server.lastSeen = max(server.lastSeen, now)
        server.calls += 1
        server.actions[event.actionName, default: 0] += 1
        if let transport = event.string("mcp_transport") { server.transport = transport }
        if let version = event.string("mcp_protocol") { server.protocolVersion = version }
        if case .string(let name)? = event.field("mcp_server") { server.registeredAs = name }
        if case .null? = event.field("mcp_server") { server.registeredAs = nil }
        Self.remember(event.identity, in: &server.identities)
        Self.remember(event.team, in: &server.teams)
        var called: [String] = []
        if case .strings(let tools)? = event.field("mcp_tools") { called = tools } else if let tool = event.string("mcp_tool") { called = [tool] }
        let refused = event.action == .block || event.action == .limit
        for name in called where server.tools[name] != nil || server.tools.count < Self.maxTools {
            var tool = server.tools[name] ?? Tool(calls: 0, blocked: 0, lastSeen: now, drift: nil)
            tool.calls += 1
            if refused { tool.blocked += 1 }
            tool.lastSeen = max(tool.lastSeen, now)
            server.tools[name] = tool
        }
        servers[url] = server
        dirty.insert(url)
    }

    /// A drift line names the registry entry, not a URL: every server seen under that entry gets it.
    private mutating func addDrift(_ event: AuditEvent) {
        guard let name = event.string("mcp_server"), let toolName = event.string("tool") else { return }
        for (url, var server) in servers where server.registeredAs == name {
            guard server.tools[toolName] != nil || server.tools.count < Self.maxTools else { continue }
            var tool = server.tools[toolName] ?? Tool(calls: 0, blocked: 0, lastSeen: event.timestampMillis, drift: nil)
            tool.drift = event.string("change")
            tool.lastSeen = max(tool.lastSeen, event.timestampMillis)
            server.tools[toolName] = tool
            servers[url] = server
            dirty.insert(url)
        }
    }

    private static func remember(_ name: String?, in list: inout [String]) {
        guard let name else { return }
        if let i = list.firstIndex(of: name) {
            if i != list.count - 1 { list.remove(at: i); list.append(name) }
            return
        }
        list.append(name)
        if list.count > maxPeople { list.removeFirst(list.count - maxPeople) }
    }

    private mutating func evictOldest() {
        guard let oldest = servers.values.min(by: { $0.lastSeen < $1.lastSeen }) else { return }
        servers[oldest.url] = nil
        dirty.insert(oldest.url)
    }

    /// The servers changed since the last call (nil for one evicted), for the store to write.
    public mutating func takeDirty() -> [(url: String, server: Server?)] {
        defer { dirty.removeAll(keepingCapacity: true) }
        return dirty.map { ($0, servers[$0]) }
    }

    /// Marks everything changed (after a failed write).
    public mutating func markAllDirty() {
        dirty.formUnion(servers.keys)
    }
}
