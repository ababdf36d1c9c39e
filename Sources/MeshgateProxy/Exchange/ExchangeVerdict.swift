import MeshgateCore
import MeshgatePolicy

/// What the policy and the request filters decided.
struct ExchangeVerdict {
    var action: PolicyAction = .allow
    /// The deciding rule and its ruleset (nil when no rule matched).
    var rule: String?
    var ruleset: String?
    /// DLP pattern names and recognizer findings.
    var detections: [String] = []
    /// The JSON-RPC method when the body is JSON-RPC (MCP or not).
    var mcpMethod: String?
    /// Where a redirect or reroute sent the request.
    var redirectTarget: String?
    /// The policy snapshot this request is decided and finished on.
    var policy: PolicyEngine?
    /// What the policy decided (for an allowed request: the MCP servers an LLM call names).
    var decision: PolicyDecision?
    /// Set when the policy saw only a prefix of the body (`inspection.over_limit: inspect_prefix`):
    /// how many bytes (after decoding) it saw. The audit line says so.
    var inspectedPrefixBytes: Int?
}
