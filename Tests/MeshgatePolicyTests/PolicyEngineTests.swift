import MeshgateCore
import MeshgatePolicy
import Foundation
import Testing

@Suite("PolicyEngine")
struct PolicyEngineTests {
    static let shadow = """
    ruleset: shadow-mcp
    version: "2026.11.24"
    rules:
      - id: allow-portal
        match: { host: [portal.example.com] }
        action: allow
      - id: shadow-mcp-host
        match: { host: ["mcp.*", "mcp.stripe.com"] }
        action: reroute
        target: portal
      - id: shadow-mcp-uri
        match: { path: ["/mcp", "/mcp/*", "/sse"] }
        action: redirect
      - id: shadow-mcp-body
        match: { body: [mcp-jsonrpc] }
        action: block
    dlp_profiles:
      mcp-jsonrpc:
        patterns:
          - { name: MCP Initialize,       regex: '"method"\\s{0,5}:\\s{0,5}"initialize"' }
          - { name: MCP Tools Call,       regex: '"method"\\s{0,5}:\\s{0,5}"tools/call"' }
          - { name: MCP Resources Read,   regex: '"method"\\s{0,5}:\\s{0,5}"resources/read"' }
          - { name: MCP Protocol Version, regex: '"protocolVersion"\\s{0,5}:\\s{0,5}"202[4-9]' }
    tests:
      - { request: { method: POST, url: "https://mcp.linear.app/mcp" }, expect: reroute }
    """

    static let secrets = """
    ruleset: dlp-secrets
    version: "1"
    rules:
      - id: block-aws-key
        match: { body: [secrets] }
        action: block
      - id: log-everything-to-mcp
        match: { host: ["mcp.*"] }
        action: log
      - id: block-other
        match: { host: [other.example] }
        action: block
    dlp_profiles:
      secrets:
        patterns:
          - { name: AWS Access Key ID, regex: 'AKIA[0-9A-Z]{16}' }
          - { name: Slack Token, regex: 'xox[bp]-[0-9A-Za-z-]{10,}' }
    """

    @Test("first match wins across files, in file order")
    func firstMatchAcrossFiles() throws {
        let engine = try policy(Self.shadow, Self.secrets)
        let toMCP = engine.evaluate(request("POST", "https://mcp.linear.app/mcp", body: "AKIAABCDEFGHIJKLMNOP"))
        #expect(toMCP.rule == "shadow-mcp-host")
        #expect(toMCP.ruleset == "shadow-mcp")
        #expect(toMCP.action == .reroute)

        let other = engine.evaluate(request("GET", "https://other.example/"))
        #expect(other.rule == "block-other")
        #expect(other.ruleset == "dlp-secrets")

        // Reversed order: the secrets file now decides first.
        let reversed = try policy(Self.secrets, Self.shadow)
        let again = reversed.evaluate(request("POST", "https://mcp.linear.app/mcp", body: "AKIAABCDEFGHIJKLMNOP"))
        #expect(again.rule == "block-aws-key")
        #expect(again.ruleset == "dlp-secrets")
    }

    @Test("the rule order inside a file decides")
    func ruleOrder() throws {
        let engine = try policy(Self.shadow)
        #expect(engine.evaluate(request("POST", "https://portal.example.com/mcp")).rule == "allow-portal")
        #expect(engine.evaluate(request("GET", "https://api.example.org/sse")).rule == "shadow-mcp-uri")
        #expect(engine.evaluate(request("GET", "https://api.example.org/")) == .noMatch)
    }

    @Test("a verdict names every pattern that hit, the target and the MCP method")
    func verdictDetails() throws {
        let engine = try policy(Self.shadow)
        let body = #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}"#
        let verdict = engine.evaluate(request("POST", "https://api.example.org/rpc", body: body))
        #expect(verdict.action == .block)
        #expect(verdict.rule == "shadow-mcp-body")
        #expect(verdict.detections == ["MCP Initialize", "MCP Protocol Version"])
        #expect(verdict.mcpMethod == "initialize")
        #expect(verdict.target == nil)

        let rerouted = engine.evaluate(request("POST", "https://mcp.stripe.com/v1"))
        #expect(rerouted.target == "https://portal.example.com/mcp")
        let redirected = engine.evaluate(request("GET", "https://api.example.org/mcp/sse"))
        #expect(redirected.action == .redirect)
        #expect(redirected.target == "https://portal.example.com/mcp")
    }

    @Test("escapes hidden from the raw bytes are caught in the canonical form")
    func canonicalView() throws {
        let engine = try policy(Self.shadow)
        let body = #"{"jsonrpc":"2.0","id":7,"method":"tools\u002fcall","params":{}}"#
        let verdict = engine.evaluate(request("POST", "https://api.example.org/rpc", body: body))
        #expect(verdict.rule == "shadow-mcp-body")
        #expect(verdict.detections == ["MCP Tools Call"])
    }

    @Test("an absolute target URL is used as written")
    func absoluteTarget() throws {
        let engine = try policy("""
        ruleset: t
        version: "1"
        rules:
          - { id: to-gateway, match: { host: [mcp.example.com] }, action: redirect, target: "https://gw.corp.example:8443/mcp?from=x" }
        """, portal: nil)
        let verdict = engine.evaluate(request("GET", "https://mcp.example.com/"))
        #expect(verdict.action == .redirect)
        #expect(verdict.target == "https://gw.corp.example:8443/mcp?from=x")
    }

    @Test("a request already at the target is let through instead of looping")
    func noRedirectLoop() throws {
        let engine = try policy("""
        ruleset: loop
        version: "1"
        rules:
          - { id: all-mcp-paths, match: { path: [/mcp] }, action: redirect }
        """)
        let atPortal = engine.evaluate(request("POST", "https://portal.example.com/mcp?x=1"))
        #expect(atPortal.action == .allow)
        #expect(atPortal.rule == "all-mcp-paths")
        #expect(atPortal.target == nil)
        // Same host, other port: a different origin, so redirected.
        #expect(engine.evaluate(request("POST", "https://portal.example.com:8443/mcp")).action == .redirect)
    }

    @Test("the body is only asked for when a rule needs it")
    func lazyBody() throws {
        let engine = try policy(Self.shadow)
        #expect(engine.needsBody)
        let asked = CallCounter()
        var head = PolicyRequest(host: "portal.example.com", method: "POST", path: "/mcp")
        head.bodyFacts = {
            asked.increment()
            return BodyFacts(raw: Array(#"{"method":"initialize"}"#.utf8))
        }
        #expect(!engine.requiresBody(for: head))
        #expect(engine.evaluate(head).rule == "allow-portal")
        #expect(asked.value == 0)

        head.host = "api.example.org"
        head.path = "/rpc"
        #expect(engine.requiresBody(for: head))
        #expect(engine.evaluate(head).rule == "shadow-mcp-body")
        #expect(asked.value == 1)

        let hostOnly = try policy("""
        ruleset: h
        version: "1"
        rules:
          - { id: h, match: { host: [x.com], path: [/a] }, action: block }
        """)
        #expect(!hostOnly.needsBody)
        #expect(!hostOnly.requiresBody(for: head))
    }

    @Test("without body facts, body and mcp selectors do not hold")
    func noBody() throws {
        let engine = try policy(Self.shadow)
        let verdict = engine.evaluate(PolicyRequest(host: "api.example.org", method: "POST", path: "/rpc"))
        #expect(verdict == .noMatch)
    }

    static let limits = """
        ruleset: limits
        version: "1"
        rules:
          - { id: exempt, match: { body: [slow], path: ["/exempt"] }, action: allow }
          - { id: watch, match: { body: [slow], path: ["/watch"] }, action: log }
          - { id: slow, match: { body: [slow] }, action: block }
          - { id: slow-header, match: { header: { X-Probe: '(?#limit)(a+)+$' } }, action: reroute, target: "https://portal.example.com/mcp" }
        dlp_profiles:
          slow:
            patterns:
              - { name: Secret, regex: 'secret' }
              - { name: Catastrophic, regex: '(?#limit)(a+)+$' }
        """

    @Test("by default a regex that gives up counts as a match for a blocking rule, named in the detections")
    func matchLimitBlocksByDefault() throws {
        let engine = try policy(Self.limits, compiler: LimitingRegexCompiler())
        #expect(engine.onMatchError == .block)
        let verdict = engine.evaluate(request("POST", "https://x.com/", body: String(repeating: "a", count: 64) + "!"))
        #expect(verdict.action == .block)
        #expect(verdict.rule == "slow")
        #expect(verdict.detections == ["Match limit: Catastrophic"])
        #expect(verdict.matchErrors.count == 1)   // the test inspector's canonical view is the raw bytes again: scanned once
        #expect(verdict.matchErrors.first?.description == "rule 'slow': pattern 'Catastrophic' of profile 'slow': match limit exceeded")

        // A real match is still named as such beside the one that gave up.
        let both = engine.evaluate(request("POST", "https://x.com/", body: "secret " + String(repeating: "a", count: 64) + "!"))
        #expect(both.rule == "slow")
        #expect(both.detections == ["Secret", "Match limit: Catastrophic"])

        // An exemption that cannot be confirmed does not apply, and a log-only rule does not stand in front.
        #expect(engine.evaluate(request("POST", "https://x.com/exempt", body: "aaaa!")).rule == "slow")
        #expect(engine.evaluate(request("POST", "https://x.com/watch", body: "aaaa!")).rule == "slow")

        // A header selector that gives up: the rule's own action (here reroute), named by header.
        let header = engine.evaluate(request("GET", "https://x.com/", headers: [("X-Probe", "aaaa!")]))
        #expect(header.action == .reroute)
        #expect(header.rule == "slow-header")
        #expect(header.detections == ["Match limit: header 'x-probe'"])
    }

    @Test("with on_match_error: allow a regex that gives up is reported and treated as no match")
    func matchLimitAllowed() throws {
        var rulesets = [try Ruleset.parse(yaml: Self.limits, file: "a.yaml")]
        rulesets[0].rules.removeAll { $0.id == "slow-header" }
        let engine = try PolicyEngine(rulesets: rulesets, regexCompiler: LimitingRegexCompiler(), onMatchError: .allow)
        let verdict = engine.evaluate(request("POST", "https://x.com/", body: String(repeating: "a", count: 64) + "!"))
        #expect(verdict.action == .allow)
        #expect(verdict.rule == nil)
        #expect(verdict.detections.isEmpty)
        #expect(verdict.matchErrors.count == 1)
        #expect(verdict.matchErrors.first?.description == "rule 'slow': pattern 'Catastrophic' of profile 'slow': match limit exceeded")
    }

    @Test("a body pattern that matches the empty string fires neither without a body nor on every body")
    func emptyMatchIsNoDetection() throws {
        let engine = try policy("""
        ruleset: empty
        version: "1"
        rules:
          - { id: optional, match: { body: [optional] }, action: block }
        dlp_profiles:
          optional:
            patterns:
              - { name: Maybe Token, regex: '(?:tok_[a-z]+)?' }
        """)
        #expect(engine.evaluate(request("GET", "https://x.com/")) == .noMatch)
        #expect(engine.evaluate(PolicyRequest(host: "x.com", method: "GET", path: "/").withBody(.empty)) == .noMatch)
        #expect(engine.evaluate(request("POST", "https://x.com/", body: "nothing here")) == .noMatch)
        let hit = engine.evaluate(request("POST", "https://x.com/", body: "a tok_abc here"))
        #expect(hit.rule == "optional")
        #expect(hit.detections == ["Maybe Token"])
    }

    @Test("the empty policy allows everything")
    func emptyPolicy() {
        #expect(PolicyEngine.empty.evaluate(request("POST", "https://mcp.x.com/mcp")) == .noMatch)
        #expect(!PolicyEngine.empty.needsBody)
        #expect(PolicyEngine.empty.evaluateHostOnly(host: "mcp.x.com", port: 443, identity: nil) == .noMatch)
    }

    @Test("the contract's example ruleset loads and its embedded test passes")
    func contractExample() throws {
        let engine = try policy(Self.shadow)
        #expect(engine.ruleCount == 4)
        #expect(RulesetTestRunner.run(engine, inspector: TestInspector()).isEmpty)
    }
}

/// Counts calls from a `@Sendable` closure (tests only; macOS 14 lacks `Synchronization`).
final class CallCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
