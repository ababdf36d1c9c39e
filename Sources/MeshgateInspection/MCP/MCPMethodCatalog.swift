/// Every JSON-RPC method name defined by each MCP revision, from the specification's
/// `schema/<version>/schema.ts` (and, for 2026-07-28, the official tasks extension SEP-2663).
public enum MCPMethodCatalog {
    private static let core2024: Set<String> = [
        // client -> server requests
        "initialize", "ping",
        "resources/list", "resources/templates/list", "resources/read",
        "resources/subscribe", "resources/unsubscribe",
        "prompts/list", "prompts/get",
        "tools/list", "tools/call",
        "logging/setLevel", "completion/complete",
        // server -> client requests
        "sampling/createMessage", "roots/list",
        // notifications, either direction
        "notifications/initialized", "notifications/cancelled", "notifications/progress",
        "notifications/message",
        "notifications/resources/updated", "notifications/resources/list_changed",
        "notifications/tools/list_changed", "notifications/prompts/list_changed",
        "notifications/roots/list_changed",
    ]

    private static let v2025_06_18: Set<String> = core2024.union(["elicitation/create"])

    private static let v2025_11_25: Set<String> = v2025_06_18.union([
        "tasks/get", "tasks/result", "tasks/list", "tasks/cancel",
        "notifications/tasks/status", "notifications/elicitation/complete",
    ])

    // 2026-07-28 drops initialize, notifications/initialized, ping, logging/setLevel,
    // resources/subscribe|unsubscribe, notifications/roots/list_changed and
    // notifications/elicitation/complete; sampling, roots and elicitation survive as MRTR input
    // requests embedded in results; tasks moved to the io.modelcontextprotocol/tasks extension
    // (tasks/get, tasks/update, tasks/cancel).
    private static let v2026_07_28: Set<String> = [
        "server/discover", "subscriptions/listen",
        "resources/list", "resources/templates/list", "resources/read",
        "prompts/list", "prompts/get",
        "tools/list", "tools/call",
        "completion/complete",
        "sampling/createMessage", "roots/list", "elicitation/create",
        "notifications/cancelled", "notifications/progress", "notifications/message",
        "notifications/resources/updated", "notifications/resources/list_changed",
        "notifications/tools/list_changed", "notifications/prompts/list_changed",
        "notifications/subscriptions/acknowledged",
        "tasks/get", "tasks/update", "tasks/cancel",
    ]

    /// The methods defined by `version`.
    public static func methods(in version: MCPProtocolVersion) -> Set<String> {
        switch version {
        case .v2024_11_05, .v2025_03_26: return core2024
        case .v2025_06_18: return v2025_06_18
        case .v2025_11_25: return v2025_11_25
        case .v2026_07_28: return v2026_07_28
        }
    }

    /// Every method of every known revision.
    public static let allMethods: Set<String> = MCPProtocolVersion.allCases.reduce(into: Set<String>()) {
        $0.formUnion(methods(in: $1))
    }

    /// Whether any known revision defines `method` (exact, case-sensitive, as servers dispatch).
    public static func isKnown(_ method: String) -> Bool {
        allMethods.contains(method)
    }

    /// The revisions that define `method`, oldest first.
    public static func versions(defining method: String) -> [MCPProtocolVersion] {
        MCPProtocolVersion.allCases.filter { methods(in: $0).contains(method) }
    }

    /// Method names other JSON-RPC protocols use too, which count as MCP only with MCP-shaped
    /// params or other MCP evidence: `initialize` (LSP), `ping` (many), `tasks/*` (A2A's
    /// `tasks/get`, `tasks/cancel`, `tasks/list` take `params.id`, MCP's take `params.taskId`).
    public static let ambiguousMethods: Set<String> = [
        "initialize", "ping", "tasks/get", "tasks/result", "tasks/list", "tasks/cancel", "tasks/update",
    ]
}
