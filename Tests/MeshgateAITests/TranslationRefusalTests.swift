import Testing
@testable import MeshgateAI

/// Every field the other format cannot express is refused with an error naming it, never dropped.
@Suite struct TranslationRefusalTests {
    /// Whether translating `body` fails naming `field`, in a message that names the field and the target.
    private static func refuses(_ body: String, from: LLMFormat, to: LLMFormat, naming field: String) -> Bool {
        do {
            _ = try RequestTranslator.translate(Array(body.utf8), from: from, to: to, model: "target")
            return false
        } catch {
            return error.field == field && error.description.contains("'\(field)'") && error.description.contains(to.rawValue)
        }
    }

    private static let openAIBase = #"{"model":"gpt-4.1","messages":[{"role":"user","content":"hi"}]"#
    private static let anthropicBase = #"{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":"hi"}]"#

    @Test(arguments: [
        (#""n":2"#, "n"),
        (#""logprobs":true"#, "logprobs"),
        (#""top_logprobs":3"#, "top_logprobs"),
        (#""response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{}}}"#, "response_format"),
        (#""response_format":{"type":"json_object"}"#, "response_format"),
        (#""audio":{"voice":"alloy","format":"wav"}"#, "audio"),
        (#""modalities":["text","audio"]"#, "modalities"),
        (#""seed":42"#, "seed"),
        (#""frequency_penalty":0.5"#, "frequency_penalty"),
        (#""presence_penalty":-1"#, "presence_penalty"),
        (#""logit_bias":{"50256":-100}"#, "logit_bias"),
        (#""reasoning_effort":"high""#, "reasoning_effort"),
        (#""functions":[{"name":"f"}]"#, "functions"),
        (#""prediction":{"type":"content","content":"x"}"#, "prediction"),
        (#""web_search_options":{}"#, "web_search_options"),
        (#""verbosity":"low""#, "verbosity"),
        (#""temperature":1.5"#, "temperature"),
        (#""tools":[{"type":"custom","custom":{"name":"grammar"}}]"#, "tools[0].type"),
        (#""tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[]}}"#, "tool_choice"),
    ])
    func openAIFieldRefusedForAnthropic(field: String, named: String) {
        let body = Self.openAIBase + "," + field + "}"
        #expect(Self.refuses(body, from: .openai, to: .anthropic, naming: named))
    }

    @Test(arguments: [
        (#"{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AA==","format":"wav"}}]}"#, "messages[0].content[0].type"),
        (#"{"role":"user","content":[{"type":"file","file":{"file_id":"file-1"}}]}"#, "messages[0].content[0].type"),
        (#"{"role":"function","name":"f","content":"x"}"#, "messages[0].role"),
        (#"{"role":"assistant","content":null,"audio":{"id":"audio_1"}}"#, "messages[0].audio"),
        (#"{"role":"assistant","content":null,"function_call":{"name":"f","arguments":"{}"}}"#, "messages[0].function_call"),
    ])
    func openAIMessagePartRefusedForAnthropic(message: String, named: String) {
        let body = #"{"model":"gpt-4.1","messages":["# + message + "]}"
        #expect(Self.refuses(body, from: .openai, to: .anthropic, naming: named))
    }

    @Test(arguments: [
        (#""thinking":{"type":"enabled","budget_tokens":2048}"#, "thinking"),
        (#""top_k":5"#, "top_k"),
        (#""mcp_servers":[{"type":"url","url":"https://mcp.example.com/sse","name":"example"}]"#, "mcp_servers"),
        (#""container":"container_1""#, "container"),
        (#""service_tier":"standard_only""#, "service_tier"),
        (#""metadata":{"user_id":"u","tenant":"t"}"#, "metadata.tenant"),
        (#""tools":[{"type":"web_search_20250305","name":"web_search","max_uses":5}]"#, "tools[0].type"),
        (#""tool_choice":{"type":"auto"},"context_management":{}"#, "context_management"),
    ])
    func anthropicFieldRefusedForOpenAI(field: String, named: String) {
        let body = Self.anthropicBase + "," + field + "}"
        #expect(Self.refuses(body, from: .anthropic, to: .openai, naming: named))
    }

    @Test(arguments: [
        (#"{"role":"user","content":[{"type":"document","source":{"type":"url","url":"https://example.com/a.pdf"}}]}"#, "messages[0].content[0].type"),
        (#"{"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"sig"}]}"#, "messages[0].content[0].type"),
        (#"{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"image","source":{"type":"url","url":"https://example.com/a.png"}}]}]}"#, "messages[0].content[0].content[0].type"),
        (#"{"role":"user","content":[{"type":"image","source":{"type":"file","file_id":"file_1"}}]}"#, "messages[0].content[0].source.type"),
    ])
    func anthropicBlockRefusedForOpenAI(message: String, named: String) {
        let body = #"{"model":"claude","max_tokens":10,"messages":["# + message + "]}"
        #expect(Self.refuses(body, from: .anthropic, to: .openai, naming: named))
    }

    /// Defaults of otherwise unsupported fields ask for nothing and pass.
    @Test func neutralValuesAreAccepted() throws {
        let body = Self.openAIBase + #","n":1,"logprobs":false,"frequency_penalty":0,"presence_penalty":0.0,"response_format":{"type":"text"},"modalities":["text"],"logit_bias":{},"store":false,"stream_options":{"include_usage":true}}"#
        _ = try RequestTranslator.translate(Array(body.utf8), from: .openai, to: .anthropic, model: "claude")
        let anthropic = Self.anthropicBase + #","thinking":{"type":"disabled"},"service_tier":"auto"}"#
        _ = try RequestTranslator.translate(Array(anthropic.utf8), from: .anthropic, to: .openai, model: "gpt-4.1")
    }
}
