import MeshgateInspection
import MeshgateJSON
import NIOCore
import Testing
@testable import MeshgateAI

/// What the translators do with provider output they cannot read, and with large answers.
@Suite struct TranslationScaleTests {
    @Test(arguments: [(LLMFormat.anthropic, LLMFormat.openai), (.openai, .anthropic)])
    func anUnreadableStreamEventEndsTheStreamWithAnError(from: LLMFormat, to: LLMFormat) throws {
        var translator = StreamTranslator(from: from, to: to, model: "m")
        #expect(translator.failure == nil)
        let out = translator.translate(ByteBuffer(string: "data: {this is not json\n\ndata: [DONE]\n\n"))
        let text = String(buffer: out)
        #expect(translator.failure != nil)
        #expect(text.contains("error") && text.contains("unreadable"), "\(text)")
        #expect(!text.contains("[DONE]"), "nothing follows the error event: \(text)")
        #expect(String(buffer: translator.finish()).isEmpty)
    }

    @Test(arguments: [(LLMFormat.anthropic, LLMFormat.openai), (.openai, .anthropic)])
    func anUnreadableWholeAnswerThrows(from: LLMFormat, to: LLMFormat) {
        #expect(throws: TranslationError.self) {
            try ResponseTranslator.translate(Array(#"{"id": "broken", "choices": [{"message": "#.utf8), from: from, to: to, model: "m")
        }
    }

    @Test func aLargeAnswerTranslatesWhole() throws {
        let text = String(repeating: "tok ", count: 1 << 20)
        let body = Array(#"{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"text","text":"\#(text)"}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}"#.utf8)
        let out = try JSONParser.parse(ResponseTranslator.translate(body, from: .anthropic, to: .openai, model: "m"), limits: JSONLimits(maxDepth: 16, maxBytes: 8 << 20, maxValues: 1000))
        #expect(out["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue?.utf8.count == text.utf8.count)
    }
}
