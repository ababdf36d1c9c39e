import Logging
import MeshgateCore
import MeshgateInspection
import MeshgatePolicy
import NIOCore

/// Decides a forwardable request by the rules in force: from its head when no rule needs the body,
/// otherwise once the body is held and inspected. Block and redirect are answered here; a reroute
/// changes where the request goes; an allowed call keeps the decision for the filters after it
/// (the MCP servers an LLM call names). The same `decide` that `meshgate rules test` makes, so the
/// two cannot disagree.
final class PolicyFilter: ExchangeFilter {
    private let configuration: ProxyConfiguration
    private let inspector: any RequestInspector
    private let identity: Identity?
    private let logger: Logger
    private var decided = false

    init(configuration: ProxyConfiguration, inspector: any RequestInspector, identity: Identity?, logger: Logger) {
        self.configuration = configuration
        self.inspector = inspector
        self.identity = identity
        self.logger = logger
    }

    func requestHead(exchange tx: HTTPTransaction) -> FilterStatus {
        guard let policy = tx.verdict.policy else { return .continue }
        if tx.requestBody.holding { return .holdBody }
        let hasBody = RequestShape.hasBody(tx.head)
        // With no rules loaded (the default config) every request is allowed: skip building the
        // policy request unless a small JSON body is read for the audit's mcp_method.
        if policy.ruleCount == 0, tx.llm.call == nil, !(hasBody && RequestShape.isSmallJSON(tx.head)) {
            decided = true
            return .continue
        }
        let request = tx.policyRequest(identity: identity)
        // Small JSON bodies are read even when the head decides, so the audit line can name the
        // JSON-RPC method (seeing which MCP servers agents use is half the point).
        // An LLM call's body sizes its token reservation, so it is held too.
        if hasBody, (policy.needsBody && policy.requiresBody(for: request)) || RequestShape.isSmallJSON(tx.head) || tx.llm.call != nil {
            return .holdBody
        }
        return decide(tx, policy: policy, request: request, body: nil)
    }

    func requestBody(exchange tx: HTTPTransaction) -> FilterStatus {
        guard !decided, let policy = tx.verdict.policy else { return .continue }
        let body = tx.requestBody.inspected ?? []
        let cap = configuration.maxInspectedBodyBytes
        return decide(tx, policy: policy, request: tx.policyRequest(identity: identity), body: body.count <= cap ? body : Array(body.prefix(cap)))
    }

    private func decide(_ tx: HTTPTransaction, policy: PolicyEngine, request: PolicyRequest, body: [UInt8]?) -> FilterStatus {
        decided = true
        var facts: BodyFacts?
        var evaluated = request
        if let body {
            let bodyFacts = inspector.facts(for: request, body: body, patternLiterals: policy.canonicalLiterals)
            facts = bodyFacts
            evaluated = request.withBody(bodyFacts)
        } else {
            // Header-only MCP (Mcp-Method, MCP-Protocol-Version, SSE handshake) needs no body.
            let inspector = self.inspector
            evaluated.bodyFacts = { inspector.facts(for: request, body: []) }
        }
        let decision = policy.decide(evaluated, isLLMCall: tx.llm.call != nil && body != nil, connectors: configuration.mcpConnectors)
        let verdict = decision.verdict
        let effective = decision.effective
        tx.verdict.action = effective.action
        tx.verdict.rule = effective.rule
        tx.verdict.ruleset = effective.ruleset
        tx.verdict.detections += effective.detections
        tx.verdict.mcpMethod = verdict.mcpMethod ?? facts?.mcp.methods.first ?? facts.flatMap { RequestShape.jsonRPCMethod($0.canonicalValue) }
        noteMCP(tx, policy: policy, request: request, verdict: verdict,
                facts: facts ?? (RequestShape.looksLikeMCP(tx.head) ? inspector.facts(for: request, body: []) : nil))
        for failure in verdict.matchErrors {
            // The engine applied inspection.on_match_error (under `block` a refusing rule counted the
            // pattern as matching and its detections say `Match limit: …`); the audit line notes the
            // error either way.
            tx.verdict.detections.append("Detection error: \(failure.rule)")
            logger.warning("pattern match limit hit", metadata: [
                "rule_id": "\(failure.rule)", "selector": "\(failure.selector)", "error": "\(failure.message)",
                "on_match_error": "\(policy.onMatchError.rawValue)",
            ])
        }
        let close = RequestShape.hasBody(tx.head) && !tx.progress.requestEnded
        switch verdict.action {
        case .allow, .log, .limit:
            tx.verdict.decision = decision
            return .continue
        case .block:
            let response = PolicyResponse.block(
                rule: verdict.rule,
                portal: policy.portal,
                jsonRPC: facts.flatMap { RequestShape.jsonRPCShape($0.canonicalValue) },
                accept: tx.head.headers.first(name: "accept")
            )
            return .reply(response, close: close)
        case .redirect:
            guard let target = verdict.target else { return .continue }
            tx.verdict.redirectTarget = target
            return .reply(PolicyResponse.redirect(rule: verdict.rule, location: target), close: close)
        case .reroute:
            guard let target = verdict.target, let rerouted = RequestShape.reroute(tx.route.target, to: target) else {
                tx.audit.error = "reroute target '\(verdict.target ?? "")' is not an absolute http(s) URL"
                return .reply(LocalResponse(status: .badGateway, message: tx.audit.error ?? ""), close: true)
            }
            tx.verdict.redirectTarget = target
            tx.route.target = rerouted
            // Sent somewhere else, so it is no longer a call to the provider that was recognised.
            tx.llm.call = nil
            return .continue
        }
    }

    /// What the audit line and the response filters need to know of an MCP exchange.
    private func noteMCP(_ tx: HTTPTransaction, policy: PolicyEngine, request: PolicyRequest, verdict: Verdict, facts: BodyFacts?) {
        // An LLM call that only names MCP servers is not itself MCP.
        guard let facts, facts.mcp.isMCP, facts.mcp.detections.contains(where: { $0 != MCPDetection.llmRequest.rawValue }) else { return }
        let mcp = facts.mcp
        var noted = MCPExchangeFacts(
            server: policy.mcpServer(servingScheme: request.scheme, host: request.host, port: request.port, path: request.path)?.name,
            tool: verdict.mcpTool ?? mcp.toolNames.first, tools: mcp.toolNames, methods: mcp.methods)
        if mcp.detections.contains(MCPDetection.webSocket.rawValue) {
            noted.transport = "websocket"
        } else if mcp.detections.contains(MCPDetection.sse.rawValue) {
            noted.transport = "sse"
        }
        if mcp.methods.contains("tools/list"), let value = facts.canonicalValue {
            let messages = value.arrayValue ?? [value]
            noted.listCursor = messages.contains { $0["method"]?.stringValue == "tools/list" && $0["params"]?["cursor"] != nil }
        }
        tx.verdict.mcp = noted
    }
}
