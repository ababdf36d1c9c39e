import Foundation
import Testing

/// The fake LLM provider speaks well enough for the official `openai` and `anthropic` Python SDKs,
/// with exactly the usage its rules promise: checked directly, without meshgate, so the AI gateway
/// tests can trust the fixture and assert exact charges.
@Suite(.serialized) struct LLMFixtureTests {
    /// (sdk, api, stream, extra client args, expected text chunks, expected usage subset)
    static let cases: [(String, String, Bool, [String], Int, [String: Int])] = [
        ("openai", "chat", false, ["--max-tokens", "4", "--extra-header", "x-fake-cached-tokens:5"], 0,
         ["prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16]),
        ("openai", "chat", true, ["--include-usage", "--extra-header", "x-fake-input-tokens:30"], 10,
         ["prompt_tokens": 30, "completion_tokens": 10, "total_tokens": 40]),
        ("openai", "responses", true, ["--max-tokens", "3"], 3, ["input_tokens": 12, "output_tokens": 3, "total_tokens": 15]),
        ("openai", "embeddings", false, [], 0, ["prompt_tokens": 8, "total_tokens": 8]),
        ("anthropic", "chat", false, ["--max-tokens", "6", "--extra-header", "x-fake-cache-creation-tokens:100"], 0,
         ["input_tokens": 12, "output_tokens": 6, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 0]),
        ("anthropic", "chat", true, ["--extra-header", "x-fake-cached-tokens:40"], 10,
         ["input_tokens": 12, "output_tokens": 10, "cache_read_input_tokens": 40]),
    ]

    @Test func bothSDKsReadTheUsageTheFakeReports() async throws {
        let pki = try TestPKI.make()
        let fake = try await FakeLLM(pki: pki, extra: ["--require-key", "sk-provider"])
        defer { fake.stop() }
        for (sdk, api, stream, extra, chunks, usage) in Self.cases {
            let label = "\(sdk) \(api)\(stream ? " stream" : "")"
            let result = try await FakeLLM.client(["--sdk", sdk, "--api", api, "--base-url", fake.baseURL(sdk: sdk), "--ca", pki.originCAPath,
                                                   "--api-key", "sk-provider"] + (stream ? ["--stream"] : []) + extra)
            #expect(result["ok"] as? Bool == true, "\(label): \(result)")
            #expect(result["chunks"] as? Int == chunks, "\(label): \(result)")
            let reported = result["usage"] as? [String: Any] ?? [:]
            for (key, value) in usage {
                #expect(reported[key] as? Int == value, "\(label): \(key) in \(reported)")
            }
            if api != "embeddings" {
                let words = usage["completion_tokens"] ?? usage["output_tokens"] ?? 0
                #expect(result["text"] as? String == String(repeating: "tok ", count: words), "\(label): one \"tok \" per output token")
            }
        }
        let cached = fake.log().first
        #expect((cached?["headers"] as? [String: String])?["authorization"] == "Bearer sk-provider", "the log shows the key that arrived")
    }

    @Test func openAIStreamsCarryUsageOnlyWhenAskedLikeTheRealAPI() async throws {
        let pki = try TestPKI.make()
        let fake = try await FakeLLM(pki: pki)
        defer { fake.stop() }
        let plain = try await FakeLLM.client(["--sdk", "openai", "--base-url", fake.baseURL(sdk: "openai"), "--ca", pki.originCAPath, "--stream"])
        #expect(plain["ok"] as? Bool == true, "\(plain)")
        #expect(plain["usage"] is NSNull, "no stream_options.include_usage, no usage chunk: \(plain)")
        let body = fake.log().first?["body"] as? [String: Any]
        #expect(body?["stream"] as? Bool == true)
        #expect(body?["stream_options"] == nil, "the request as the SDK sent it is logged")
    }

    @Test func failuresCancellationsAndDroppedStreams() async throws {
        let pki = try TestPKI.make()
        let fake = try await FakeLLM(pki: pki)
        defer { fake.stop() }
        let openAI = ["--sdk", "openai", "--base-url", fake.baseURL(sdk: "openai"), "--ca", pki.originCAPath]
        let anthropic = ["--sdk", "anthropic", "--base-url", fake.baseURL(sdk: "anthropic"), "--ca", pki.originCAPath]

        let limited = try await FakeLLM.client(openAI + ["--extra-header", "x-fake-fail:429"])
        #expect(limited["error"] as? String == "RateLimitError", "\(limited)")
        #expect(limited["status"] as? Int == 429)
        #expect((limited["headers"] as? [String: String])?["retry-after"] == "7")
        #expect((limited["body"] as? [String: Any])?["code"] as? String == "rate_limit_exceeded")

        let overloaded = try await FakeLLM.client(anthropic + ["--extra-header", "x-fake-fail:429"])
        #expect(overloaded["error"] as? String == "RateLimitError", "\(overloaded)")
        let error = (overloaded["body"] as? [String: Any])?["error"] as? [String: Any]
        #expect(error?["type"] as? String == "rate_limit_error")

        let cancelled = try await FakeLLM.client(anthropic + ["--stream", "--cancel-after-chunks", "2", "--extra-header", "x-fake-chunk-delay-ms:100"])
        #expect(cancelled["ok"] as? Bool == true, "\(cancelled)")
        #expect(cancelled["cancelled"] as? Bool == true)
        #expect(cancelled["text"] as? String == "tok tok ")
        #expect((cancelled["usage"] as? [String: Any])?["output_tokens"] as? Int == 1, "message_start's placeholder; message_delta never came")

        let dropped = try await FakeLLM.client(openAI + ["--stream", "--extra-header", "x-fake-fail-after-chunks:3"])
        #expect(dropped["ok"] as? Bool == false, "\(dropped)")
        #expect(dropped["text"] as? String == "tok tok tok ")

        // Cancelled and dropped streams are logged as aborted (the count is what the server wrote,
        // which may run ahead of what the client read).
        var ends = fake.log(kind: "stream_end")
        for _ in 0..<100 where ends.count < 2 {
            try await Task.sleep(for: .milliseconds(50))
            ends = fake.log(kind: "stream_end")
        }
        #expect(ends.count == 2, "\(ends)")
        #expect(ends.allSatisfy { $0["aborted"] as? Bool == true }, "\(ends)")
    }
}
