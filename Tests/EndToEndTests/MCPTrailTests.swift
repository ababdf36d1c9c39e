import Foundation
import Testing

/// One trail from identity through LLM call to MCP tool call: the OpenAI SDK asks the `ai` listener a
/// question, the model asks for a tool, the same identity's MCP SDK calls that tool through the
/// explicit proxy, and `meshgate trail` puts the tool call under the LLM call.
@Suite(.serialized) struct MCPTrailTests {
    typealias AI = AIGatewayEndToEndTests

    @Test func anOpenAIToolCallIsLinkedToTheMCPCallThatFollowsIt() async throws {
        let world = try await AI.makeWorld(budgets: "    - { team: platform, tokens: 100000, window: 1d }")
        defer { Task { await world.stop() } }
        let mcp = try await MCPGovernanceTests.startServer(world.pki, host: "localhost", tools: "get_weather")
        defer { mcp.process.terminate() }
        world.extraConnectPorts = ", \(mcp.port)"
        // The shipped rulesets refuse Shadow MCP; this server is approved by the registry.
        let registry = world.pki.directory.appendingPathComponent("registry.yaml").path
        try """
            ruleset: registry
            version: "1"
            mcp_servers:
              - { name: weather, urls: ["\(mcp.url)"] }
            rules:
              - { id: approved-mcp, match: { mcp_server: registered }, action: allow }
            """.write(toFile: registry, atomically: true, encoding: .utf8)
        world.extraTopLevel = "rulesets: [\(registry), builtin:shadow-mcp.yaml, builtin:dlp-secrets.yaml]"
        let server = try await AI.startServer(world)

        let llm = try await AI.sdk("openai", baseURL: server.ai + "/v1", apiKey: AI.tokens["agent-1"] ?? "", stream: true,
                                   maxTokens: 64, model: "gpt-test", extra: ["--tool-round-trip"])
        #expect(llm["ok"] as? Bool == true, "\(llm)")
        #expect(llm["tool_name"] as? String == "get_weather")

        // The agent runs the tool the model asked for on its MCP server, as the same identity.
        let proxy = "http://agent-1:\(AI.tokens["agent-1"] ?? "")@127.0.0.1:\(server.proxyPort)"
        let result = try await ProcessRunner.run(MCPSDKTests.python, [
            MCPSDKTests.fixtures.appendingPathComponent("mcp_client.py").path, mcp.url, "--proxy", proxy, "--cafile", server.caPath,
            "--call", "get_weather", "--timeout", "20",
        ], timeout: 45, environment: Curl.environment)
        #expect(result.stdoutText.contains(#""result": "approved:get_weather:hello""#), "\(result.stdoutText) \(result.stderr)")

        try await Task.sleep(for: .milliseconds(300))
        let lines = server.auditLines
        #expect(lines.allSatisfy { ($0["request_id"] as? String)?.count == 16 }, "every line has a request_id")
        let asking = try #require(server.aiLines.first { ($0["tool_calls"] as? [[String: Any]])?.isEmpty == false }, "\(server.aiLines)")
        let calls = asking["tool_calls"] as? [[String: Any]] ?? []
        #expect(calls.map { $0["name"] as? String } == ["get_weather"], "\(asking)")
        #expect((calls.first?["id"] as? String)?.isEmpty == false)
        let toolCall = try #require(lines.first { $0["mcp_tool"] as? String == "get_weather" }, "\(lines)")
        #expect(toolCall["identity"] as? String == "agent-1")
        #expect(toolCall["mcp_method"] as? String == "tools/call")
        #expect(toolCall["mcp_server"] as? String == "weather")
        #expect(toolCall["rule"] as? String == "approved-mcp")
        #expect(toolCall["llm_request_id"] as? String == asking["request_id"] as? String, "\(toolCall)")
        #expect(toolCall["llm_tool_call_id"] as? String == calls.first?["id"] as? String)
        #expect((toolCall["mcp_session"] as? String).map { !$0.isEmpty } ?? true)

        let text = try await ProcessRunner.run(AI.binary, ["trail", "--identity", "agent-1", "--config", server.config])
        #expect(text.exitCode == 0, "\(text.stderr)")
        let tree = text.stdoutText
        #expect(tree.hasPrefix("agent-1 (team platform)\n"), "\(tree)")
        #expect(tree.contains("LLM fakeopenai gpt-test"), "\(tree)")
        #expect(tree.contains("asked for get_weather ("), "\(tree)")
        #expect(tree.contains("    └ ") && tree.contains("MCP tools/call get_weather on 'weather' localhost"), "\(tree)")

        let json = try await ProcessRunner.run(AI.binary, ["trail", "--json", "--request", toolCall["request_id"] as? String ?? "-",
                                                           "--config", server.config])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdoutText.utf8)) as? [String: Any]
        let actors = object?["identities"] as? [[String: Any]] ?? []
        #expect(actors.count == 1, "\(json.stdoutText)")
        let llmCalls = actors.first?["llm_calls"] as? [[String: Any]] ?? []
        #expect(llmCalls.count == 1, "--request shows the tool call with the LLM call that asked for it: \(json.stdoutText)")
        let linked = llmCalls.first?["tool_calls"] as? [[String: Any]] ?? []
        #expect(linked.map { $0["request_id"] as? String } == [toolCall["request_id"] as? String])

        let since = try await ProcessRunner.run(AI.binary, ["trail", "--since", "1 fortnight", "--config", server.config])
        #expect(since.exitCode == 1)
        #expect(since.stderr.contains("--since '1 fortnight' is not a duration"), "\(since.stderr)")
    }
}
