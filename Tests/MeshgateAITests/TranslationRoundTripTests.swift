import MeshgateInspection
import MeshgateJSON
import Testing
@testable import MeshgateAI

/// A request already in the shape the translators write keeps its meaning (and here its exact
/// text) through a translation and back.
@Suite struct TranslationRoundTripTests {
    static let openAIRequests = [
        #"""
        {"model":"m","messages":[{"role":"system","content":"Be brief."},
          {"role":"user","content":"What's the weather in Paris and Bogotá?"},
          {"role":"assistant","content":"Checking both.","tool_calls":[
            {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris, France\"}"}},
            {"id":"call_2","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Bogotá, Colombia\",\"units\":[\"c\"],\"days\":2.50}"}}]},
          {"role":"tool","tool_call_id":"call_1","content":"14°C"},
          {"role":"tool","tool_call_id":"call_2","content":[{"type":"text","text":"18°C"}]},
          {"role":"assistant","content":null,"tool_calls":[{"id":"call_3","type":"function","function":{"name":"noop","arguments":"{}"}}]},
          {"role":"tool","tool_call_id":"call_3","content":""}],
         "max_completion_tokens":300,"temperature":0.7,"top_p":0.9,"stop":["END"],
         "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather now","parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}},
                  {"type":"function","function":{"name":"noop","parameters":{"type":"object","properties":{}}}}],
         "tool_choice":{"type":"function","function":{"name":"get_weather"}},"parallel_tool_calls":false,
         "stream":true,"stream_options":{"include_usage":true},"user":"u1"}
        """#,
        #"""
        {"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"What is in these?"},
          {"type":"image_url","image_url":{"url":"https://example.com/a.png"}},
          {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},
          {"role":"assistant","content":"A cat and a dog."},{"role":"user","content":"Which is bigger?"}],
         "max_completion_tokens":4096}
        """#,
    ]

    static let anthropicRequests = [
        #"""
        {"model":"m","max_tokens":1024,"system":"Be brief.","messages":[
          {"role":"user","content":"Weather in SF and the time there?"},
          {"role":"assistant","content":[{"type":"text","text":"Checking."},
            {"type":"tool_use","id":"toolu_01","name":"get_weather","input":{"location":"San Francisco, CA"}},
            {"type":"tool_use","id":"toolu_02","name":"get_time","input":{"timezone":"America/Los_Angeles"}}]},
          {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01","content":"68°F"},
            {"type":"tool_result","tool_use_id":"toolu_02","content":[{"type":"text","text":"3:02 PM"}]}]}],
         "stop_sequences":["END"],"temperature":0.5,
         "tools":[{"name":"get_weather","description":"Weather now","input_schema":{"type":"object"}},{"name":"get_time","input_schema":{"type":"object"}}],
         "tool_choice":{"type":"auto","disable_parallel_tool_use":true},"stream":true,"metadata":{"user_id":"u"}}
        """#,
        #"""
        {"model":"m","max_tokens":5,"system":[{"type":"text","text":"One."},{"type":"text","text":"Two."}],"messages":[
          {"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/gif","data":"R0lGOD=="}},{"type":"text","text":"?"}]}]}
        """#,
    ]

    @Test(arguments: openAIRequests.map { (LLMFormat.openai, $0) } + anthropicRequests.map { (LLMFormat.anthropic, $0) })
    func throughTheOtherFormatAndBack(format: LLMFormat, request: String) throws {
        let other: LLMFormat = format == .openai ? .anthropic : .openai
        let translated = try RequestTranslator.translate(Array(request.utf8), from: format, to: other, model: "other-model")
        let back = try JSONParser.parse(RequestTranslator.translate(translated, from: other, to: format, model: "m"))
        #expect(back == (try translationJSON(request)))
    }

    /// A response through the other format and back keeps its content, stop reason and input total
    /// (OpenAI has no separate count for cache writes, so those come back as plain input).
    @Test func anthropicResponseThroughOpenAIAndBack() throws {
        let original = try translationJSON(TranslationFixtures.anthropicToolResponse)
        let openAI = try ResponseTranslator.translate(Array(TranslationFixtures.anthropicToolResponse.utf8), from: .anthropic, to: .openai, model: "gpt")
        let back = try JSONParser.parse(ResponseTranslator.translate(openAI, from: .openai, to: .anthropic, model: "claude-opus-4-1-20250805"))
        #expect(back["content"] == original["content"])
        #expect(back["stop_reason"] == original["stop_reason"])
        #expect(back["id"] == original["id"])
        let usage = back["usage"]
        #expect(usage?["input_tokens"]?.intValue == 2095 + 100)
        #expect(usage?["cache_read_input_tokens"]?.intValue == 2051)
        #expect(usage?["output_tokens"]?.intValue == 503)
    }
}
