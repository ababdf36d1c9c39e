import Foundation
import Meshgate
import Testing

/// `meshgate trail`'s tree, from audit lines as meshgate writes them.
@Suite struct AuditTrailTests {
    static let log = """
        {"ts":"2026-12-07T10:00:00.000Z","event":"ai","client":"10.0.0.5:50000","identity":"alice","team":"platform","action":"allow","rule":null,"ruleset":null,"detections":[],"request_id":"aaaa000000000001","traceparent":"00-11111111111111111111111111111111-aaaa000000000001-01","provider":"openai","model":"gpt-4o","input_tokens":12,"output_tokens":10,"tool_calls":[{"id":"call_1","name":"create_issue"}]}
        {"ts":"2026-12-07T10:00:01.000Z","event":"http","client":"10.0.0.5:50001","identity":"alice","team":"platform","action":"block","rule":"no-writes","ruleset":"gov","detections":["MCP JSON-RPC"],"request_id":"bbbb000000000002","method":"POST","host":"mcp.github.example","path":"/mcp","status":403,"mcp_method":"tools/call","mcp_server":"github","mcp_tool":"create_issue","mcp_session":null,"llm_request_id":"aaaa000000000001","llm_tool_call_id":"call_1"}
        {"ts":"2026-12-07T10:00:02.000Z","event":"http","client":"10.0.0.5:50002","identity":"alice","team":"platform","action":"allow","rule":null,"ruleset":null,"detections":[],"request_id":"cccc000000000003","method":"GET","host":"example.com","path":"/","status":200}
        {"ts":"2026-12-07T10:00:03.000Z","event":"http","client":"10.0.0.9:40000","identity":null,"team":null,"action":"reroute","rule":"shadow-mcp-structural","ruleset":"shadow-mcp","detections":["MCP JSON-RPC"],"request_id":"dddd000000000004","traceparent":"00-22222222222222222222222222222222-dddd000000000004-01","method":"POST","host":"mcp.shadow.example","path":"/mcp","status":200,"mcp_method":"initialize","mcp_server":null,"mcp_session":null}
        {"ts":"2026-12-07T10:00:04.000Z","event":"mcp_drift","client":null,"identity":null,"team":null,"action":"block","rule":null,"ruleset":null,"detections":[],"request_id":"eeee000000000005","mcp_server":"github","tool":"list_issues","change":"changed","old_digest":"sha256:aaaaaaaaaaaaaaaaaaaa","new_digest":"sha256:bbbbbbbbbbbbbbbbbbbb"}
        not json at all
        """

    static func trail(_ filter: AuditTrail.Filter = .init()) -> AuditTrail {
        AuditTrail(lines: log.split(separator: "\n"), filter: filter)
    }

    @Test func toolCallsSitUnderTheLLMCallThatAskedForThem() {
        let trail = Self.trail()
        #expect(trail.actors.map(\.who) == ["alice", "client 10.0.0.9"])
        let alice = trail.actors[0]
        #expect(alice.llmCalls.count == 1)
        #expect(alice.llmCalls[0].toolCalls.map(\.requestID) == ["bbbb000000000002"])
        #expect(alice.allowed == 1)
        #expect(trail.actors[1].mcpCalls.map(\.requestID) == ["dddd000000000004"])
        #expect(trail.drift.count == 1)
        #expect(trail.unreadable == 1)
        let text = trail.text()
        #expect(text.contains("alice (team platform)\n  10:00:00.000  LLM openai gpt-4o 12+10 tokens, asked for create_issue (call_1)  → allow  request aaaa000000000001\n"), "\(text)")
        #expect(text.contains("    └ 10:00:01.000  MCP tools/call create_issue on 'github' mcp.github.example  → block by no-writes, 403 [MCP JSON-RPC]  request bbbb000000000002\n"), "\(text)")
        #expect(text.contains("  + 1 other allowed request\n"))
        #expect(text.contains("MCP drift\n  10:00:04.000  github: tool list_issues changed (block) sha256:aaaaaaaaaaaa… → sha256:bbbbbbbbbbbb…"), "\(text)")
    }

    @Test func aRequestIDOrTraceIDSelectsItsRelatives() {
        let byTool = Self.trail(.init(request: "bbbb000000000002"))
        #expect(byTool.actors.count == 1)
        #expect(byTool.actors[0].llmCalls.first?.toolCalls.count == 1, "the LLM call that asked comes along")
        #expect(byTool.actors[0].allowed == 0)
        let byTrace = Self.trail(.init(request: "22222222222222222222222222222222"))
        #expect(byTrace.actors.map(\.who) == ["client 10.0.0.9"])
        #expect(Self.trail(.init(request: "nothing")).text() == "no audit lines match\n")
    }

    @Test func identityAndSinceFilter() throws {
        #expect(Self.trail(.init(identity: "alice")).actors.map(\.who) == ["alice"])
        // 2026-12-07T10:00:02Z in milliseconds.
        let since = Int64(try #require(ISO8601DateFormatter().date(from: "2026-12-07T10:00:02Z")).timeIntervalSince1970 * 1000)
        let late = Self.trail(.init(sinceMillis: since))
        #expect(late.actors.map(\.who) == ["alice", "client 10.0.0.9"])
        #expect(late.actors[0].llmCalls.isEmpty)
        #expect(late.actors[0].allowed == 1)
    }

    @Test func jsonKeepsEveryLineAsLogged() throws {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(Self.trail().json().utf8)) as? [String: Any])
        let identities = object["identities"] as? [[String: Any]] ?? []
        let call = (identities.first?["llm_calls"] as? [[String: Any]])?.first
        #expect((call?["call"] as? [String: Any])?["request_id"] as? String == "aaaa000000000001")
        #expect(((call?["tool_calls"] as? [[String: Any]])?.first)?["mcp_tool"] as? String == "create_issue")
        #expect((object["drift"] as? [[String: Any]])?.count == 1)
    }
}
