import NIOCore
import Testing
@testable import MeshgateAI

@Suite struct LLMRequestFactsTests {
    @Test func readsModelStreamAndCaps() {
        let body = #"{"model":"gpt-4o","stream":true,"max_tokens":50,"max_completion_tokens":300,"messages":[{"role":"user","content":"Say hello to the world"}]}"#
        let facts = LLMRequestFacts(body: Array(body.utf8))
        #expect(facts.model == "gpt-4o")
        #expect(facts.stream)
        #expect(facts.maxOutputTokens == 300)  // max_completion_tokens wins over the legacy max_tokens
        #expect(facts.textBytes == "user".utf8.count + "Say hello to the world".utf8.count)
        #expect(facts.estimatedInputTokens == 7)  // ceil(26 / 4)
        #expect(facts.reservationTokens(endpoint: .chatCompletions, defaultMaxOutputTokens: 4096) == 307)
        #expect(facts.reservationTokens(endpoint: .embeddings, defaultMaxOutputTokens: 4096) == 7)
    }

    @Test func anthropicAndResponsesFields() {
        let anthropic = LLMRequestFacts(body: ByteBuffer(string: #"{"model":"claude-sonnet-4","max_tokens":1024,"system":"Be brief.","messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgoAAAANSUhEUgAA"}},{"type":"text","text":"What is this?"}]}]}"#))
        #expect(anthropic.model == "claude-sonnet-4")
        #expect(!anthropic.stream)
        #expect(anthropic.maxOutputTokens == 1024)
        #expect(anthropic.mediaParts == 1)
        #expect(anthropic.estimatedInputTokens > LLMRequestFacts.mediaPartTokens)
        #expect(anthropic.estimatedInputTokens < LLMRequestFacts.mediaPartTokens + 20)  // the base64 is not counted as text

        let responses = LLMRequestFacts(body: Array(#"{"model":"gpt-4.1","input":"Tell me a story","max_output_tokens":64,"stream":false}"#.utf8))
        #expect(responses.maxOutputTokens == 64)
        #expect(responses.textBytes == 15)
        #expect(LLMRequestFacts(body: Array("not json".utf8)) == LLMRequestFacts())
        #expect(LLMRequestFacts(body: Array(#"{"model":"m","stream":"yes"}"#.utf8)).stream == false)
    }

    @Test func escapedKeysAreStillRecognised() {
        let facts = LLMRequestFacts(body: Array(#"{"mo\u0064el":"gpt-4o","str\u0065am":true}"#.utf8))
        #expect(facts.model == "gpt-4o")
        #expect(facts.stream)
    }

    @Test(arguments: [
        // Absent: appended after the last member, whitespace kept as it was.
        (#"{"model":"gpt-4o","stream":true,"messages":[]}"#,
         #"{"model":"gpt-4o","stream":true,"messages":[],"stream_options":{"include_usage":true}}"#),
        ("{\n  \"stream\": true,\n  \"messages\": [ {\"role\":\"user\"} ]\n}\n",
         "{\n  \"stream\": true,\n  \"messages\": [ {\"role\":\"user\"} ],\"stream_options\":{\"include_usage\":true}\n}\n"),
        // An existing stream_options object gains the member.
        (#"{"stream":true,"stream_options":{}}"#, #"{"stream":true,"stream_options":{"include_usage":true}}"#),
        (#"{"stream":true,"stream_options":{"x":1} ,"n":1}"#, #"{"stream":true,"stream_options":{"x":1,"include_usage":true} ,"n":1}"#),
        // Explicitly off: turned on in place.
        (#"{"stream":true,"stream_options":{"include_usage":false}}"#, #"{"stream":true,"stream_options":{"include_usage":true}}"#),
        (#"{"stream_options":{"include_usage": null},"stream":true}"#, #"{"stream_options":{"include_usage": true},"stream":true}"#),
        // A non-object stream_options is replaced.
        (#"{"stream":true,"stream_options":null}"#, #"{"stream":true,"stream_options":{"include_usage":true}}"#),
    ])
    func injectsIncludeUsage(body: String, expected: String) throws {
        let edit = try #require(LLMRequestFacts.includeUsageEdit(body: Array(body.utf8), endpoint: .chatCompletions))
        let edited = edit.applied(to: Array(body.utf8))
        #expect(String(decoding: edited, as: UTF8.self) == expected)
        #expect(edited.count == body.utf8.count + edit.lengthChange)
        #expect(String(buffer: edit.applied(to: ByteBuffer(string: body))) == expected)
        // Applying again changes nothing: the result already asks for usage.
        #expect(LLMRequestFacts.includeUsageEdit(body: edited, endpoint: .chatCompletions) == nil)
    }

    @Test(arguments: [
        (#"{"stream":true,"stream_options":{"include_usage":true}}"#, LLMEndpoint.chatCompletions),
        (#"{"stream":false,"messages":[]}"#, .chatCompletions),
        (#"{"messages":[]}"#, .chatCompletions),
        (#"{"stream":true,"input":"hi"}"#, .responses),       // the Responses API always reports usage
        (#"{"stream":true,"messages":[]}"#, .messages),      // Anthropic always reports usage
        (#"[{"stream":true}]"#, .chatCompletions),            // not an object
        (#"{"stream":true,"messages":["#, .chatCompletions),  // truncated
    ])
    func leavesOtherBodiesAlone(body: String, endpoint: LLMEndpoint) {
        #expect(LLMRequestFacts.includeUsageEdit(body: Array(body.utf8), endpoint: endpoint) == nil)
    }

    @Test func completionsEndpointGetsUsageToo() throws {
        let body = #"{"model":"gpt-3.5-turbo-instruct","prompt":"Say this is a test","stream":true}"#
        let edit = try #require(LLMRequestFacts.includeUsageEdit(body: Array(body.utf8), endpoint: .completions))
        #expect(String(decoding: edit.applied(to: Array(body.utf8)), as: UTF8.self)
                == #"{"model":"gpt-3.5-turbo-instruct","prompt":"Say this is a test","stream":true,"stream_options":{"include_usage":true}}"#)
    }
}
