import MeshgateCore

/// The engine's decision for one request, query or CONNECT.
public struct Verdict: Sendable, Hashable {
    /// What to do. `allow` when no rule matched.
    public var action: PolicyAction
    /// The deciding rule's id; nil when no rule matched.
    public var rule: String?
    /// The deciding rule's ruleset name; nil when no rule matched.
    public var ruleset: String?
    /// Names of the DLP patterns (of the deciding rule's `body` profiles) that matched, then the
    /// MCP recognizer's detections when the rule has an `mcp` selector; no duplicates.
    public var detections: [String]
    /// For `redirect` and `reroute`: the absolute URL to send the client or request to
    /// (`portal` already resolved). Nil for other actions.
    public var target: String?
    /// The first MCP method of the request when its body facts were looked at and it is MCP.
    public var mcpMethod: String?
    /// The `tools/call` tool the deciding rule is about: the one its `mcp_tool` matched, else the
    /// request's first (set only when the deciding rule looked at MCP).
    public var mcpTool: String?
    /// Regexes that gave up while matching (limits hit), whatever ``PolicyEngine/onMatchError`` made
    /// of them: under `block` those of refusing rules counted as matching (and the deciding rule's
    /// detections say `Match limit: NAME`), the rest as not matching.
    public var matchErrors: [PatternMatchError]
    /// The deciding rule's written `redirect`/`reroute` when its target is the portal and no
    /// `portal:` is configured: the action is then `block`, and a detection says why.
    public var unsetPortalAction: PolicyAction?

    /// The detection a rule that blocks for want of a portal reports.
    public static func unsetPortalDetection(_ written: PolicyAction) -> String {
        "Portal unset: \(written.rawValue) to the portal blocks until portal: is configured"
    }

    /// Creates a verdict.
    public init(
        action: PolicyAction, rule: String? = nil, ruleset: String? = nil, detections: [String] = [],
        target: String? = nil, mcpMethod: String? = nil, matchErrors: [PatternMatchError] = []
    ) {
        self.action = action
        self.rule = rule
        self.ruleset = ruleset
        self.detections = detections
        self.target = target
        self.mcpMethod = mcpMethod
        self.matchErrors = matchErrors
        mcpTool = nil
        unsetPortalAction = nil
    }

    /// No rule matched: allow.
    public static let noMatch = Verdict(action: .allow)
}

/// A regex that could not finish matching (e.g. PCRE2's match limit) during an evaluation.
public struct PatternMatchError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The rule being evaluated.
    public var rule: String
    /// What was being matched: `pattern 'NAME' of profile 'P'` or `header 'NAME'`.
    public var selector: String
    /// The matcher's error text.
    public var message: String

    /// Creates a match error.
    public init(rule: String, selector: String, message: String) {
        self.rule = rule
        self.selector = selector
        self.message = message
    }

    /// `rule 'ID': SELECTOR: MESSAGE`.
    public var description: String { "rule '\(rule)': \(selector): \(message)" }
}
