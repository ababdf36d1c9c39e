import NIOCore
import Testing
@testable import MeshgateAI

@Suite struct UsageMeterTests {
    private static func meter(_ text: String, format: LLMFormat, streaming: Bool, chunk: Int = .max,
                              estimate: Int = 0) -> (UsageMeter, TokenUsage, [StreamUsageEvent]) {
        var meter = UsageMeter(format: format, streaming: streaming, estimatedInputTokens: estimate)
        var events: [StreamUsageEvent] = []
        let bytes = Array(text.utf8)
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + min(chunk, bytes.count))
            bytes[start..<end].withUnsafeBytes { meter.consume($0) { events.append($0) } }
            start = end
        }
        let usage = meter.finish()
        return (meter, usage, events)
    }

    @Test(arguments: [
        (ProviderFixtures.openAIChat, LLMFormat.openai, TokenUsage(input: 11, output: 10, cacheRead: 8), "gpt-4.1-2025-04-14"),
        (ProviderFixtures.openAIResponses, .openai, TokenUsage(input: 36, output: 87), "gpt-4.1-2025-04-14"),
        (ProviderFixtures.openAIEmbeddings, .openai, TokenUsage(input: 5), "text-embedding-3-small"),
        (ProviderFixtures.anthropicMessage, .anthropic,
         TokenUsage(input: 2095, output: 503, cacheRead: 1800, cacheCreation: 120), "claude-sonnet-4-20250514"),
    ])
    func nonStreamedUsage(body: String, format: LLMFormat, expected: TokenUsage, model: String) {
        for chunk in [Int.max, 7, 1] {
            let (meter, usage, events) = Self.meter(body, format: format, streaming: false, chunk: chunk)
            #expect(usage == expected, "chunk size \(chunk)")
            #expect(meter.model == model)
            #expect(meter.complete)
            #expect(events.isEmpty)
        }
    }

    @Test func totalsFollowTheContract() {
        let anthropic = TokenUsage(input: 2095, output: 503, cacheRead: 1800, cacheCreation: 120)
        #expect(anthropic.totalInput == 4015)
        #expect(anthropic.total == 4518)
        #expect(anthropic.byKind.map(\.tokens).reduce(0, +) == anthropic.total)
    }

    @Test func openAIChatStream() {
        let (meter, usage, events) = Self.meter(ProviderFixtures.openAIChatStream, format: .openai, streaming: true)
        #expect(usage == TokenUsage(input: 5, output: 12, cacheRead: 4))
        #expect(meter.model == "gpt-4o-mini")
        #expect(events.count == 7)
        #expect(events.filter(\.isFinalUsage).count == 1)
        #expect(events.last?.isDone == true)
        // "Hello" + " there, how are you?" + the raw tool-call arguments {\"city\":\"Paris\"}
        #expect(meter.outputTextBytes == 5 + 20 + 20)
    }

    @Test func anthropicStreamCombinesStartAndDelta() {
        let (meter, usage, events) = Self.meter(ProviderFixtures.anthropicStream, format: .anthropic, streaming: true)
        #expect(usage == TokenUsage(input: 25, output: 89, cacheRead: 4000, cacheCreation: 300))
        #expect(meter.model == "claude-opus-4-20250514")
        #expect(events.map(\.name) == ["message_start", "content_block_start", "ping", "content_block_delta",
                                        "content_block_delta", "content_block_stop", "content_block_start",
                                        "content_block_delta", "content_block_stop", "message_delta", "message_stop"])
        #expect(events[0].usage.inputTokens == 25)
        #expect(!events[0].isFinalUsage)
        #expect(events[9].isFinalUsage)
        #expect(meter.outputTextBytes == 5 + 27 + 24)
    }

    @Test func responsesStream() {
        let (meter, usage, _) = Self.meter(ProviderFixtures.openAIResponsesStream, format: .openai, streaming: true)
        #expect(usage == TokenUsage(input: 32, output: 11, cacheRead: 5))
        #expect(meter.outputTextBytes == 2 + 35)  // the completed response's copy of the text is not counted again
    }

    /// Every stream, split into two chunks at every byte boundary, with LF and CRLF line ends,
    /// reports the same events as the stream fed whole.
    @Test(arguments: [
        (ProviderFixtures.openAIChatStream, LLMFormat.openai),
        (ProviderFixtures.anthropicStream, .anthropic),
        (ProviderFixtures.openAIResponsesStream, .openai),
    ])
    func splitAnywhere(stream: String, format: LLMFormat) {
        for text in [stream, stream.replacingLineEnds("\r\n"), stream.replacingLineEnds("\r")] {
            let (whole, wholeUsage, wholeEvents) = Self.meter(text, format: format, streaming: true)
            #expect(!wholeUsage.estimated)
            let bytes = Array(text.utf8)
            for split in 0...bytes.count {
                var meter = UsageMeter(format: format, streaming: true)
                var events: [StreamUsageEvent] = []
                bytes[..<split].withUnsafeBytes { meter.consume($0) { events.append($0) } }
                bytes[split...].withUnsafeBytes { meter.consume($0) { events.append($0) } }
                let usage = meter.finish()
                guard usage == wholeUsage, events == wholeEvents, meter.outputTextBytes == whole.outputTextBytes else {
                    Issue.record("split at byte \(split) of \(bytes.count) changed the result: \(usage) vs \(wholeUsage)")
                    return
                }
            }
            // And one byte at a time.
            let (_, dripped, drippedEvents) = Self.meter(text, format: format, streaming: true, chunk: 1)
            #expect(dripped == wholeUsage)
            #expect(drippedEvents == wholeEvents)
        }
    }

    @Test func cancelledStreamIsEstimated() {
        // OpenAI: cut after the second content chunk, before any usage.
        let stream = ProviderFixtures.openAIChatStream
        let cut = stream.range(of: "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\",\"system_fingerprint\":\"fp_44709d6fcb\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\"")!.lowerBound
        let (_, usage, _) = Self.meter(String(stream[..<cut]), format: .openai, streaming: true, estimate: 40)
        #expect(usage == TokenUsage(input: 40, output: 7, estimated: true))  // ceil(25 / 4)

        // Anthropic: input arrived in message_start, output only as text.
        let anthropic = ProviderFixtures.anthropicStream
        let end = anthropic.range(of: "event: content_block_stop")!.lowerBound
        let (_, partial, _) = Self.meter(String(anthropic[..<end]), format: .anthropic, streaming: true, estimate: 999)
        #expect(partial == TokenUsage(input: 25, output: 8, cacheRead: 4000, cacheCreation: 300, estimated: true))
    }

    @Test func errorsAreFlagged() {
        let (meter, _, events) = Self.meter("event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n",
                                            format: .anthropic, streaming: true)
        #expect(meter.sawError)
        #expect(events.first?.isError == true)
        let (plain, usage, _) = Self.meter(#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#,
                                           format: .openai, streaming: false, estimate: 12)
        #expect(plain.sawError)
        #expect(!plain.complete)
        #expect(usage.estimated)
    }

    /// Deep nesting, unbalanced brackets and random bytes neither crash the scanner nor hide a
    /// usage report that follows them at the right depth.
    @Test func hostileBodiesAreHarmless() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let body = #"{"junk":"# + deep + #","usage":{"prompt_tokens":3,"completion_tokens":4}}"#
        let (_, usage, _) = Self.meter(body, format: .openai, streaming: false, chunk: 4096)
        #expect(usage == TokenUsage(input: 3, output: 4))

        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let noise = (0..<2000).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var meter = UsageMeter(format: .anthropic, streaming: true, estimatedInputTokens: 5)
            noise.withUnsafeBytes { meter.consume($0) }
            let cut = meter.finish()
            #expect(cut.estimated && cut.input == 5)  // no usage can hide in noise; the estimate stands
        }
        let facts = LLMRequestFacts(body: Array(#"{"model":"\u00e9\"x","messages":[{"content":"a\\"}]}"#.utf8))
        #expect(facts.model == "?\"x")
        #expect(facts.textBytes == 3)
    }
}

extension String {
    func replacingLineEnds(_ end: String) -> String {
        split(separator: "\n", omittingEmptySubsequences: false).joined(separator: end)
    }
}
