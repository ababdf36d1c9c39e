import MeshgateInspection
import MeshgateJSON
import Testing

/// One row of the recognizer tables.
struct RecognizerCase: Sendable, CustomTestStringConvertible {
    var name: String
    var method = "POST"
    var path = "/mcp"
    var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
    var body: String?
    var detections: [MCPDetection] = []
    var mcpMethod: String?
    var toolName: String?
    var methods: [String]?
    var serverURLs: [String] = []
    var protocolVersion: String?

    var testDescription: String { name }

    var request: MCPRequestInfo {
        MCPRequestInfo(method: method, path: path, headers: headers, body: body.map { Array($0.utf8) })
    }
}

@Suite struct MCPRecognizerTests {
    static let positives: [RecognizerCase] = [
        RecognizerCase(
            name: "2024-11-05 initialize",
            body: #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{"roots":{"listChanged":true}},"clientInfo":{"name":"claude-ai","version":"0.1.0"}}}"#,
            detections: [.jsonRPC], mcpMethod: "initialize", protocolVersion: "2024-11-05"
        ),
        RecognizerCase(
            name: "2025-03-26 batch with session id",
            headers: [("Content-Type", "application/json"), ("Mcp-Session-Id", "1868a90c-1d2e-4b9f")],
            body: """
            [{"jsonrpc":"2.0","method":"notifications/initialized"},
             {"jsonrpc":"2.0","id":2,"method":"tools/list"},
             {"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"create_issue","arguments":{"title":"x"}}}]
            """,
            detections: [.jsonRPC, .header], mcpMethod: "notifications/initialized", toolName: "create_issue",
            methods: ["notifications/initialized", "tools/list", "tools/call"]
        ),
        RecognizerCase(
            name: "2025-06-18 tools/call with MCP-Protocol-Version",
            headers: [("content-type", "application/json"), ("mcp-protocol-version", "2025-06-18")],
            body: #"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"get_weather","arguments":{"location":"Oslo"}}}"#,
            detections: [.jsonRPC, .header], mcpMethod: "tools/call", toolName: "get_weather", protocolVersion: "2025-06-18"
        ),
        RecognizerCase(
            name: "2025-06-18 elicitation/create",
            body: #"{"jsonrpc":"2.0","id":9,"method":"elicitation/create","params":{"message":"Your name?","requestedSchema":{"type":"object","properties":{}}}}"#,
            detections: [.jsonRPC], mcpMethod: "elicitation/create"
        ),
        RecognizerCase(
            name: "2025-11-25 tasks/get with taskId",
            body: #"{"jsonrpc":"2.0","id":3,"method":"tasks/get","params":{"taskId":"786512e2-9e0d-44bd-8f29-789f320fe840"}}"#,
            detections: [.jsonRPC], mcpMethod: "tasks/get"
        ),
        RecognizerCase(
            name: "2026-07-28 server/discover with Mcp-Method",
            headers: [("Content-Type", "application/json"), ("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "server/discover")],
            body: #"{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#,
            detections: [.jsonRPC, .header], mcpMethod: "server/discover", protocolVersion: "2026-07-28"
        ),
        RecognizerCase(
            name: "2026-07-28 subscriptions/listen without headers",
            body: #"{"jsonrpc":"2.0","id":"sub-1","method":"subscriptions/listen","params":{"notifications":{"toolsListChanged":true},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#,
            detections: [.jsonRPC], mcpMethod: "subscriptions/listen", protocolVersion: "2026-07-28"
        ),
        RecognizerCase(
            name: "2026-07-28 method newer than the catalog, known by its _meta",
            body: #"{"jsonrpc":"2.0","id":1,"method":"groups/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#,
            detections: [.jsonRPC], mcpMethod: "groups/list", protocolVersion: "2026-07-28"
        ),
        RecognizerCase(
            name: "2026-07-28 headers only (body not read), base64 Mcp-Name",
            headers: [("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "=?base64?SGVsbG8sIOS4lueVjA==?=")],
            detections: [.header], mcpMethod: "tools/call", toolName: "Hello, 世界", methods: ["tools/call"], protocolVersion: "2026-07-28"
        ),
        RecognizerCase(
            name: "escaped method name",
            body: #"{"jsonrpc":"2.0","id":1,"method":"tools\u002fcall","params":{"name":"delete_repo"}}"#,
            detections: [.jsonRPC], mcpMethod: "tools/call", toolName: "delete_repo"
        ),
        RecognizerCase(
            name: "method after 4 KiB of params",
            body: #"{"jsonrpc":"2.0","id":1,"params":{"name":"exfil","arguments":{"blob":""# + String(repeating: "B", count: 4200) + #""}},"method":"tools\/call"}"#,
            detections: [.jsonRPC], mcpMethod: "tools/call", toolName: "exfil"
        ),
        RecognizerCase(
            name: "decoy duplicate method key",
            body: #"{"jsonrpc":"2.0","id":1,"method":"eth_call","method":"tools/call","params":{"name":"run"}}"#,
            detections: [.jsonRPC], mcpMethod: "tools/call", toolName: "run"
        ),
        RecognizerCase(
            name: "ping is MCP when the session header says so",
            headers: [("Mcp-Session-Id", "abc")],
            body: #"{"jsonrpc":"2.0","id":"p1","method":"ping"}"#,
            detections: [.jsonRPC, .header], mcpMethod: "ping"
        ),
        RecognizerCase(
            name: "ping is MCP inside a batch with an MCP-only method",
            body: #"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"file:///etc/passwd"}}]"#,
            detections: [.jsonRPC], mcpMethod: "ping", methods: ["ping", "resources/read"]
        ),
        RecognizerCase(
            name: "ping posted to an /mcp endpoint",
            path: "/v1/mcp/", body: #"{"jsonrpc":"2.0","id":14,"method":"ping"}"#,
            detections: [.jsonRPC], mcpMethod: "ping"
        ),
        RecognizerCase(
            name: "legacy POST /messages?sessionId= with ping",
            path: "/messages?sessionId=2b1e0c", body: #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
            detections: [.jsonRPC, .sse], mcpMethod: "ping"
        ),
        RecognizerCase(
            name: "legacy Python-SDK POST /messages/?session_id= with a response",
            path: "/messages/?session_id=9f2c", body: #"{"jsonrpc":"2.0","id":5,"result":{"roots":[]}}"#,
            detections: [.sse]
        ),
        RecognizerCase(
            name: "WebSocket subprotocol",
            method: "GET", path: "/ws",
            headers: [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Protocol", "chat, MCP")],
            detections: [.webSocket]
        ),
        RecognizerCase(
            name: "Anthropic mcp_servers",
            path: "/v1/messages",
            headers: [("anthropic-beta", "mcp-client-2025-11-20")],
            body: """
            {"model":"claude-sonnet-4","max_tokens":1000,"messages":[{"role":"user","content":"hi"}],
             "mcp_servers":[{"type":"url","url":"https://mcp.example.com/sse","name":"example","authorization_token":"t"},
                            {"type":"url","url":"https://mcp.linear.app/mcp","name":"linear"}],
             "tools":[{"type":"mcp_toolset","mcp_server_name":"example"}]}
            """,
            detections: [.llmRequest], serverURLs: ["https://mcp.example.com/sse", "https://mcp.linear.app/mcp"]
        ),
        RecognizerCase(
            name: "OpenAI Responses type mcp",
            path: "/v1/responses",
            body: """
            {"model":"gpt-4.1","input":"roll 2d4+1",
             "tools":[{"type":"function","name":"f","parameters":{}},
                      {"type":"mcp","server_label":"dmcp","server_url":"https://dmcp-server.deno.dev/sse","require_approval":"never"},
                      {"type":"mcp","server_label":"gdrive","connector_id":"connector_googledrive"}]}
            """,
            detections: [.llmRequest], serverURLs: ["https://dmcp-server.deno.dev/sse"]
        ),
    ]

    @Test(arguments: positives)
    func recognises(_ c: RecognizerCase) throws {
        let finding = try #require(MCPRecognizer.recognize(request: c.request))
        #expect(finding.detections == c.detections.map(\.rawValue))
        #expect(finding.mcpMethod == c.mcpMethod)
        #expect(finding.toolName == c.toolName)
        #expect(finding.methods == (c.methods ?? c.mcpMethod.map { [$0] } ?? []))
        #expect(finding.serverURLs == c.serverURLs)
        if let version = c.protocolVersion { #expect(finding.protocolVersion == version) }
    }

    static let negatives: [RecognizerCase] = [
        RecognizerCase(name: "Ethereum eth_call", body: #"{"jsonrpc":"2.0","method":"eth_call","params":[{"to":"0xd46e8dd67c5d32be8058bb8eb970870f07244567","data":"0x70a08231"},"latest"],"id":1}"#),
        RecognizerCase(name: "Ethereum batch", body: #"[{"jsonrpc":"2.0","method":"eth_blockNumber","params":[],"id":1},{"jsonrpc":"2.0","method":"eth_getBalance","params":["0x407d73d8a49eeb85d32cf465507dd71d507100c1","latest"],"id":2}]"#),
        RecognizerCase(name: "LSP initialize", body: #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":4242,"rootUri":"file:///home/me/project","capabilities":{"textDocument":{}},"clientInfo":{"name":"Visual Studio Code","version":"1.90.0"},"trace":"off"}}"#),
        RecognizerCase(name: "LSP textDocument/didOpen", body: #"{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///a.swift","languageId":"swift","version":1,"text":"let x = 1"}}}"#),
        RecognizerCase(name: "LSP initialized and shutdown batch", body: #"[{"jsonrpc":"2.0","method":"initialized","params":{}},{"jsonrpc":"2.0","id":2,"method":"shutdown"}]"#),
        RecognizerCase(name: "A2A tasks/get with params.id", body: #"{"jsonrpc":"2.0","id":1,"method":"tasks/get","params":{"id":"task-123","historyLength":10}}"#),
        RecognizerCase(name: "lone ping from some JSON-RPC service", path: "/jsonrpc", body: #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#),
        RecognizerCase(
            name: "GitHub issue quoting MCP JSON",
            path: "/repos/acme/app/issues",
            headers: [("Content-Type", "application/json"), ("Authorization", "Bearer ghp_x")],
            body: #"{"title":"tools/call fails","body":"Sending {\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"x\"}} returns 500","labels":["mcp"]}"#
        ),
        RecognizerCase(name: "MCP JSON nested in a log record", body: #"{"level":"info","message":{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}}"#),
        RecognizerCase(name: "no jsonrpc member", body: #"{"method":"tools/call","params":{"name":"x"}}"#),
        RecognizerCase(name: "JSON-RPC 1.0", body: #"{"jsonrpc":"1.0","id":1,"method":"tools/call"}"#),
        RecognizerCase(name: "method names are case-sensitive", body: #"{"jsonrpc":"2.0","id":1,"method":"Tools/Call"}"#),
        RecognizerCase(name: "plain JSON API", path: "/api/v1/orders", body: #"{"order_id":42,"items":[{"sku":"A-1","qty":2}],"note":"ship tools/call kit"}"#),
        RecognizerCase(name: "LLM request without MCP", path: "/v1/chat/completions", body: #"{"model":"gpt-4o","messages":[{"role":"user","content":"explain mcp_servers"}],"tools":[{"type":"function","function":{"name":"f"}}]}"#),
        RecognizerCase(name: "LLM request with empty mcp_servers", path: "/v1/messages", body: #"{"model":"claude-sonnet-4","messages":[],"mcp_servers":[]}"#),
        RecognizerCase(name: "not JSON", headers: [("Content-Type", "text/plain")], body: #"jsonrpc 2.0 method tools/call"#),
        RecognizerCase(name: "an /mcp path with a JSON body that is not JSON-RPC", path: "/mcp", body: #"{"method":"ping","name":"x"}"#),
        RecognizerCase(name: "event stream GET not on /sse", method: "GET", path: "/events", headers: [("Accept", "text/event-stream")]),
        // A legacy MCP client's first request and a stock ticker's EventSource are the same bytes; the
        // answer (`event: endpoint`) decides, in recognizeResponse.
        RecognizerCase(name: "event stream GET on /sse", method: "GET", path: "/sse", headers: [("Accept", "text/event-stream"), ("Cache-Control", "no-cache")]),
        RecognizerCase(name: "event stream GET on a prefixed /sse/", method: "GET", path: "/v1/github/sse/?token=x", headers: [("accept", "text/event-stream, */*")]),
        RecognizerCase(name: "GET /sse for HTML", method: "GET", path: "/sse", headers: [("Accept", "text/html")]),
        RecognizerCase(name: "POST /messages?sessionId= with a chat message", path: "/messages?sessionId=1", body: #"{"text":"hello","to":"bob"}"#),
        RecognizerCase(name: "WebSocket with other subprotocols", method: "GET", path: "/ws", headers: [("Sec-WebSocket-Protocol", "chat, mcpx, graphql-ws")]),
        RecognizerCase(
            name: "host names are not the recognizer's business",
            method: "GET", path: "/admissions/mcp",
            headers: [("Host", "mcpherson.edu"), ("Accept", "text/html")]
        ),
    ]

    @Test(arguments: negatives)
    func ignores(_ c: RecognizerCase) {
        #expect(MCPRecognizer.recognize(request: c.request) == nil)
    }

    @Test func collectsRequestIDsForPerRequestErrors() throws {
        let body = #"[{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":7,"method":"tools/list"},{"jsonrpc":"2.0","id":"b","method":"tools/call","params":{"name":"x"}},{"jsonrpc":"2.0","id":9,"result":{}}]"#
        let finding = try #require(MCPRecognizer.recognize(request: MCPRequestInfo(method: "POST", path: "/mcp", body: Array(body.utf8))))
        #expect(finding.requestIDs == [.number("7"), .string("b")])
    }

    @Test func usesAnAlreadyParsedTreeInsteadOfTheBody() throws {
        let json = try JSONParser.parse(#"{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"review"}}"#)
        let request = MCPRequestInfo(method: "POST", path: "/", body: Array("garbage".utf8), json: json)
        let finding = try #require(MCPRecognizer.recognize(request: request))
        #expect(finding.mcpMethod == "prompts/get")
        #expect(finding.toolName == nil)
    }

    @Test func bodyWinsOverTheMirroredHeaders() throws {
        // A header/body mismatch is the server's to reject (HeaderMismatch); the gateway reports
        // what the server would execute.
        let request = MCPRequestInfo(
            method: "POST", path: "/mcp",
            headers: [("Mcp-Method", "tools/list"), ("Mcp-Name", "harmless")],
            body: Array(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"drop_db"}}"#.utf8)
        )
        let finding = try #require(MCPRecognizer.recognize(request: request))
        #expect(finding.mcpMethod == "tools/call")
        #expect(finding.toolName == "drop_db")
    }

    @Test func responseStreamOpeningWithEndpointEvent() throws {
        let stream = Array("event: endpoint\r\ndata: /messages?sessionId=5f1c\r\n\r\nevent: message\r\n".utf8)
        let finding = try #require(MCPRecognizer.recognizeResponse(contentType: "text/event-stream; charset=utf-8", streamPrefix: stream))
        #expect(finding.detections == ["MCP SSE"])
        #expect(MCPRecognizer.recognizeResponse(contentType: "application/json", streamPrefix: stream) == nil)
        let other = Array("event: message\ndata: {\"jsonrpc\":\"2.0\"}\n\n".utf8)
        #expect(MCPRecognizer.recognizeResponse(contentType: "text/event-stream", streamPrefix: other) == nil)
    }
}
