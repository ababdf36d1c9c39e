import MeshgateInspection
import MeshgateJSON
import NIOCore

/// OpenAI `chat.completion.chunk`s as Anthropic Messages stream events.
///
/// The first chunk opens the message (`message_start`, with `input_tokens: 0`: see
/// `StreamTranslator`); content deltas go into a text block, each new tool call index opens a
/// `tool_use` block and its argument fragments become `input_json_delta`s (one per fragment);
/// switching between text and a tool call closes the open block. The finish reason and the usage
/// chunk together give `message_delta` (with the real input, cache and output tokens) and
/// `message_stop`; `[DONE]` or the end of the stream gives whatever is still owed.
struct OpenAIToAnthropicStream: Sendable {
    private let model: String
    private var started = false
    private var stopped = false
    private var nextBlock = 0
    private var openBlock: Int?
    private var openIsText = false
    /// OpenAI tool call index to Anthropic content block index.
    private var toolBlocks: [Int: Int] = [:]
    private var stopReason: String?
    private var usage: FormatMapping.Usage?

    /// Why the stream ended in an error event, once it did.
    private(set) var failure: String?

    init(model: String) {
        self.model = model
    }

    mutating func handle(_ event: SSEEvent, into out: inout ByteBuffer) {
        guard !stopped else { return }
        if event.data.elementsEqual("[DONE]".utf8) {
            finish(into: &out)
            return
        }
        guard let json = try? JSONParser.parse(event.data, limits: TranslationLimits.json) else {
            fail(type: "api_error", message: "the provider sent an unreadable stream event", into: &out)
            return
        }
        if let error = json.present("error") {
            let message = error["message"]?.stringValue ?? error.stringValue ?? "the provider reported an error"
            fail(type: "api_error", message: message, into: &out)
            return
        }
        start(id: json["id"]?.stringValue, into: &out)
        // Only choice 0: requests with n > 1 are refused before they reach the provider.
        if let choice = json["choices"]?.arrayValue?.first(where: { ($0["index"]?.intValue ?? 0) == 0 }) {
            let delta = choice["delta"]
            if let text = delta?.present("content")?.stringValue ?? delta?.present("refusal")?.stringValue, !text.isEmpty {
                appendText(text, into: &out)
            }
            for call in delta?.present("tool_calls")?.arrayValue ?? [] {
                appendToolCall(call, into: &out)
            }
            if let reason = choice.present("finish_reason")?.stringValue {
                stopReason = FormatMapping.stopReason(fromFinishReason: reason)
                closeBlock(into: &out)
            }
        }
        if let reported = json.present("usage"), reported.isObject {
            usage = FormatMapping.Usage(openAI: reported)
        }
        if stopReason != nil, usage != nil { stop(into: &out) }
    }

    mutating func finish(into out: inout ByteBuffer) {
        guard !stopped else { return }
        start(id: nil, into: &out)
        stop(into: &out)
    }

    private mutating func start(id: String?, into out: inout ByteBuffer) {
        guard !started else { return }
        started = true
        let message: JSONValue = .object([
            ("id", .string(FormatMapping.anthropicID(id))),
            ("type", .string("message")),
            ("role", .string("assistant")),
            ("model", .string(model)),
            ("content", .array([])),
            ("stop_reason", .null),
            ("stop_sequence", .null),
            ("usage", .object([("input_tokens", .int(0)), ("output_tokens", .int(0))])),
        ])
        out.writeSSE(event: "message_start", .object([("type", .string("message_start")), ("message", message)]))
    }

    private mutating func appendText(_ text: String, into out: inout ByteBuffer) {
        if openBlock == nil || !openIsText {
            closeBlock(into: &out)
            openBlockNow(.object([("type", .string("text")), ("text", .string(""))]), isText: true, into: &out)
        }
        delta(block: openBlock ?? 0, .object([("type", .string("text_delta")), ("text", .string(text))]), into: &out)
    }

    private mutating func appendToolCall(_ call: JSONValue, into out: inout ByteBuffer) {
        let toolIndex = call["index"]?.intValue ?? toolBlocks.count
        let block: Int
        if let known = toolBlocks[toolIndex] {
            block = known
        } else {
            closeBlock(into: &out)
            block = nextBlock
            toolBlocks[toolIndex] = block
            openBlockNow(.object([
                ("type", .string("tool_use")),
                ("id", .string(call["id"]?.stringValue ?? "call_\(toolIndex)")),
                ("name", .string(call["function"]?["name"]?.stringValue ?? "")),
                ("input", .object([])),
            ]), isText: false, into: &out)
        }
        // A fragment for a block already closed (interleaved calls) still carries its own index,
        // which is how Anthropic's SDKs assemble input, so it is passed on rather than dropped.
        if let fragment = call["function"]?["arguments"]?.stringValue, !fragment.isEmpty {
            delta(block: block, .object([("type", .string("input_json_delta")), ("partial_json", .string(fragment))]), into: &out)
        }
    }

    private mutating func openBlockNow(_ block: JSONValue, isText: Bool, into out: inout ByteBuffer) {
        openBlock = nextBlock
        openIsText = isText
        out.writeSSE(event: "content_block_start", .object([
            ("type", .string("content_block_start")), ("index", .int(nextBlock)), ("content_block", block),
        ]))
        nextBlock += 1
    }

    private func delta(block: Int, _ delta: JSONValue, into out: inout ByteBuffer) {
        out.writeSSE(event: "content_block_delta", .object([
            ("type", .string("content_block_delta")), ("index", .int(block)), ("delta", delta),
        ]))
    }

    private mutating func closeBlock(into out: inout ByteBuffer) {
        guard let block = openBlock else { return }
        openBlock = nil
        out.writeSSE(event: "content_block_stop", .object([("type", .string("content_block_stop")), ("index", .int(block))]))
    }

    private mutating func stop(into out: inout ByteBuffer) {
        closeBlock(into: &out)
        let usage = self.usage ?? FormatMapping.Usage(openAI: nil)
        out.writeSSE(event: "message_delta", .object([
            ("type", .string("message_delta")),
            ("delta", .object([("stop_reason", .string(stopReason ?? "end_turn")), ("stop_sequence", .null)])),
            ("usage", usage.anthropic),
        ]))
        out.writeSSE(event: "message_stop", .object([("type", .string("message_stop"))]))
        stopped = true
    }

    private mutating func fail(type: String, message: String, into out: inout ByteBuffer) {
        failure = message
        out.writeSSE(event: "error", .object([
            ("type", .string("error")),
            ("error", .object([("type", .string(type)), ("message", .string(message))])),
        ]))
        stopped = true
    }
}
