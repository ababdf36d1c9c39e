import MeshgateCore
import MeshgateInspection
import Testing
@testable import MeshgatePolicy

/// The decision the proxy carries out and `rules test` prints for LLM calls that name MCP servers.
@Suite struct PolicyDecisionTests {
    static let rules = """
    ruleset: r
    version: "1"
    rules:
      - { id: allow-portal, match: { host: [portal.example.com] }, action: allow }
      - { id: block-evil, match: { host: [evil.example.net], mcp: any }, action: block }
      - { id: log-known, match: { host: [known.example.org], mcp: any }, action: log }
      - { id: mcp-to-portal, match: { mcp: any }, action: reroute, target: portal }
    """

    /// An LLM call to `api.openai.com` naming `servers` (URLs) and `connectors` (ids) in its tools.
    static func call(servers: [String] = [], connectors: [String] = []) -> PolicyRequest {
        let facts = BodyFacts(raw: Array("{}".utf8), mcp: MCPFacts(isMCP: true, detections: [MCPDetection.llmRequest.rawValue],
                                                                    serverURLs: servers, connectors: connectors))
        return PolicyRequest(host: "api.openai.com", method: "POST", path: "/v1/responses", bodyFacts: { facts })
    }

    @Test func anLLMCallIsNotMCPItselfAndEachServerIsJudged() throws {
        let engine = try policy(Self.rules)
        let decision = engine.decide(Self.call(servers: ["https://shadow.example.com/mcp", "https://known.example.org/mcp"]), isLLMCall: true)
        #expect(decision.verdict.action == .allow && decision.namesMCPServers)
        #expect(decision.servers.map(\.outcome) == [.swap(to: "https://portal.example.com/mcp"), .keep])
        let effective = decision.effective
        #expect(effective.action == .reroute && effective.rule == "mcp-to-portal" && effective.target == "https://portal.example.com/mcp")
        #expect(effective.detections.first == "MCP in LLM request")
    }

    @Test func aBlockedServerOrAConnectorRefusesTheCall() throws {
        let engine = try policy(Self.rules)
        let blocked = engine.decide(Self.call(servers: ["https://shadow.example.com/mcp", "https://evil.example.net/mcp"]), isLLMCall: true)
        #expect(blocked.effective.action == .block && blocked.effective.rule == "block-evil" && blocked.effective.target == nil)

        let connector = engine.decide(Self.call(connectors: ["connector_dropbox"]), isLLMCall: true)
        #expect(connector.servers.map(\.outcome) == [.refuse])
        #expect(connector.effective.action == .block && connector.effective.rule == "mcp-to-portal")
        #expect(connector.effective.detections.contains("MCP connector: connector_dropbox"))

        let stripped = engine.decide(Self.call(connectors: ["connector_dropbox"]), isLLMCall: true, connectors: .strip)
        #expect(stripped.servers.map(\.outcome) == [.strip])
        #expect(stripped.effective.action == .log && stripped.effective.target == nil)
    }

    @Test func aLoggedServerMakesTheCallLoggedAndNotAnLLMCallIsPlainMCP() throws {
        let engine = try policy(Self.rules)
        let logged = engine.decide(Self.call(servers: ["https://known.example.org/mcp"]), isLLMCall: true)
        #expect(logged.effective.action == .log && logged.effective.rule == nil)
        // The same body to a host that is not an LLM provider is MCP traffic itself.
        let plain = engine.decide(Self.call(servers: ["https://known.example.org/mcp"]), isLLMCall: false)
        #expect(plain.servers.isEmpty && plain.effective.action == .reroute && plain.effective.rule == "mcp-to-portal")
    }
}
