import MeshgateCore
import MeshgatePolicy
import Testing

@Suite("evaluateHostOnly")
struct HostOnlyTests {
    static let rules = """
    ruleset: connect
    version: "1"
    rules:
      - { id: portal, match: { host: [portal.example.com] }, action: allow }
      - { id: admin-path, match: { host: [api.example.com], path: ["/admin/*"] }, action: block }
      - { id: mcp-body, match: { host: [api.example.com], mcp: any }, action: block }
      - { id: ci-only, match: { host: [builds.example.com], team: [platform] }, action: allow }
      - { id: ci-others, match: { host: [builds.example.com] }, action: block }
      - { id: agent-7, match: { host: ["*.internal"], identity: [agent-7] }, action: log }
      - { id: shadow, match: { host: ["mcp.*"] }, action: reroute }
    """

    struct Case: Sendable, CustomTestStringConvertible {
        var host: String
        var port: Int?
        var identity: Identity?
        var action: PolicyAction
        var rule: String?
        var testDescription: String { "\(host):\(port.map(String.init) ?? "-") \(identity?.name ?? "anonymous") → \(action) \(rule ?? "-")" }
    }

    @Test("host, identity and team rules decide; rules needing the request are skipped", arguments: [
        Case(host: "portal.example.com", port: 443, action: .allow, rule: "portal"),
        // path and mcp rules cannot be judged on a spliced connection, so nothing matches
        Case(host: "api.example.com", port: 443, action: .allow, rule: nil),
        Case(host: "builds.example.com", port: 443, identity: Identity(name: "ci", team: "platform"), action: .allow, rule: "ci-only"),
        Case(host: "builds.example.com", port: 443, identity: Identity(name: "dev", team: "apps"), action: .block, rule: "ci-others"),
        Case(host: "builds.example.com", port: 443, action: .block, rule: "ci-others"),
        Case(host: "git.internal", port: 443, identity: Identity(name: "agent-7", team: nil), action: .log, rule: "agent-7"),
        Case(host: "git.internal", port: 443, identity: Identity(name: "agent-8", team: nil), action: .allow, rule: nil),
        Case(host: "MCP.Linear.App.", port: 443, action: .reroute, rule: "shadow"),
        // DNS: no port
        Case(host: "mcp.sentry.dev.", port: nil, action: .reroute, rule: "shadow"),
        Case(host: "mcpherson.edu", port: nil, action: .allow, rule: nil),
    ])
    func hostOnly(_ test: Case) throws {
        let engine = try policy(Self.rules)
        let verdict = engine.evaluateHostOnly(host: test.host, port: test.port, identity: test.identity)
        #expect(verdict.action == test.action)
        #expect(verdict.rule == test.rule)
        if test.action == .reroute { #expect(verdict.target == "https://portal.example.com/mcp") }
    }

    @Test("the full evaluation still applies path and body rules to inspected requests")
    func inspectedRequests() throws {
        let engine = try policy(Self.rules)
        #expect(engine.evaluate(request("GET", "https://api.example.com/admin/users")).rule == "admin-path")
        let mcp = request("POST", "https://api.example.com/rpc", body: #"{"jsonrpc":"2.0","id":1,"method":"tools/call"}"#)
        #expect(engine.evaluate(mcp).rule == "mcp-body")
    }

    @Test("a CONNECT to the portal's own host is not rerouted to itself")
    func portalHost() throws {
        let engine = try policy("""
        ruleset: p
        version: "1"
        rules:
          - { id: shadow, match: { host: ["mcp.*"] }, action: reroute }
        """, portal: "https://mcp.corp.example/")
        #expect(engine.evaluateHostOnly(host: "mcp.corp.example", port: 443, identity: nil).action == .allow)
        #expect(engine.evaluateHostOnly(host: "mcp.other.example", port: 443, identity: nil).action == .reroute)
    }
}
