import MeshgateInspection
import MeshgateJSON
import NIOCore

/// Anthropic Messages stream events as OpenAI `chat.completion.chunk`s.
///
/// `message_start` gives the role chunk, `text_delta` content chunks, a `tool_use` block's start a
/// tool call chunk with index, id, name and empty arguments, each `input_json_delta` an arguments
/// fragment for that index, `message_delta` the finish chunk, `message_stop` the usage chunk and
/// `[DONE]`; `error` becomes OpenAI's in-stream `{"error":{…}}`. `ping`, `content_block_stop`,
/// thinking and citation deltas carry nothing an OpenAI caller can receive.
struct AnthropicToOpenAIStream: Sendable {
    private enum Block: Sendable {
        case text
        case tool(index: Int)
        case other
    }

    private let model: String
    private let created: Int
    private var id = "chatcmpl-meshgate"
    private var usage = FormatMapping.Usage(anthropic: nil)
    private var blocks: [Int: Block] = [:]
    private var nextToolIndex = 0
    private var sentRole = false
    private var finishReason: String?
    private var sentFinish = false
    private var done = false

    /// Why the stream ended in an error event, once it did.
    private(set) var failure: String?

    init(model: String, created: Int) {
        self.model = model
        self.created = created
    }

    mutating func handle(_ event: SSEEvent, into out: inout ByteBuffer) {
        guard !done else { return }
        guard let json = try? JSONParser.parse(event.data, limits: TranslationLimits.json) else {
            fail("the provider sent an unreadable stream event", into: &out)
            return
        }
        switch json["type"]?.stringValue ?? event.name {
        case "message_start":
            let message = json["message"]
            id = FormatMapping.openAIID(message?["id"]?.stringValue)
            usage = FormatMapping.Usage(anthropic: message?["usage"])
            sendRoleIfNeeded(into: &out)
        case "content_block_start":
            let index = json["index"]?.intValue ?? blocks.count
            let block = json["content_block"]
            switch block?["type"]?.stringValue {
            case "text":
                blocks[index] = .text
                if let text = block?["text"]?.stringValue, !text.isEmpty {
                    send(delta: [("content", .string(text))], into: &out)
                }
            case "tool_use":
                let toolIndex = nextToolIndex
                nextToolIndex += 1
                blocks[index] = .tool(index: toolIndex)
                let call: JSONValue = .object([
                    ("index", .int(toolIndex)),
                    ("id", .string(block?["id"]?.stringValue ?? "call_\(toolIndex)")),
                    ("type", .string("function")),
                    ("function", .object([("name", .string(block?["name"]?.stringValue ?? "")), ("arguments", .string(""))])),
                ])
                send(delta: [("tool_calls", .array([call]))], into: &out)
            default:
                blocks[index] = .other
            }
        case "content_block_delta":
            let delta = json["delta"]
            switch (blocks[json["index"]?.intValue ?? -1], delta?["type"]?.stringValue) {
            case (.text?, "text_delta"), (nil, "text_delta"):
                send(delta: [("content", .string(delta?["text"]?.stringValue ?? ""))], into: &out)
            case (.tool(let toolIndex)?, "input_json_delta"):
                let fragment = delta?["partial_json"]?.stringValue ?? ""
                // Anthropic opens each tool input with an empty fragment; there is nothing to pass on.
                guard !fragment.isEmpty else { return }
                let call: JSONValue = .object([("index", .int(toolIndex)), ("function", .object([("arguments", .string(fragment))]))])
                send(delta: [("tool_calls", .array([call]))], into: &out)
            default:
                return
            }
        case "message_delta":
            usage.update(anthropic: json["usage"])
            finishReason = FormatMapping.finishReason(fromStopReason: json["delta"]?["stop_reason"]?.stringValue)
            sendFinish(into: &out)
        case "message_stop":
            finishStream(into: &out)
        case "error":
            fail(json["error"]?["message"]?.stringValue ?? "the provider reported an error", type: json["error"]?["type"]?.stringValue, into: &out)
        default:
            // ping, content_block_stop and event types newer than this code.
            return
        }
    }

    mutating func finish(into out: inout ByteBuffer) {
        guard !done else { return }
        finishStream(into: &out)
    }

    private mutating func finishStream(into out: inout ByteBuffer) {
        sendRoleIfNeeded(into: &out)
        if finishReason != nil { sendFinish(into: &out) }
        out.writeSSE(chunk(choices: [], usage: usage.openAI))
        out.writeString("data: [DONE]\n\n")
        done = true
    }

    private mutating func fail(_ message: String, type: String? = nil, into out: inout ByteBuffer) {
        failure = message
        out.writeSSE(.object([("error", .object([
            ("message", .string(message)),
            ("type", .string(type ?? "api_error")),
            ("param", .null),
            ("code", .null),
        ]))]))
        done = true
    }

    private mutating func sendRoleIfNeeded(into out: inout ByteBuffer) {
        guard !sentRole else { return }
        sentRole = true
        out.writeSSE(chunk(choices: [choice(delta: [("role", .string("assistant")), ("content", .string(""))], finish: nil)]))
    }

    private mutating func send(delta: [(key: String, value: JSONValue)], into out: inout ByteBuffer) {
        sendRoleIfNeeded(into: &out)
        out.writeSSE(chunk(choices: [choice(delta: delta, finish: nil)]))
    }

    private mutating func sendFinish(into out: inout ByteBuffer) {
        guard !sentFinish else { return }
        sentFinish = true
        sendRoleIfNeeded(into: &out)
        out.writeSSE(chunk(choices: [choice(delta: [], finish: finishReason ?? "stop")]))
    }

    private func choice(delta: [(key: String, value: JSONValue)], finish: String?) -> JSONValue {
        .object([
            ("index", .int(0)),
            ("delta", .object(delta)),
            ("logprobs", .null),
            ("finish_reason", finish.map(JSONValue.string) ?? .null),
        ])
    }

    private func chunk(choices: [JSONValue], usage: JSONValue? = nil) -> JSONValue {
        var chunk = JSONObject([
            ("id", .string(id)),
            ("object", .string("chat.completion.chunk")),
            ("created", .int(created)),
            ("model", .string(model)),
            ("choices", .array(choices)),
        ])
        chunk.set("usage", ifPresent: usage)
        return chunk.value
    }
}
