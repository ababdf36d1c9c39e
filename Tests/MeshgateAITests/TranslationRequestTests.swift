import MeshgateInspection
import MeshgateJSON
import Testing
@testable import MeshgateAI

/// Parses JSON text in tests (a fixture that does not parse fails the test).
func translationJSON(_ text: String) throws -> JSONValue {
    try JSONParser.parse(text)
}

/// Translates a request and parses the result.
func translatedRequest(_ body: String, from: LLMFormat, to: LLMFormat, model: String = "target-model") throws -> JSONValue {
    try JSONParser.parse(RequestTranslator.translate(Array(body.utf8), from: from, to: to, model: model))
}

@Suite struct TranslationRequestTests {
    @Test func openAIToolRequestBecomesAnthropic() throws {
        let out = try translatedRequest(TranslationFixtures.openAIToolRequest, from: .openai, to: .anthropic, model: "claude-sonnet-4-5")
        let expected = try translationJSON(#"""
            {"model":"claude-sonnet-4-5","max_tokens":4096,
             "messages":[{"role":"user","content":"What is the weather like in Boston today?"}],
             "tools":[{"name":"get_current_weather","description":"Get the current weather in a given location",
               "input_schema":{"type":"object","properties":{"location":{"type":"string","description":"The city and state, e.g. San Francisco, CA"},
                 "unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["location"]}}],
             "tool_choice":{"type":"auto"}}
            """#)
        #expect(out == expected)
    }

    @Test func anthropicToolRoundTripBecomesOpenAI() throws {
        let out = try translatedRequest(TranslationFixtures.anthropicToolRoundTrip, from: .anthropic, to: .openai, model: "gpt-4.1")
        let expected = try translationJSON(#"""
            {"model":"gpt-4.1",
             "messages":[
               {"role":"user","content":"What is the weather like in San Francisco?"},
               {"role":"assistant","content":"I'll check the current weather in San Francisco for you.","tool_calls":[
                 {"id":"toolu_01A09q90qw90lq917835lq9","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"San Francisco, CA\",\"unit\":\"celsius\"}"}}]},
               {"role":"tool","tool_call_id":"toolu_01A09q90qw90lq917835lq9","content":"15 degrees"}],
             "max_completion_tokens":1024,
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Get the current weather in a given location",
               "parameters":{"type":"object","properties":{"location":{"type":"string","description":"The city and state, e.g. San Francisco, CA"}},"required":["location"]}}}]}
            """#)
        #expect(out == expected)
    }

    /// Consecutive tool messages answer parallel calls in one Anthropic user turn, in order.
    @Test func parallelToolResultsMergeIntoOneUserTurn() throws {
        let out = try translatedRequest(TranslationFixtures.openAIParallelToolConversation, from: .openai, to: .anthropic)
        let messages = try #require(out["messages"]?.arrayValue)
        #expect(messages.count == 3)
        let expectedAssistant = try translationJSON(#"""
            {"role":"assistant","content":[
              {"type":"tool_use","id":"call_12345xyz","name":"get_weather","input":{"location":"Paris, France"}},
              {"type":"tool_use","id":"call_67890abc","name":"get_weather","input":{"location":"Bogotá, Colombia"}}]}
            """#)
        #expect(messages[1] == expectedAssistant)
        let expectedResults = try translationJSON(#"""
            {"role":"user","content":[
              {"type":"tool_result","tool_use_id":"call_12345xyz","content":"14°C"},
              {"type":"tool_result","tool_use_id":"call_67890abc","content":"18°C"}]}
            """#)
        #expect(messages[2] == expectedResults)
        // `strict` is OpenAI's schema guarantee; the schema itself goes over unchanged.
        #expect(out["tools"]?.arrayValue?.first?["input_schema"]?["additionalProperties"] == .bool(false))
        #expect(out["tool_choice"] == nil)
    }

    @Test func systemPromptSamplingAndStreamFieldsKeepTheirValues() throws {
        let out = try translatedRequest(TranslationFixtures.openAISystemRequest, from: .openai, to: .anthropic)
        #expect(out["system"] == .string("You are a helpful assistant."))
        #expect(out["messages"] == .array([.object([("role", .string("user")), ("content", .string("Hello!"))])]))
        // Numbers keep their text: 0.7 stays 0.7, 1e-1 is not rewritten, 100 stays an integer.
        #expect(out["temperature"] == .number("0.7"))
        #expect(out["top_p"] == .number("1e-1"))
        #expect(out["max_tokens"] == .number("100"))
        #expect(out["stop_sequences"] == .array([.string("\n\n")]))
        #expect(out["stream"] == .bool(true))
        #expect(out["stream_options"] == nil)
        #expect(out["metadata"] == .object([("user_id", .string("user-1234"))]))
    }

    @Test func anthropicSystemBlocksImagesAndOptionsBecomeOpenAI() throws {
        let out = try translatedRequest(TranslationFixtures.anthropicImageRequest, from: .anthropic, to: .openai)
        let expected = try translationJSON(#"""
            {"model":"target-model","messages":[
              {"role":"system","content":[{"type":"text","text":"You are an AI assistant tasked with analyzing literary works."},
                                          {"type":"text","text":"<the entire contents of Pride and Prejudice>"}]},
              {"role":"user","content":[
                {"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/4AAQSkZJRg=="}},
                {"type":"image_url","image_url":{"url":"https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg"}},
                {"type":"text","text":"Describe this image."}]}],
             "max_completion_tokens":1024,"temperature":0.7,"stop":["\n\nHuman:"],
             "tools":[{"type":"function","function":{"name":"describe","parameters":{"type":"object"}}}],
             "tool_choice":"required","parallel_tool_calls":false,
             "stream":true,"stream_options":{"include_usage":true},
             "user":"13803d75-b4b5-4c3e-b2a2-6f21399b021b"}
            """#)
        #expect(out == expected)
    }

    @Test func openAIImagesBecomeURLAndBase64Sources() throws {
        let out = try translatedRequest(TranslationFixtures.openAIImageRequest, from: .openai, to: .anthropic)
        let expected = try translationJSON(#"""
            [{"type":"text","text":"What is in this image?"},
             {"type":"image","source":{"type":"url","url":"https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/Gfp-wisconsin-madison-the-nature-boardwalk.jpg/2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg"}},
             {"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/4AAQSkZJRg=="}}]
            """#)
        #expect(out["messages"]?.arrayValue?.first?["content"] == expected)
        #expect(out["max_tokens"] == .number("300"))
    }

    @Test(arguments: [
        (#""auto""#, #"{"type":"auto"}"#),
        (#""none""#, #"{"type":"none"}"#),
        (#""required""#, #"{"type":"any"}"#),
        (#"{"type":"function","function":{"name":"get_weather"}}"#, #"{"type":"tool","name":"get_weather"}"#),
    ])
    func toolChoiceMapsBothWays(openAI: String, anthropic: String) throws {
        let tools = #""tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]"#
        let forward = try translatedRequest(#"{"model":"m","messages":[],\#(tools),"tool_choice":\#(openAI)}"#, from: .openai, to: .anthropic)
        #expect(forward["tool_choice"] == (try translationJSON(anthropic)))
        let anthropicTools = #""tools":[{"name":"get_weather","input_schema":{"type":"object"}}]"#
        let backward = try translatedRequest(#"{"model":"m","max_tokens":5,"messages":[],\#(anthropicTools),"tool_choice":\#(anthropic)}"#, from: .anthropic, to: .openai)
        #expect(backward["tool_choice"] == (try translationJSON(openAI)))
    }

    @Test func parallelToolCallsFalseDisablesParallelToolUse() throws {
        let out = try translatedRequest(#"{"model":"m","messages":[],"parallel_tool_calls":false,"tool_choice":"required"}"#, from: .openai, to: .anthropic)
        #expect(out["tool_choice"] == (try translationJSON(#"{"type":"any","disable_parallel_tool_use":true}"#)))
        let bare = try translatedRequest(#"{"model":"m","messages":[],"parallel_tool_calls":false}"#, from: .openai, to: .anthropic)
        #expect(bare["tool_choice"] == (try translationJSON(#"{"type":"auto","disable_parallel_tool_use":true}"#)))
    }

    @Test func maxCompletionTokensWinsAndNullMeansNotGiven() throws {
        let out = try translatedRequest(#"{"model":"m","messages":[],"max_tokens":10,"max_completion_tokens":20,"n":null,"logprobs":null,"temperature":null}"#, from: .openai, to: .anthropic)
        #expect(out["max_tokens"] == .number("20"))
        #expect(out["temperature"] == nil)
    }

    @Test func toolErrorResultKeepsItsMeaning() throws {
        let body = #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"city not found","is_error":true},{"type":"text","text":"try again"}]}]}"#
        let out = try translatedRequest(body, from: .anthropic, to: .openai)
        let expected = try translationJSON(#"""
            [{"role":"tool","tool_call_id":"t1","content":"Error: city not found"},{"role":"user","content":[{"type":"text","text":"try again"}]}]
            """#)
        #expect(out["messages"] == expected)
    }

    @Test(arguments: LLMFormat.allCases)
    func sameFormatOnlyReplacesTheModel(format: LLMFormat) throws {
        let body = #"{"stream":true,"model":"alias","temperature":0.70,"messages":[{"role":"user","content":"hi"}],"logprobs":true}"#
        let out = try RequestTranslator.translate(Array(body.utf8), from: format, to: format, model: "concrete")
        #expect(String(decoding: out, as: UTF8.self) == #"{"stream":true,"model":"concrete","temperature":0.70,"messages":[{"role":"user","content":"hi"}],"logprobs":true}"#)
    }

    @Test func bodyThatIsNotAnObjectIsRefused() {
        #expect(throws: TranslationError.self) { try RequestTranslator.translate(Array("[1]".utf8), from: .openai, to: .anthropic, model: "m") }
        #expect(throws: TranslationError.self) { try RequestTranslator.translate(Array("{".utf8), from: .anthropic, to: .openai, model: "m") }
    }

    @Test func toolArgumentsThatAreNotJSONNameTheField() {
        let body = #"{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{oops"}}]}]}"#
        #expect {
            try RequestTranslator.translate(Array(body.utf8), from: .openai, to: .anthropic, model: "m")
        } throws: { error in
            (error as? TranslationError)?.field == "messages[0].tool_calls[0].function.arguments"
        }
    }
}
