import Foundation
import Testing

/// Cross-format answers the gateway cannot translate, huge answers, and what the `ai` listener says
/// about itself (headers, missing model), with the official SDKs and curl against the fake provider.
@Suite(.serialized) struct AITranslationFaultTests {
    typealias G = AIGatewayEndToEndTests
    static var token: String { G.tokens["agent-1"] ?? "" }

    static func post(_ server: G.World.Server, path: String, body: String, headers: [String] = []) async throws -> Curl.Response {
        var extra = ["-H", "Authorization: Bearer \(token)", "-H", "content-type: application/json", "--data-binary", body]
        for header in headers { extra += ["-H", header] }
        return try await Curl.fetch(server.ai + path, proxy: nil, extra: extra, timeout: 60)
    }

    @Test(arguments: [("openai", "claude-test"), ("anthropic", "gpt-test")], [false, true])
    func anUntranslatableAnswerIsA502TheSDKRaises(sdk: (name: String, model: String), stream: Bool) async throws {
        let world = try await G.makeWorld(budgets: "    []")
        defer { Task { await world.stop() } }
        let server = try await G.startServer(world)
        let result = try await G.sdk(sdk.name, baseURL: sdk.name == "openai" ? server.ai + "/v1" : server.ai, apiKey: Self.token,
                                     stream: stream, model: sdk.model, headers: ["x-fake-invalid-json:1"])
        #expect(result["ok"] as? Bool != true, "\(result)")
        if !stream {
            #expect(G.int(result["status"]) == 502, "\(result)")
        }
        #expect((result["message"] as? String ?? "\(result)").contains("translat") || (result["message"] as? String ?? "").contains("unreadable"), "\(result)")
        try await Task.sleep(for: .milliseconds(300))
        let line = server.aiLines.last ?? [:]
        #expect((line["error"] as? String ?? "").contains("translated"), "\(line)")
    }

    @Test func aResponseOverTheCapIsA502NamingTheKey() async throws {
        let world = try await G.makeWorld(budgets: "    []")
        defer { Task { await world.stop() } }
        let server = try await G.startServer(world)
        let response = try await Self.post(server, path: "/v1/chat/completions",
                                           body: #"{"model":"claude-test","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"#,
                                           headers: ["x-fake-body-bytes: 40000000"])
        #expect(response.status == 502, "\(response.bodyText.prefix(300))")
        #expect(response.bodyText.contains("ai.max_response_bytes"), "\(response.bodyText.prefix(300))")
    }

    @Test func aLargeCrossFormatAnswerTranslatesWhileOthersAreServed() async throws {
        let world = try await G.makeWorld(budgets: "    []")
        defer { Task { await world.stop() } }
        let server = try await G.startServer(world)
        let size = 20_000_000
        async let big = Self.post(server, path: "/v1/chat/completions",
                                  body: #"{"model":"claude-test","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"#,
                                  headers: ["x-fake-body-bytes: \(size)"])
        var small: [Int] = []
        for _ in 0..<5 {
            let response = try await Self.post(server, path: "/v1/chat/completions",
                                               body: #"{"model":"gpt-test","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"#)
            small.append(response.status)
        }
        let response = try await big
        #expect(small.allSatisfy { $0 == 200 }, "\(small)")
        #expect(response.status == 200)
        let json = try JSONSerialization.jsonObject(with: response.body) as? [String: Any]
        let message = ((json?["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any]) ?? [:]
        let content = message["content"] as? String ?? ""
        #expect(content.count == size / 4 * 4 && content.hasPrefix("tok tok "), "\(content.count)")
        #expect(json?["object"] as? String == "chat.completion")
    }

    @Test func headersModelAndForeignHeaders() async throws {
        let world = try await G.makeWorld(budgets: "    - { team: platform, tokens: 100000, window: 1d }")
        defer { Task { await world.stop() } }
        let server = try await G.startServer(world)
        // The Anthropic SDK's headers do not reach an OpenAI-format provider.
        let crossed = try await G.sdk("anthropic", baseURL: server.ai, apiKey: Self.token, model: "gpt-test",
                                      headers: ["anthropic-beta:tools-2024-05-16"])
        #expect(crossed["ok"] as? Bool == true, "\(crossed)")
        let sent = world.providerRequests.last?["headers"] as? [String: Any] ?? [:]
        #expect(sent["anthropic-version"] == nil && sent["anthropic-beta"] == nil, "\(sent.keys.sorted())")
        // And openai-* ones not to an Anthropic provider.
        let other = try await Self.post(server, path: "/v1/chat/completions",
                                        body: #"{"model":"claude-test","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"#,
                                        headers: ["openai-organization: org-1", "openai-beta: assistants=v2"])
        #expect(other.status == 200)
        let sentToAnthropic = world.providerRequests.last?["headers"] as? [String: Any] ?? [:]
        #expect(sentToAnthropic["openai-organization"] == nil && sentToAnthropic["openai-beta"] == nil && sentToAnthropic["anthropic-version"] != nil,
                "\(sentToAnthropic.keys.sorted())")
        // X-Meshgate-Action on forwarded, translated and local answers, budget headers on metered ones.
        #expect(other.headers.lowercased().contains("x-meshgate-action: allow"), "\(other.headers)")
        #expect(other.headers.lowercased().contains("x-meshgate-budget-remaining"), "\(other.headers)")
        let same = try await Self.post(server, path: "/v1/chat/completions",
                                       body: #"{"model":"gpt-test","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#)
        #expect(same.headers.lowercased().contains("x-meshgate-action: allow"), "\(same.headers)")
        // A request without a model is a 400 in the caller's format.
        let noModel = try await Self.post(server, path: "/v1/messages", body: #"{"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"#)
        #expect(noModel.status == 400, "\(noModel.bodyText)")
        #expect(noModel.bodyText.contains("invalid_request_error") && noModel.bodyText.contains("names no model"), "\(noModel.bodyText)")
        #expect(noModel.headers.lowercased().contains("x-meshgate-action: block"), "\(noModel.headers)")
    }
}
