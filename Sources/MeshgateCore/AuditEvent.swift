/// One audit record: a decided HTTP transaction, DNS query, AI call or ruleset change.
/// The common fields are typed; the per-event fields (`method`, `qname`, `model`, …) are an
/// ordered list so that each subsystem adds its own without this type knowing them all.
public struct AuditEvent: Sendable {
    /// The contract's `event` field.
    public enum Kind: String, Sendable {
        case http, dns, ai, ruleset
        /// A registered MCP server's tools differ from their pins.
        case mcpDrift = "mcp_drift"
    }

    /// Milliseconds since the Unix epoch; rendered as RFC 3339 UTC with milliseconds.
    public var timestampMillis: Int64
    /// `event`.
    public var kind: Kind
    /// `client` as `ip:port`.
    public var client: String?
    /// `identity` (null when unknown).
    public var identity: String?
    /// `team` (null when unknown).
    public var team: String?
    /// `action`.
    public var action: PolicyAction
    /// Written as `action` instead of ``action`` for events that are not policy decisions
    /// (a ruleset `update`, `rollback` or `reload`).
    public var actionText: String?
    /// `rule` (null when no rule matched).
    public var rule: String?
    /// `ruleset` (null when no rule matched).
    public var ruleset: String?
    /// `detections`: pattern names that matched.
    public var detections: [String]
    /// Event-specific fields, written in this order after the common ones.
    public var fields: [(String, AuditValue)]
    /// `request_id`: the id the trail (`meshgate trail --request`) finds this line by. For HTTP
    /// requests meshgate's span id in the `traceparent` it sends upstream.
    public var requestID: String
    /// `traceparent` as sent upstream (nil for lines that are not requests).
    public var traceparent: String?

    /// Creates an event; `fields` are appended in order after the common fields.
    public init(
        timestampMillis: Int64,
        kind: Kind,
        client: String?,
        identity: Identity?,
        action: PolicyAction,
        rule: String? = nil,
        ruleset: String? = nil,
        detections: [String] = [],
        fields: [(String, AuditValue)] = [],
        requestID: String? = nil,
        traceparent: String? = nil
    ) {
        self.requestID = requestID ?? TraceContext.newRequestID()
        self.traceparent = traceparent
        self.timestampMillis = timestampMillis
        self.kind = kind
        self.client = client
        self.identity = identity?.name
        self.team = identity?.team
        self.action = action
        self.rule = rule
        self.ruleset = ruleset
        self.detections = detections
        self.fields = fields
    }
}

extension AuditEvent {
    /// A change of the policy in force: one line per ruleset whose version changed, naming both
    /// versions and who asked (`event: ruleset`).
    public static func rulesetChange(
        timestampMillis: Int64, change: String, ruleset: String, oldVersion: String?, newVersion: String?,
        requestedBy: String, file: String?
    ) -> AuditEvent {
        var event = AuditEvent(
            timestampMillis: timestampMillis, kind: .ruleset, client: nil, identity: nil, action: .log,
            ruleset: ruleset,
            fields: [
                ("old_version", .optional(oldVersion)), ("new_version", .optional(newVersion)),
                ("requested_by", .string(requestedBy)), ("file", .optional(file)),
            ]
        )
        event.actionText = change
        return event
    }
}

/// A JSON value in an audit line.
public indirect enum AuditValue: Sendable, Equatable {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case strings([String])
    case null
    /// A list of objects, members in order (`tool_calls`: `[{"id":…,"name":…}]`).
    case objects([[AuditMember]])

    /// A string, or null when nil.
    public static func optional(_ s: String?) -> AuditValue { s.map(AuditValue.string) ?? .null }
}

/// One member of an object in an audit line.
public struct AuditMember: Sendable, Equatable {
    public var key: String
    public var value: AuditValue

    public init(_ key: String, _ value: AuditValue) {
        self.key = key
        self.value = value
    }
}
