import MeshgateInspection
import MeshgateJSON
import Testing
@testable import MeshgateAI

@Suite struct TranslationResponseTests {
    @Test func anthropicToolResponseBecomesOpenAI() throws {
        let out = try JSONParser.parse(ResponseTranslator.translate(
            Array(TranslationFixtures.anthropicToolResponse.utf8), from: .anthropic, to: .openai, model: "gpt-4.1", created: 1_741_569_952))
        let expected = try translationJSON(#"""
            {"id":"chatcmpl-01Aq9w938a90dw8q","object":"chat.completion","created":1741569952,"model":"gpt-4.1",
             "choices":[{"index":0,"message":{"role":"assistant","content":"I'll check the current weather in San Francisco for you.",
               "tool_calls":[{"id":"toolu_01A09q90qw90lq917835lq9","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"San Francisco, CA\",\"unit\":\"celsius\"}"}}],
               "refusal":null},"logprobs":null,"finish_reason":"tool_calls"}],
             "usage":{"prompt_tokens":4246,"completion_tokens":503,"total_tokens":4749,"prompt_tokens_details":{"cached_tokens":2051}}}
            """#)
        #expect(out == expected)
    }

    @Test func openAIToolResponseBecomesAnthropic() throws {
        let out = try JSONParser.parse(ResponseTranslator.translate(
            Array(TranslationFixtures.openAIToolResponse.utf8), from: .openai, to: .anthropic, model: "claude-sonnet-4-5"))
        let expected = try translationJSON(#"""
            {"id":"msg_abc123","type":"message","role":"assistant","model":"claude-sonnet-4-5",
             "content":[{"type":"tool_use","id":"call_abc123","name":"get_current_weather","input":{"location":"Boston, MA"}}],
             "stop_reason":"tool_use","stop_sequence":null,
             "usage":{"input_tokens":18,"cache_creation_input_tokens":0,"cache_read_input_tokens":64,"output_tokens":17}}
            """#)
        #expect(out == expected)
    }

    @Test(arguments: [
        ("end_turn", "stop", "end_turn"), ("stop_sequence", "stop", "end_turn"), ("max_tokens", "length", "max_tokens"),
        ("tool_use", "tool_calls", "tool_use"), ("refusal", "content_filter", "refusal"),
    ])
    func stopReasonsMap(anthropic: String, openAI: String, backToAnthropic: String) throws {
        let body = #"{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"text","text":"x"}],"stop_reason":"\#(anthropic)","usage":{"input_tokens":1,"output_tokens":1}}"#
        let out = try JSONParser.parse(ResponseTranslator.translate(Array(body.utf8), from: .anthropic, to: .openai, model: "m"))
        #expect(out["choices"]?.arrayValue?.first?["finish_reason"] == .string(openAI))
        let openAIBody = #"{"id":"c","choices":[{"index":0,"message":{"role":"assistant","content":"x"},"finish_reason":"\#(openAI)"}]}"#
        let back = try JSONParser.parse(ResponseTranslator.translate(Array(openAIBody.utf8), from: .openai, to: .anthropic, model: "m"))
        #expect(back["stop_reason"] == .string(backToAnthropic))
    }

    @Test func unreadableSuccessBodyIsAnError() {
        #expect(throws: TranslationError.self) {
            try ResponseTranslator.translate(Array("<html>".utf8), from: .openai, to: .anthropic, model: "m")
        }
    }

    @Test func anthropicErrorBecomesOpenAIErrorKeepingTheMessage() throws {
        let body = #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
        let out = try JSONParser.parse(ResponseTranslator.translateError(Array(body.utf8), status: 529, from: .anthropic, to: .openai))
        #expect(out["error"]?["message"] == .string("Overloaded"))
        #expect(out["error"]?["type"] == .string("server_error"))
        #expect(out["error"]?.hasKey("param") == true)
    }

    @Test func openAIErrorBecomesAnthropicErrorKeepingTheMessage() throws {
        let body = #"{"error":{"message":"Rate limit reached for gpt-4.1 on tokens per min (TPM).","type":"tokens","param":null,"code":"rate_limit_exceeded"}}"#
        let out = try JSONParser.parse(ResponseTranslator.translateError(Array(body.utf8), status: 429, from: .openai, to: .anthropic))
        #expect(out["type"] == .string("error"))
        #expect(out["error"]?["type"] == .string("rate_limit_error"))
        #expect(out["error"]?["message"] == .string("Rate limit reached for gpt-4.1 on tokens per min (TPM)."))
    }

    @Test func unparseableErrorNamesTheStatus() throws {
        let out = try JSONParser.parse(ResponseTranslator.translateError(Array("<html>502 Bad Gateway</html>".utf8), status: 502, from: .openai, to: .anthropic))
        #expect(out["error"]?["message"]?.stringValue?.contains("502") == true)
        #expect(out["error"]?["type"] == .string("api_error"))
    }
}
