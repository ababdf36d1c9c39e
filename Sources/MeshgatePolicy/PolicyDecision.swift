import MeshgateCore
import MeshgateInspection

/// `inspection.mcp_connectors`: what a refusing verdict does to an MCP tool inside an LLM call that
/// names no server URL (a provider-run connector such as OpenAI's `connector_id`). A server with a URL
/// can be swapped for the portal; a connector cannot, so the call is refused or the tool removed.
public enum MCPConnectorMode: String, Sendable, Hashable, CaseIterable {
    /// The whole call is refused (403, in the provider's error shape, naming the rule).
    case refuse
    /// The connector's tool is taken out of the request, which goes on without it.
    case strip
}

/// The decision for one request, as the proxy carries it out and `meshgate rules test` prints it:
/// both call ``PolicyEngine/decide(_:isLLMCall:connectors:)``, so they cannot disagree.
public struct PolicyDecision: Sendable {
    /// What happens to one MCP server or connector named inside an LLM call.
    public enum Outcome: Sendable, Equatable {
        /// Left as it is (the policy allows or logs it).
        case keep
        /// Its URL is replaced by the target in the request, so the provider connects there.
        case swap(to: String)
        /// The whole call is refused.
        case refuse
        /// Its tool is removed from the request (a connector under `mcp_connectors: strip`).
        case strip
    }

    /// An MCP server (by URL) or connector (by id) that an LLM call asks its provider to use.
    public struct NamedServer: Sendable {
        /// The server URL, or the connector's id (`connector_id`, else `server_label`).
        public var name: String
        /// True for a connector: an MCP tool with no server URL.
        public var isConnector: Bool
        /// The policy's verdict, as if the agent called the server itself.
        public var verdict: Verdict
        /// What is done about it.
        public var outcome: Outcome
    }

    /// The verdict for the request itself (for an LLM call, naming MCP servers does not make the
    /// call MCP traffic: it goes to its provider).
    public var verdict: Verdict
    /// For an LLM call the request's verdict lets through: each MCP server and connector it names.
    public var servers: [NamedServer]
    /// Whether the request is an LLM call whose only MCP is the servers it names.
    public var namesMCPServers: Bool

    /// The decision as the audit line and `X-Meshgate-Action` state it: a refused server refuses
    /// the call (`block`, under that server's rule), a swapped one makes it a `reroute`, a stripped
    /// connector a `log`; otherwise the request's own verdict (turned into `log` when a server was
    /// logged). Detections gather the request's and every server's.
    public var effective: Verdict {
        var detections = namesMCPServers ? [MCPDetection.llmRequest.rawValue] : []
        func add(_ names: [String]) { for name in names where !detections.contains(name) { detections.append(name) } }
        add(verdict.detections)
        for server in servers {
            add(server.verdict.detections)
            if server.isConnector { add(["MCP connector: \(server.name)"]) }
        }
        var result = verdict
        if let refused = servers.first(where: { $0.outcome == .refuse }) {
            result = refused.verdict
            result.action = .block
            result.target = nil
        } else if let swapped = servers.first(where: { if case .swap = $0.outcome { true } else { false } }) {
            result = swapped.verdict
        } else if let stripped = servers.first(where: { $0.outcome == .strip }) {
            result = stripped.verdict
            result.action = .log
            result.target = nil
        } else if result.action == .allow, servers.contains(where: { $0.verdict.action == .log }) {
            result.action = .log
        }
        result.detections = detections
        result.mcpMethod = verdict.mcpMethod
        result.matchErrors = verdict.matchErrors
        return result
    }
}

extension PolicyEngine {
    /// Decides a request the way the proxy does. `isLLMCall`: the request goes to an LLM provider
    /// (recognised from its host and path). Such a call that names MCP servers (Anthropic
    /// `mcp_servers`, OpenAI `type: mcp` tools) is not itself MCP traffic; each server is judged on
    /// its own, as if the agent called it, and a connector with no URL as an MCP call to the provider.
    public func decide(_ request: PolicyRequest, isLLMCall: Bool, connectors mode: MCPConnectorMode = .refuse) -> PolicyDecision {
        var evaluated = request
        var facts: BodyFacts?
        var namesMCPServers = false
        if isLLMCall, let loaded = request.bodyFacts?() {
            facts = loaded
            if loaded.mcp.detections == [MCPDetection.llmRequest.rawValue] {
                namesMCPServers = true
                var adjusted = loaded
                adjusted.mcp = MCPFacts(isMCP: false, serverURLs: loaded.mcp.serverURLs, connectors: loaded.mcp.connectors)
                evaluated = request.withBody(adjusted)
            } else {
                evaluated = request.withBody(loaded)
            }
        }
        let verdict = evaluate(evaluated)
        var decision = PolicyDecision(verdict: verdict, servers: [], namesMCPServers: namesMCPServers)
        guard isLLMCall, let facts, [.allow, .log, .limit].contains(verdict.action) else { return decision }
        for (url, judged) in evaluateMCPServers(facts.mcp.serverURLs, identity: request.identity) {
            let outcome: PolicyDecision.Outcome = switch judged.action {
            case .block: .refuse
            case .redirect, .reroute: judged.target.map { .swap(to: $0) } ?? .keep
            case .allow, .log, .limit: .keep
            }
            decision.servers.append(.init(name: url, isConnector: false, verdict: judged, outcome: outcome))
        }
        for connector in facts.mcp.connectors {
            let mcp = BodyFacts(raw: [], mcp: MCPFacts(isMCP: true, detections: [MCPDetection.llmRequest.rawValue]))
            var asCall = request
            asCall.method = "POST"
            asCall.bodyFacts = { mcp }
            let judged = evaluate(asCall)
            let outcome: PolicyDecision.Outcome = switch judged.action {
            case .block: .refuse
            case .redirect, .reroute: mode == .strip ? .strip : .refuse
            case .allow, .log, .limit: .keep
            }
            decision.servers.append(.init(name: connector, isConnector: true, verdict: judged, outcome: outcome))
        }
        return decision
    }
}
