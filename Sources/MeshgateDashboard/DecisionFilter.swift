import MeshgateCore

/// The Live page's filters (also the `decisions` endpoint's query parameters): each one set must
/// match. Text filters match case-insensitively as a substring, so `github` finds
/// `api.githubcopilot.com`; `event` and `action` match exactly.
public struct DecisionFilter: Sendable, Equatable {
    /// `event`: http, dns, ai, ruleset, mcp_drift.
    public var event: String?
    /// `action`: allow, block, log, redirect, reroute, limit (or a ruleset change's update/rollback/reload).
    public var action: String?
    /// `identity` or `team` (either matches).
    public var who: String?
    /// Host, DNS name or MCP server.
    public var host: String?
    /// Rule id.
    public var rule: String?

    public init(event: String? = nil, action: String? = nil, who: String? = nil, host: String? = nil, rule: String? = nil) {
        self.event = event.flatMap(Self.nonEmpty)
        self.action = action.flatMap(Self.nonEmpty)
        self.who = who.flatMap(Self.nonEmpty)?.lowercased()
        self.host = host.flatMap(Self.nonEmpty)?.lowercased()
        self.rule = rule.flatMap(Self.nonEmpty)?.lowercased()
    }

    /// The filter from query parameters (`event`, `action`, `identity`, `host`, `rule`).
    public init(query: (String) -> String?) {
        self.init(event: query("event"), action: query("action"), who: query("identity"), host: query("host"), rule: query("rule"))
    }

    private static func nonEmpty(_ s: String) -> String? { s.isEmpty ? nil : s }

    /// True when no filter is set.
    public var isEmpty: Bool { event == nil && action == nil && who == nil && host == nil && rule == nil }

    /// Whether `event` passes every filter that is set.
    public func accepts(_ event: AuditEvent) -> Bool {
        if let kind = self.event, event.kind.rawValue != kind { return false }
        if let action, event.actionName != action { return false }
        if let who {
            let matches = [event.identity, event.team].contains { $0?.lowercased().contains(who) == true }
            if !matches { return false }
        }
        if let host, event.target?.lowercased().contains(host) != true { return false }
        if let rule, event.rule?.lowercased().contains(rule) != true { return false }
        return true
    }
}
