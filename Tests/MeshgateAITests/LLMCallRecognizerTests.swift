import Testing
@testable import MeshgateAI

@Suite struct LLMCallRecognizerTests {
    static let recognizer = LLMCallRecognizer(configured: [
        LLMCallRecognizer.Site(provider: "local-vllm", format: .openai, baseURL: "http://10.0.0.5:8000/v1")!,
        LLMCallRecognizer.Site(provider: "gateway", format: .openai, baseURL: "https://llm.example.com/openai/")!,
        LLMCallRecognizer.Site(provider: "bedrock-proxy", format: .anthropic, baseURL: "https://claude.example.com")!,
    ])

    @Test(arguments: [
        ("POST", "api.openai.com", 443, "/v1/chat/completions", "openai", LLMEndpoint.chatCompletions),
        ("POST", "API.OpenAI.com.", 443, "/v1/responses?stream=true", "openai", .responses),
        ("POST", "api.openai.com", 443, "/v1/completions", "openai", .completions),
        ("POST", "api.openai.com", 8443, "/v1/embeddings", "openai", .embeddings),
        ("POST", "api.anthropic.com", 443, "/v1/messages", "anthropic", .messages),
        ("POST", "api.anthropic.com", 443, "/v1/messages/", "anthropic", .messages),
        ("POST", "10.0.0.5", 8000, "/v1/chat/completions", "local-vllm", .chatCompletions),
        ("POST", "llm.example.com", 443, "/openai/v1/responses", "gateway", .responses),
        ("POST", "claude.example.com", 443, "/v1/messages", "bedrock-proxy", .messages),
    ] as [(String, String, Int, String, String, LLMEndpoint)])
    func recognisesMeteredCalls(method: String, host: String, port: Int, path: String, provider: String, endpoint: LLMEndpoint) {
        let call = Self.recognizer.recognize(method: method, host: host, port: port, path: path)
        #expect(call == LLMCall(provider: provider, endpoint: endpoint))
    }

    @Test(arguments: [
        ("GET", "api.openai.com", 443, "/v1/chat/completions"),          // not a POST
        ("POST", "api.openai.com", 443, "/v1/models"),                   // not metered
        ("POST", "api.openai.com", 443, "/v1/messages"),                 // Anthropic path on an OpenAI host
        ("POST", "api.anthropic.com", 443, "/v1/chat/completions"),      // OpenAI path on the Anthropic host
        ("POST", "api.anthropic.com", 443, "/v1/messages/count_tokens"), // free endpoint
        ("POST", "evil-api.openai.com", 443, "/v1/chat/completions"),    // other host
        ("POST", "10.0.0.5", 9000, "/v1/chat/completions"),              // configured site, other port
        ("POST", "llm.example.com", 443, "/v1/chat/completions"),        // missing the base path
        ("POST", "example.com", 443, "/v1/chat/completions"),
    ])
    func ignoresEverythingElse(method: String, host: String, port: Int, path: String) {
        #expect(Self.recognizer.recognize(method: method, host: host, port: port, path: path) == nil)
    }

    @Test func baseURLsAreParsed() throws {
        let site = try #require(LLMCallRecognizer.Site(provider: "x", format: .openai, baseURL: "https://[::1]:9443/api/v1/"))
        #expect(site.host == "::1")
        #expect(site.port == 9443)
        #expect(site.pathPrefix == "/api")
        #expect(LLMCallRecognizer.Site(provider: "x", format: .openai, baseURL: "not a url") == nil)
        #expect(LLMCallRecognizer.Site(provider: "x", format: .openai, baseURL: "http://h")?.port == 80)
    }
}
