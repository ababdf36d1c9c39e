import MeshgateCore
import MeshgatePolicy
import Testing

/// One selector, one request, and whether the rule should fire.
struct SelectorCase: Sendable, CustomTestStringConvertible {
    var match: String
    var method = "GET"
    var url: String
    var headers: [String: String] = [:]
    var body: String?
    var identity: Identity?
    var fires: Bool

    var testDescription: String { "match \(match) vs \(method) \(url)\(body.map { " body \($0.prefix(40))" } ?? "") → \(fires)" }
}

@Suite("Selectors")
struct SelectorTests {
    static let cases: [SelectorCase] = [
        // host
        .init(match: "{ host: [mcp.stripe.com] }", url: "https://MCP.Stripe.com./x", fires: true),
        .init(match: "{ host: [mcp.stripe.com] }", url: "https://stripe.com/x", fires: false),
        .init(match: "{ host: ['*.example.com'] }", url: "https://a.b.example.com/", fires: true),
        .init(match: "{ host: ['*.example.com'] }", url: "https://example.com/", fires: false),
        .init(match: "{ host: ['mcp.*'] }", url: "https://mcp.linear.app/mcp", fires: true),
        .init(match: "{ host: ['mcp.*'] }", url: "https://mcpherson.edu/", fires: false),
        .init(match: "{ host: mcp.notion.com }", url: "https://mcp.notion.com/", fires: true),
        // path
        .init(match: "{ path: [/mcp, /sse] }", url: "https://x.com/mcp?session=abc", fires: true),
        .init(match: "{ path: [/mcp, /sse] }", url: "https://x.com/%6dcp", fires: true),
        .init(match: "{ path: [/mcp, /sse] }", url: "https://x.com/mcp/extra", fires: false),
        .init(match: "{ path: ['/mcp/*'] }", url: "https://x.com/mcp/sse", fires: true),
        .init(match: "{ path: ['/mcp/*'] }", url: "https://x.com/api", fires: false),
        // method
        .init(match: "{ method: [post, PUT] }", method: "POST", url: "https://x.com/", fires: true),
        .init(match: "{ method: [POST] }", method: "get", url: "https://x.com/", fires: false),
        // header
        .init(match: "{ header: { Mcp-Session-Id: '^[0-9a-f]+$' } }", url: "https://x.com/",
              headers: ["mcp-session-id": "abc123"], fires: true),
        .init(match: "{ header: { Mcp-Session-Id: '^[0-9a-f]+$' } }", url: "https://x.com/",
              headers: ["Mcp-Session-Id": "not-hex!"], fires: false),
        .init(match: "{ header: { Mcp-Session-Id: '.*' } }", url: "https://x.com/", fires: false),
        .init(match: "{ header: { Accept: 'text/event-stream', User-Agent: 'python' } }", url: "https://x.com/",
              headers: ["Accept": "text/event-stream", "User-Agent": "curl"], fires: false),
        // body (DLP profiles; raw or canonical)
        .init(match: "{ body: [secrets] }", method: "POST", url: "https://x.com/",
              body: #"{"key":"AKIAABCDEFGHIJKLMNOP"}"#, fires: true),
        .init(match: "{ body: [secrets] }", method: "POST", url: "https://x.com/", body: #"{"key":"nothing here"}"#, fires: false),
        .init(match: "{ body: [mcp-jsonrpc] }", method: "POST", url: "https://x.com/",
              body: #"{"jsonrpc":"2.0","id":1,"method":"tools\u002fcall"}"#, fires: true),
        .init(match: "{ body: [mcp-jsonrpc] }", method: "POST", url: "https://x.com/", fires: false),
        // mcp
        .init(match: "{ mcp: any }", method: "POST", url: "https://x.com/", body: #"{"jsonrpc":"2.0","id":1,"method":"initialize"}"#, fires: true),
        .init(match: "{ mcp: any }", method: "POST", url: "https://x.com/", body: #"{"jsonrpc":"2.0","id":1,"method":"eth_call"}"#, fires: false),
        .init(match: "{ mcp: any }", url: "https://x.com/sse", headers: ["Mcp-Session-Id": "1"], fires: true),
        .init(match: "{ mcp: [tools/call] }", method: "POST", url: "https://x.com/",
              body: #"{"jsonrpc":"2.0","id":1,"method":"tools/call"}"#, fires: true),
        .init(match: "{ mcp: [tools/call] }", method: "POST", url: "https://x.com/",
              body: #"{"jsonrpc":"2.0","id":1,"method":"initialize"}"#, fires: false),
        .init(match: "{ mcp: tools/list }", method: "POST", url: "https://x.com/",
              body: #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, fires: true),
        // identity and team
        .init(match: "{ identity: [agent-7, agent-8] }", url: "https://x.com/", identity: Identity(name: "agent-8", team: nil), fires: true),
        .init(match: "{ identity: [agent-7] }", url: "https://x.com/", identity: Identity(name: "agent-9", team: "platform"), fires: false),
        .init(match: "{ identity: [agent-7] }", url: "https://x.com/", fires: false),
        .init(match: "{ team: platform }", url: "https://x.com/", identity: Identity(name: "a", team: "platform"), fires: true),
        .init(match: "{ team: [platform] }", url: "https://x.com/", identity: Identity(name: "a", team: nil), fires: false),
        // all present selectors must hold
        .init(match: "{ host: ['mcp.*'], path: [/mcp], method: [POST] }", method: "POST", url: "https://mcp.x.io/mcp", fires: true),
        .init(match: "{ host: ['mcp.*'], path: [/mcp], method: [POST] }", method: "GET", url: "https://mcp.x.io/mcp", fires: false),
        .init(match: "{ host: ['mcp.*'], body: [secrets] }", method: "POST", url: "https://api.x.io/",
              body: "AKIAABCDEFGHIJKLMNOP", fires: false),
        // no selectors: everything
        .init(match: "{}", url: "https://anything.example/", fires: true),
    ]

    static let profiles = """
    dlp_profiles:
      secrets:
        patterns:
          - { name: AWS Access Key ID, regex: '\\bAKIA[0-9A-Z]{16}\\b' }
      mcp-jsonrpc:
        patterns:
          - { name: MCP Tools Call, regex: '"method"\\s{0,5}:\\s{0,5}"tools/call"' }
    """

    @Test("each selector fires only when it holds", arguments: cases)
    func selector(_ test: SelectorCase) throws {
        let engine = try policy("""
        ruleset: selectors
        version: "1"
        rules:
          - { id: r, match: \(test.match), action: block }
        \(Self.profiles)
        """)
        let headers = test.headers.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
        let verdict = engine.evaluate(request(test.method, test.url, headers: headers, body: test.body, identity: test.identity))
        #expect(verdict.action == (test.fires ? .block : .allow))
        #expect(verdict.rule == (test.fires ? "r" : nil))
    }
}
