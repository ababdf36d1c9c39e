import MeshgatePolicy
import Testing

@Suite("Embedded ruleset tests")
struct RulesetTestRunnerTests {
    static let passing = """
    ruleset: dlp
    version: "1"
    rules:
      - { id: platform-ok, match: { team: [platform], host: [deploy.example.com] }, action: allow }
      - { id: aws-key, match: { body: [secrets] }, action: block }
      - { id: mcp-session, match: { header: { Mcp-Session-Id: '.+' } }, action: log }
      - { id: mcp-tools, match: { mcp: [tools/call] }, action: reroute }
    dlp_profiles:
      secrets:
        patterns:
          - { name: AWS Access Key ID, regex: 'AKIA[0-9A-Z]{16}' }
    tests:
      - request: { method: POST, url: "https://paste.example.com/new", body: "key=AKIAABCDEFGHIJKLMNOP" }
        expect: block
        rule: aws-key
      - request: { method: POST, url: "https://deploy.example.com/", body: "AKIAABCDEFGHIJKLMNOP", identity: ci, team: platform }
        expect: allow
        rule: platform-ok
      - request: { url: "https://x.example.com/mcp", headers: { Mcp-Session-Id: abc } }
        expect: log
      - request: { method: post, url: "https://x.example.com/rpc", body: '{"jsonrpc":"2.0","id":1,"method":"tools\\u002fcall"}' }
        expect: reroute
      - { request: { url: "https://plain.example.com/" }, expect: allow }
    """

    @Test("a ruleset whose tests all hold reports nothing")
    func passes() throws {
        let engine = try policy(Self.passing)
        #expect(RulesetTestRunner.testCount(engine) == 5)
        #expect(RulesetTestRunner.run(engine, inspector: TestInspector()) == [])
    }

    @Test("failures name file:line of the test and expected vs got")
    func failures() throws {
        let engine = try policy("""
        ruleset: broken
        version: "1"
        rules:
          - { id: block-mcp-host, match: { host: ["mcp.*"] }, action: block }
          - { id: log-sse, match: { path: [/sse] }, action: log }
        tests:
          - { request: { url: "https://mcp.example.com/" }, expect: block }
          - { request: { url: "https://api.example.com/mcp" }, expect: block }
          - request: { url: "https://mcp.example.com/sse" }
            expect: log
            rule: log-sse
        """)
        let failures = RulesetTestRunner.run(engine, inspector: TestInspector())
        #expect(failures.map(\.description) == [
            "a.yaml:8:5: test 2 (GET https://api.example.com/mcp): expected block, got allow (no rule matched)",
            "a.yaml:9:5: test 3 (GET https://mcp.example.com/sse): expected log by rule 'log-sse', got block by rule 'block-mcp-host'",
        ])
        #expect(failures.first?.location.line == 8)
        #expect(failures.first?.verdict?.action == .allow)
    }

    @Test("each ruleset's tests see only its own rules unless merged")
    func scope() throws {
        let first = """
        ruleset: first
        version: "1"
        rules:
          - { id: allow-all, match: {}, action: allow }
        """
        let second = """
        ruleset: second
        version: "1"
        rules:
          - { id: block-x, match: { host: [x.example] }, action: block }
        tests:
          - { request: { url: "https://x.example/" }, expect: block, rule: block-x }
        """
        let engine = try policy(first, second)
        #expect(RulesetTestRunner.run(engine).isEmpty)
        let merged = RulesetTestRunner.run(engine, scope: .merged)
        #expect(merged.map(\.description) == [
            "b.yaml:6:5: test 1 (GET https://x.example/): expected block by rule 'block-x', got allow by rule 'allow-all' of ruleset 'first'",
        ])
    }

    @Test("without an MCP recognizer, mcp rules do not fire in tests")
    func rawInspector() throws {
        let engine = try policy(Self.passing)
        let failures = RulesetTestRunner.run(engine)   // RawBodyInspector: no canonical form, no MCP facts
        #expect(failures.map(\.number) == [4])
    }
}
