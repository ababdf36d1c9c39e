import MeshgateCore
import MeshgatePolicy
import Testing

@Suite("Undecodable body verdict")
struct UndecodableBodyVerdictTests {
    static let rules = """
    ruleset: r
    version: "1"
    rules:
      - id: allow-portal
        match: { host: [portal.example.com] }
        action: allow
      - id: mcp-paths
        match: { path: ["/mcp"] }
        action: reroute
        target: portal
      - id: secrets-from-ci
        match: { team: [ci], body: [secrets] }
        action: block
      - id: mcp-bodies
        match: { method: [POST], body: [secrets] }
        action: reroute
        target: portal
    dlp_profiles:
      secrets:
        patterns:
          - { name: AWS, regex: 'AKIA[0-9A-Z]{16}' }
    """

    @Test(arguments: [
        // The first rule whose head holds needs the body: refused under it, whatever its action.
        ("POST", "https://api.example.org/rpc", nil, "mcp-bodies"),
        ("POST", "https://api.example.org/rpc", "ci", "secrets-from-ci"),
        // A head-only rule decides first: the body does not matter.
        ("POST", "https://portal.example.com/rpc", nil, nil),
        ("POST", "https://api.example.org/mcp", "ci", nil),
        // No rule that needs a body applies at all.
        ("PUT", "https://api.example.org/rpc", nil, nil),
    ] as [(String, String, String?, String?)])
    func blocksUnderTheRuleThatNeedsTheBody(method: String, url: String, team: String?, expected: String?) throws {
        let engine = try policy(Self.rules)
        let identity = team.map { Identity(name: "runner", team: $0) }
        let verdict = engine.undecodableBodyVerdict(for: request(method, url, identity: identity))
        #expect(verdict?.rule == expected)
        #expect(engine.requiresBody(for: request(method, url, identity: identity)) == (expected != nil))
        if let verdict {
            #expect(verdict.action == .block)
            #expect(verdict.ruleset == "r")
            #expect(verdict.detections == ["Undecodable body"])
            #expect(verdict.target == nil)
        }
    }

    @Test func noBodyRulesNoVerdict() throws {
        let engine = try policy("ruleset: h\nversion: \"1\"\nrules:\n  - { id: h, match: { host: [x.com] }, action: block }\n")
        #expect(engine.undecodableBodyVerdict(for: request("POST", "https://y.com/")) == nil)
        #expect(PolicyEngine.empty.undecodableBodyVerdict(for: request("POST", "https://y.com/")) == nil)
    }
}
