import MeshgateCore

extension AuditEvent {
    /// The value of the per-event field `name` (`host`, `qname`, `mcp_method`, …), nil when absent.
    func field(_ name: String) -> AuditValue? {
        fields.first { $0.0 == name }?.1
    }

    /// A per-event string field; nil when absent or not a string.
    func string(_ name: String) -> String? {
        if case .string(let s)? = field(name) { return s }
        return nil
    }

    /// A per-event integer field; nil when absent or not an integer.
    func int(_ name: String) -> Int64? {
        if case .int(let n)? = field(name) { return n }
        return nil
    }

    /// What the dashboard shows as the target: the host of an HTTP or AI line, the name of a DNS
    /// query, the server of a drift line, the ruleset of a ruleset change.
    var target: String? {
        switch kind {
        case .http, .ai: string("host")
        case .dns: string("qname")
        case .mcpDrift: string("mcp_server")
        case .ruleset: ruleset
        }
    }

    /// The action as written on the line (`update` for a ruleset change, else the policy action).
    var actionName: String { actionText ?? action.rawValue }
}
