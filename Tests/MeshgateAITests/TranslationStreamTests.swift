import Foundation
import MeshgateInspection
import MeshgateJSON
import NIOCore
import Testing
@testable import MeshgateAI

/// Reads a translated stream back into events (`[DONE]` kept as a string).
private func events(_ bytes: ByteBuffer) -> [(name: String?, json: JSONValue)] {
    var parser = SSEParser()
    var collector = SSEEventCollector()
    parser.feed(bytes.readableBytesView, handler: &collector)
    return collector.takeEvents().map { event in
        let json = (try? JSONParser.parse(event.data)) ?? .string(String(decoding: event.data, as: UTF8.self))
        return (event.name, json)
    }
}

/// Runs a whole stream through a translator, fed in the given pieces, then `finish()`.
private func translateStream(_ text: String, from: LLMFormat, to: LLMFormat, splits: [Int] = []) -> ByteBuffer {
    var translator = StreamTranslator(from: from, to: to, model: "asked-model", created: 1_700_000_000)
    let bytes = Array(text.utf8)
    var out = ByteBuffer()
    var start = 0
    for end in splits + [bytes.count] where end >= start {
        var piece = translator.translate(ByteBuffer(bytes: bytes[start..<end]))
        out.writeBuffer(&piece)
        start = end
    }
    var tail = translator.finish()
    out.writeBuffer(&tail)
    return out
}

@Suite struct TranslationStreamTests {
    @Test func anthropicToolStreamBecomesOpenAIChunks() throws {
        let out = events(translateStream(TranslationFixtures.anthropicToolStream, from: .anthropic, to: .openai))
        #expect(out.allSatisfy { $0.name == nil })
        #expect(out.last?.json == .string("[DONE]"))
        let chunks = out.dropLast().map(\.json)
        #expect(chunks.allSatisfy { $0["object"] == .string("chat.completion.chunk") && $0["model"] == .string("asked-model") })
        #expect(chunks.allSatisfy { $0["id"] == .string("chatcmpl-014p7gG3wDgGV9EUtLvnow3U") })
        let deltas = chunks.compactMap { $0["choices"]?.arrayValue?.first?["delta"] }
        #expect(deltas.first?["role"] == .string("assistant"))
        let text = deltas.compactMap { $0["content"]?.stringValue }.joined()
        #expect(text == "Okay, let me check the weather for San Francisco, CA:")

        let calls = deltas.compactMap { $0["tool_calls"]?.arrayValue?.first }
        let opener = try #require(calls.first)
        #expect(opener == (try translationJSON(#"{"index":0,"id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","type":"function","function":{"name":"get_weather","arguments":""}}"#)))
        // Every fragment is passed on by itself and in order; together they are the tool's input.
        let fragments = calls.dropFirst().compactMap { $0["function"]?["arguments"]?.stringValue }
        #expect(fragments == TranslationFixtures.anthropicToolStreamFragments)
        #expect(calls.dropFirst().allSatisfy { $0["index"] == .int(0) })
        let arguments = try translationJSON(fragments.joined())
        #expect(arguments == (try translationJSON(#"{"location": "San Francisco, CA", "unit": "fahrenheit"}"#)))

        let finishes = chunks.compactMap { $0["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue }
        #expect(finishes == ["tool_calls"])
        let usage = try #require(chunks.last?["usage"])
        #expect(chunks.last?["choices"] == .array([]))
        #expect(usage["prompt_tokens"] == .int(502))
        #expect(usage["completion_tokens"] == .int(89))
        #expect(usage["prompt_tokens_details"]?["cached_tokens"] == .int(30))
    }

    @Test func openAIParallelToolStreamBecomesAnthropicEvents() throws {
        let out = events(translateStream(TranslationFixtures.openAIParallelToolStream, from: .openai, to: .anthropic))
        #expect(out.map { $0.name ?? "" } == [
            "message_start",
            "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
            "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
            "message_delta", "message_stop",
        ])
        #expect(out.allSatisfy { $0.json["type"]?.stringValue == $0.name })
        let start = out[0].json["message"]
        #expect(start?["id"] == .string("msg_9x1"))
        #expect(start?["model"] == .string("asked-model"))
        #expect(out[1].json["content_block"] == (try translationJSON(#"{"type":"tool_use","id":"call_DdmO9pD3xa9XTPNJ32zg2hcA","name":"get_weather","input":{}}"#)))
        #expect(out[5].json["index"] == .int(1))
        #expect(out[5].json["content_block"]?["id"] == .string("call_ABCDEFGHIJKLMNOPQRSTUVWX"))
        let first = out[2...3].compactMap { $0.json["delta"]?["partial_json"]?.stringValue }
        let second = out[6...7].compactMap { $0.json["delta"]?["partial_json"]?.stringValue }
        #expect(first == [#"{"location":""#, #"Paris, France"}"#])
        #expect(second == [#"{"location":"#, #" "Bogotá, Colombia"}"#])
        #expect(out[6...7].allSatisfy { $0.json["index"] == .int(1) && $0.json["delta"]?["type"] == .string("input_json_delta") })
        let delta = out[9].json
        #expect(delta["delta"]?["stop_reason"] == .string("tool_use"))
        // The real input count arrives with the usage chunk and is reported here.
        #expect(delta["usage"] == (try translationJSON(#"{"input_tokens":18,"cache_creation_input_tokens":0,"cache_read_input_tokens":64,"output_tokens":40}"#)))
    }

    @Test func openAITextStreamBecomesAnthropicTextBlock() throws {
        let out = events(translateStream(TranslationFixtures.openAITextStream, from: .openai, to: .anthropic))
        #expect(out.map { $0.name ?? "" } == [
            "message_start", "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
            "message_delta", "message_stop",
        ])
        #expect(out[1].json["content_block"] == (try translationJSON(#"{"type":"text","text":""}"#)))
        #expect(out[2...3].compactMap { $0.json["delta"]?["text"]?.stringValue } == ["Hello", "!"])
        #expect(out[5].json["delta"]?["stop_reason"] == .string("end_turn"))
        #expect(out[5].json["usage"]?["input_tokens"] == .int(9))
    }

    /// Split at every byte boundary (and byte by byte), the output is the same as fed whole.
    @Test(arguments: [(LLMFormat.anthropic, LLMFormat.openai), (.openai, .anthropic)])
    func splitAnywhereGivesTheSameStream(from: LLMFormat, to: LLMFormat) {
        let text = from == .anthropic ? TranslationFixtures.anthropicToolStream : TranslationFixtures.openAIParallelToolStream
        let whole = translateStream(text, from: from, to: to)
        let count = text.utf8.count
        for split in 1..<count {
            #expect(translateStream(text, from: from, to: to, splits: [split]) == whole, "split at \(split)")
        }
        #expect(translateStream(text, from: from, to: to, splits: Array(1..<count)) == whole)
    }

    /// What the caller's own meter reads from the translated stream is what the provider reported.
    @Test func translatedStreamsMeterCorrectly() {
        var openAIMeter = UsageMeter(format: .openai, streaming: true)
        openAIMeter.consume(translateStream(TranslationFixtures.anthropicToolStream, from: .anthropic, to: .openai))
        #expect(openAIMeter.finish() == TokenUsage(input: 472, output: 89, cacheRead: 30))
        var anthropicMeter = UsageMeter(format: .anthropic, streaming: true)
        anthropicMeter.consume(translateStream(TranslationFixtures.openAIParallelToolStream, from: .openai, to: .anthropic))
        #expect(anthropicMeter.finish() == TokenUsage(input: 18, output: 40, cacheRead: 64))
    }

    @Test func anthropicStreamCutShortStillEndsWithDone() {
        let cut = TranslationFixtures.anthropicToolStream.components(separatedBy: "event: message_stop")[0]
        let out = events(translateStream(cut, from: .anthropic, to: .openai))
        #expect(out.last?.json == .string("[DONE]"))
        #expect(out.dropLast().last?.json["usage"]?["completion_tokens"] == .int(89))
        #expect(out.filter { $0.json == .string("[DONE]") }.count == 1)
    }

    @Test func openAIStreamWithoutDoneStillStopsTheMessage() {
        let cut = TranslationFixtures.openAITextStream.components(separatedBy: "data: [DONE]")[0]
        let out = events(translateStream(cut, from: .openai, to: .anthropic))
        #expect(out.suffix(2).map { $0.name ?? "" } == ["message_delta", "message_stop"])
        #expect(out.filter { $0.name == "message_stop" }.count == 1)
    }

    @Test func providerErrorEventsReachTheCallerInItsFormat() {
        let anthropic = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"
        let toOpenAI = events(translateStream(anthropic, from: .anthropic, to: .openai))
        #expect(toOpenAI.count == 1)
        #expect(toOpenAI.first?.json["error"]?["message"] == .string("Overloaded"))
        let openAI = "data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\"}}\n\n"
        let toAnthropic = events(translateStream(openAI, from: .openai, to: .anthropic))
        #expect(toAnthropic.map { $0.name ?? "" } == ["error"])
        #expect(toAnthropic.first?.json["error"]?["message"] == .string("The server had an error"))
    }

    @Test(arguments: LLMFormat.allCases)
    func sameFormatPassesBytesThrough(format: LLMFormat) {
        var translator = StreamTranslator(from: format, to: format, model: "m")
        let chunk = ByteBuffer(string: "data: {\"partial")
        #expect(translator.translate(chunk) == chunk)
        #expect(translator.finish().readableBytes == 0)
    }
}
