/// Request, response and stream bodies taken from the providers' documented examples (OpenAI API
/// reference: Chat Completions create, vision, function calling and its streaming guide; Anthropic
/// Messages API, tool use, parallel tool use, vision, prompt caching and streaming guides).
enum TranslationFixtures {
    // MARK: OpenAI requests

    /// API reference, "Functions" example.
    static let openAIToolRequest = #"""
        {
          "model": "gpt-4.1",
          "messages": [{"role": "user", "content": "What is the weather like in Boston today?"}],
          "tools": [{
            "type": "function",
            "function": {
              "name": "get_current_weather",
              "description": "Get the current weather in a given location",
              "parameters": {
                "type": "object",
                "properties": {
                  "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                  "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}
                },
                "required": ["location"]
              }
            }
          }],
          "tool_choice": "auto"
        }
        """#

    /// API reference, "Default" example (developer message) with sampling fields set.
    static let openAISystemRequest = #"""
        {"model": "gpt-4.1", "messages": [{"role": "developer", "content": "You are a helpful assistant."},
          {"role": "user", "content": "Hello!"}], "temperature": 0.7, "top_p": 1e-1, "max_tokens": 100, "stop": "\n\n",
          "stream": true, "stream_options": {"include_usage": true}, "user": "user-1234"}
        """#

    /// API reference, "Image input" example, plus a base64 data URL image.
    static let openAIImageRequest = #"""
        {"model": "gpt-4.1", "messages": [{"role": "user", "content": [
          {"type": "text", "text": "What is in this image?"},
          {"type": "image_url", "image_url": {"url": "https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/Gfp-wisconsin-madison-the-nature-boardwalk.jpg/2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg", "detail": "high"}},
          {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQSkZJRg=="}}]}],
         "max_completion_tokens": 300}
        """#

    /// Function calling guide: parallel calls answered by two tool messages, then a follow-up.
    static let openAIParallelToolConversation = #"""
        {"model": "gpt-4.1", "messages": [
          {"role": "user", "content": "What's the weather like in Paris today and in Bogotá?"},
          {"role": "assistant", "content": null, "tool_calls": [
            {"id": "call_12345xyz", "type": "function", "function": {"name": "get_weather", "arguments": "{\"location\":\"Paris, France\"}"}},
            {"id": "call_67890abc", "type": "function", "function": {"name": "get_weather", "arguments": "{\"location\":\"Bogotá, Colombia\"}"}}]},
          {"role": "tool", "tool_call_id": "call_12345xyz", "content": "14°C"},
          {"role": "tool", "tool_call_id": "call_67890abc", "content": "18°C"}],
         "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Get current temperature for a given location.",
           "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"], "additionalProperties": false}, "strict": true}}],
         "parallel_tool_calls": true}
        """#

    // MARK: Anthropic requests

    /// Tool use guide: the weather tool, the model's tool_use turn and the tool_result turn.
    static let anthropicToolRoundTrip = #"""
        {
          "model": "claude-opus-4-1-20250805",
          "max_tokens": 1024,
          "tools": [{
            "name": "get_weather",
            "description": "Get the current weather in a given location",
            "input_schema": {
              "type": "object",
              "properties": {"location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"}},
              "required": ["location"]
            }
          }],
          "messages": [
            {"role": "user", "content": "What is the weather like in San Francisco?"},
            {"role": "assistant", "content": [
              {"type": "text", "text": "I'll check the current weather in San Francisco for you."},
              {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "input": {"location": "San Francisco, CA", "unit": "celsius"}}]},
            {"role": "user", "content": [
              {"type": "tool_result", "tool_use_id": "toolu_01A09q90qw90lq917835lq9", "content": "15 degrees"}]}
          ]
        }
        """#

    /// Vision guide (base64 and URL sources) with the prompt caching guide's system blocks.
    static let anthropicImageRequest = #"""
        {"model": "claude-sonnet-4-5", "max_tokens": 1024,
         "system": [{"type": "text", "text": "You are an AI assistant tasked with analyzing literary works."},
                    {"type": "text", "text": "<the entire contents of Pride and Prejudice>", "cache_control": {"type": "ephemeral"}}],
         "messages": [{"role": "user", "content": [
           {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQSkZJRg=="}},
           {"type": "image", "source": {"type": "url", "url": "https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg"}},
           {"type": "text", "text": "Describe this image."}]}],
         "temperature": 0.7, "stop_sequences": ["\n\nHuman:"], "stream": true, "metadata": {"user_id": "13803d75-b4b5-4c3e-b2a2-6f21399b021b"},
         "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
         "tools": [{"name": "describe", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}}]}
        """#

    // MARK: responses

    /// Tool use guide: the model's answer asking for a tool, with the prompt caching guide's usage.
    static let anthropicToolResponse = #"""
        {"id": "msg_01Aq9w938a90dw8q", "type": "message", "model": "claude-opus-4-1-20250805", "stop_reason": "tool_use",
         "stop_sequence": null, "role": "assistant", "content": [
           {"type": "text", "text": "I'll check the current weather in San Francisco for you."},
           {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "input": {"location": "San Francisco, CA", "unit": "celsius"}}],
         "usage": {"input_tokens": 2095, "output_tokens": 503, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 2051}}
        """#

    /// API reference, "Functions" example response.
    static let openAIToolResponse = #"""
        {"id": "chatcmpl-abc123", "object": "chat.completion", "created": 1699896916, "model": "gpt-4o-mini",
         "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "tool_calls": [
           {"id": "call_abc123", "type": "function", "function": {"name": "get_current_weather", "arguments": "{\n\"location\": \"Boston, MA\"\n}"}}]},
           "logprobs": null, "finish_reason": "tool_calls"}],
         "usage": {"prompt_tokens": 82, "completion_tokens": 17, "total_tokens": 99,
           "prompt_tokens_details": {"cached_tokens": 64, "audio_tokens": 0},
           "completion_tokens_details": {"reasoning_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}}
        """#

    // MARK: streams

    /// Streaming guide, "Streaming request with tool use" (text, then a tool_use block whose input
    /// arrives as input_json_delta fragments).
    static let anthropicToolStream = """
        event: message_start
        data: {"type":"message_start","message":{"id":"msg_014p7gG3wDgGV9EUtLvnow3U","type":"message","role":"assistant","model":"claude-opus-4-1-20250805","stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":2,"cache_read_input_tokens":30},"content":[],"stop_reason":null}}

        event: content_block_start
        data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

        event: ping
        data: {"type": "ping"}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Okay"}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":", let me check the weather for San Francisco, CA:"}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":0}

        event: content_block_start
        data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"location\\":"}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \\"San"}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" Francisc"}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"o,"}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" CA\\""}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":", "}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\\"unit\\": \\"fah"}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"renheit\\"}"}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":1}

        event: message_delta
        data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}

        event: message_stop
        data: {"type":"message_stop"}


        """

    /// The input fragments of `anthropicToolStream`, in order (the empty opener excluded).
    static let anthropicToolStreamFragments = [
        #"{"location":"#, #" "San"#, " Francisc", "o,", #" CA""#, ", ", #""unit": "fah"#, #"renheit"}"#,
    ]

    /// Function calling guide, streaming: two parallel calls whose arguments arrive in fragments
    /// (`id`/`name` null after the first), then the finish chunk, the usage chunk and [DONE].
    static let openAIParallelToolStream = """
        data: {"id":"chatcmpl-9x1","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_DdmO9pD3xa9XTPNJ32zg2hcA","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}],"usage":null}

        data: {"id":"chatcmpl-9x1","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":null,"type":null,"function":{"name":null,"arguments":"{\\"location\\":\\""}}]},"logprobs":null,"finish_reason":null}],"usage":null}

        data: {"id":"chatcmpl-9x1","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"Paris, France\\"}"}}]},"logprobs":null,"finish_reason":null}],"usage":null}

        data: {"id":"chatcmpl-9x1","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_ABCDEFGHIJKLMNOPQRSTUVWX","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}],"usage":null}

        data: {"id":"chatcmpl-9x1","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\\"location\\":"}}]},"logprobs":null,"finish_reason":null}],"usage":null}

        data: {"id":"chatcmpl-9x1","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":" \\"Bogotá, Colombia\\"}"}}]},"logprobs":null,"finish_reason":null}],"usage":null}

        data: {"id":"chatcmpl-9x1","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}],"usage":null}

        data: {"id":"chatcmpl-9x1","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1","choices":[],"usage":{"prompt_tokens":82,"completion_tokens":40,"total_tokens":122,"prompt_tokens_details":{"cached_tokens":64}}}

        data: [DONE]


        """

    /// API reference, "Streaming" example: a role chunk, content chunks and the finish chunk.
    static let openAITextStream = """
        data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}

        data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}]}

        data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":"!"},"logprobs":null,"finish_reason":null}]}

        data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}

        data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}

        data: [DONE]


        """
}
