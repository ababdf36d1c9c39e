import MeshgateInspection
import MeshgateJSON
import NIOCore

/// Translates a provider's server-sent event stream into the caller's format, event by event.
///
/// Feed it the provider's body bytes split anywhere (even mid-line); it returns complete events in
/// the caller's format as soon as the provider's event is complete, holding only the bytes of an
/// event still in flight. Tool-call argument fragments are passed on one by one, in order.
///
/// OpenAI streams it writes always end with a usage chunk (`"choices":[]` plus `usage`, which the
/// provider-side request asked for) and `data: [DONE]`; run `UsageChunkFilter` after it when the
/// caller did not ask for usage. Anthropic streams it writes report `input_tokens: 0` in
/// `message_start` (an OpenAI stream only tells the usage at its end, and holding the whole stream
/// back would cost the caller its first token) and the real input, cache and output counts in
/// `message_delta`'s `usage`, which Anthropic's API and SDKs accept there.
public struct StreamTranslator: Sendable {
    // At most one is set; none means the formats match and bytes pass through. Optionals rather
    // than an enum with payloads so the state is mutated in place, never copied per event.
    private var toOpenAI: AnthropicToOpenAIStream?
    private var toAnthropic: OpenAIToAnthropicStream?
    private var parser = SSEParser()
    private var collector = SSEEventCollector()

    /// Creates a translator for one response stream; `model` is what the caller asked for.
    public init(from: LLMFormat, to: LLMFormat, model: String) {
        self.init(from: from, to: to, model: model, created: ResponseTranslator.now())
    }

    /// As `init(from:to:model:)`, with OpenAI's `created` timestamp given (for tests).
    init(from: LLMFormat, to: LLMFormat, model: String, created: Int) {
        switch (from, to) {
        case (.anthropic, .openai): toOpenAI = AnthropicToOpenAIStream(model: model, created: created)
        case (.openai, .anthropic): toAnthropic = OpenAIToAnthropicStream(model: model)
        default: break
        }
    }

    /// Why the stream cannot go on, once it failed: an event that was not the provider's JSON, or
    /// the provider's own error event. The output then ended with an error event in the caller's
    /// format (OpenAI `data: {"error":…}`, Anthropic `event: error`) and nothing follows it; the
    /// caller's response should end there.
    public var failure: String? { toOpenAI?.failure ?? toAnthropic?.failure }

    /// Provider SSE bytes in, caller-format SSE bytes out (complete events only).
    public mutating func translate(_ chunk: ByteBuffer) -> ByteBuffer {
        guard toOpenAI != nil || toAnthropic != nil else { return chunk }
        parser.feed(chunk.readableBytesView, handler: &collector)
        var out = ByteBuffer()
        for event in collector.takeEvents() {
            toOpenAI?.handle(event, into: &out)
            toAnthropic?.handle(event, into: &out)
        }
        return out
    }

    /// At the end of the provider stream: whatever the caller is still owed (OpenAI's usage chunk and
    /// `data: [DONE]`, or Anthropic's closing blocks, `message_delta` and `message_stop`) when the
    /// provider's stream ended without them. An unterminated last event is not translated.
    public mutating func finish() -> ByteBuffer {
        var out = ByteBuffer()
        toOpenAI?.finish(into: &out)
        toAnthropic?.finish(into: &out)
        return out
    }
}

/// One complete server-sent event.
struct SSEEvent: Sendable, Equatable {
    var name: String?
    var data: [UInt8]
}

/// Gathers `SSEParser`'s pieces into whole events.
struct SSEEventCollector: SSEEventHandler, Sendable {
    private var events: [SSEEvent] = []
    private var name: String?
    private var data: [UInt8] = []
    private var hasData = false

    mutating func data(_ bytes: UnsafeRawBufferPointer, firstOfLine: Bool) {
        if firstOfLine {
            if hasData { data.append(0x0A) }
            hasData = true
        }
        data.append(contentsOf: bytes)
    }

    mutating func eventName(_ name: String) {
        self.name = name
    }

    mutating func dispatch() {
        events.append(SSEEvent(name: name, data: data))
        name = nil
        data = []
        hasData = false
    }

    mutating func takeEvents() -> [SSEEvent] {
        defer { events = [] }
        return events
    }
}

extension ByteBuffer {
    /// Writes `data: <json>\n\n`, with `event: <name>` first when given.
    mutating func writeSSE(event: String? = nil, _ json: JSONValue) {
        if let event { writeString("event: \(event)\n") }
        writeString("data: ")
        writeBytes(json.bytes)
        writeString("\n\n")
    }
}
