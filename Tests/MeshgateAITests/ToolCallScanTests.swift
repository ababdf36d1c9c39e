import Testing
@testable import MeshgateAI

/// The tool calls a model asks for, read from answers in every provider's shape, whole and streamed,
/// however the bytes are split.
@Suite struct ToolCallScanTests {
    static func calls(_ text: String, format: LLMFormat, streaming: Bool, chunk: Int) -> [LLMToolCall] {
        var meter = UsageMeter(format: format, streaming: streaming)
        let bytes = Array(text.utf8)
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + chunk)
            bytes[start..<end].withUnsafeBytes { meter.consume($0) }
            start = end
        }
        _ = meter.finish()
        return meter.toolCalls
    }

    static let openAIChat = #"{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}"#

    static let openAIStream = """
        data: {"id":"c","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}

        data: {"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"city\\":"}}]}}]}

        data: {"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"get_time","arguments":""}}]}}]}

        data: {"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}

        data: [DONE]


        """

    static let anthropicMessage = #"{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4","content":[{"type":"text","text":"Let me check."},{"type":"tool_use","id":"toolu_a","name":"get_weather","input":{"city":"Paris"}}],"stop_reason":"tool_use","usage":{"input_tokens":10,"output_tokens":20}}"#

    static let anthropicStream = """
        event: message_start
        data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4","content":[],"usage":{"input_tokens":10,"output_tokens":1}}}

        event: content_block_start
        data: {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_a","name":"get_weather","input":{}}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\\"city\\": \\"Paris\\"}"}}

        event: message_delta
        data: {"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":20}}


        """

    static let responses = #"{"id":"resp_1","object":"response","model":"gpt-4.1","output":[{"type":"message","id":"msg_1","role":"assistant","content":[{"type":"output_text","text":"ok"}]},{"type":"function_call","id":"fc_1","call_id":"call_r","name":"lookup","arguments":"{}"}],"usage":{"input_tokens":3,"output_tokens":4}}"#

    static let responsesStream = """
        event: response.output_item.added
        data: {"type":"response.output_item.added","output_index":0,"item":{"type":"function_call","id":"fc_1","call_id":"call_r","name":"lookup","arguments":""}}

        event: response.completed
        data: {"type":"response.completed","response":{"id":"resp_1","model":"gpt-4.1","output":[{"type":"function_call","id":"fc_1","call_id":"call_r","name":"lookup","arguments":"{}"}],"usage":{"input_tokens":3,"output_tokens":4}}}


        """

    @Test(arguments: [
        (openAIChat, LLMFormat.openai, false, [LLMToolCall(id: "call_a", name: "get_weather"), LLMToolCall(id: "call_b", name: "get_time")]),
        (openAIStream, .openai, true, [LLMToolCall(id: "call_a", name: "get_weather"), LLMToolCall(id: "call_b", name: "get_time")]),
        (anthropicMessage, .anthropic, false, [LLMToolCall(id: "toolu_a", name: "get_weather")]),
        (anthropicStream, .anthropic, true, [LLMToolCall(id: "toolu_a", name: "get_weather")]),
        (responses, .openai, false, [LLMToolCall(id: "call_r", name: "lookup")]),
        (responsesStream, .openai, true, [LLMToolCall(id: "call_r", name: "lookup")]),
    ])
    func toolCallsAreRead(text: String, format: LLMFormat, streaming: Bool, expected: [LLMToolCall]) {
        for chunk in [Int.max, 13, 1] {
            #expect(Self.calls(text, format: format, streaming: streaming, chunk: chunk) == expected, "chunk \(chunk)")
        }
    }

    @Test func anAnswerWithoutToolsHasNone() {
        let text = #"{"id":"chatcmpl-1","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"The id is 42 and the name is Bob"}}],"usage":{"prompt_tokens":1,"completion_tokens":1}}"#
        #expect(Self.calls(text, format: .openai, streaming: false, chunk: .max).isEmpty)
        let user = #"{"id":"msg_1","type":"message","model":"claude","content":[{"type":"text","text":"{\"id\":\"x\",\"name\":\"y\"}"}],"usage":{"input_tokens":1,"output_tokens":1}}"#
        #expect(Self.calls(user, format: .anthropic, streaming: false, chunk: .max).isEmpty, "JSON inside text is text")
    }
}
