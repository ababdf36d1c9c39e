import MeshgateJSON

/// Reads usage numbers, the model and generated-text byte counts out of one JSON document: a whole
/// non-streamed response, or one server-sent event's data.
///
/// Usage objects are read at `usage` (OpenAI responses and final stream chunk, Anthropic responses and
/// `message_delta`), `message.usage` (Anthropic `message_start`) and `response.usage` (OpenAI
/// Responses stream `response.completed`). Generated text is counted wherever the providers put it,
/// so a stream cut before usage arrives can still be estimated.
struct UsageScan: JSONScanVisitor {
    /// Usage fields seen.
    var reported = ReportedUsage()
    /// Whether a final usage report was seen (root `usage` or `response.usage`, not `message.usage`).
    var sawFinalUsage = false
    /// Raw bytes of generated text and tool-call arguments.
    var outputTextBytes = 0
    /// The model the provider says answered.
    var model: String?
    /// Whether the document is an error (`{"error": …}`; an `event: error` name counts too, at the meter).
    var isError = false
    /// Tool calls the model asks for in this document, in order.
    var toolCalls: [LLMToolCall] = []

    /// Whether to read `model` (a stream names it in every chunk; once is enough, and skipping it
    /// keeps the per-event path free of string allocations).
    var capturesModel = true

    /// Starts a new document; `model` is read again only when `capturesModel`.
    mutating func reset(capturesModel: Bool) {
        self = UsageScan()
        self.capturesModel = capturesModel
    }

    func wantsText(path: JSONPath) -> Bool {
        if path.last == .model {
            return capturesModel && (path.count == 1 || (path.count == 2 && (path[0] == .message || path[0] == .response)))
        }
        return Self.toolCallPart(path) != nil
    }

    /// Where providers name the tool calls a model asks for: the call's id or the tool's name.
    enum ToolCallPart { case id, name }

    static func toolCallPart(_ path: JSONPath) -> ToolCallPart? {
        let last = path.last
        guard last == .id || last == .name || last == .callID else { return nil }
        switch path.count {
        case 2:
            // Anthropic stream content_block_start: content_block.{id,name}; OpenAI Responses stream
            // output_item.added: item.{call_id,name}.
            if path[0] == .contentBlock { return last == .id ? .id : last == .name ? .name : nil }
            if path[0] == .item { return last == .callID ? .id : last == .name ? .name : nil }
        case 3:
            // Anthropic content[].{id,name} (tool_use blocks); OpenAI Responses output[].{call_id,name}.
            guard path[1] == .element else { return nil }
            if path[0] == .content { return last == .id ? .id : last == .name ? .name : nil }
            if path[0] == .output { return last == .callID ? .id : last == .name ? .name : nil }
        case 4:
            // OpenAI Responses response.output[].{call_id,name} (response.completed).
            if path[0] == .response, path[1] == .output, path[2] == .element { return last == .callID ? .id : last == .name ? .name : nil }
        case 6:
            // OpenAI chat choices[].message|delta.tool_calls[].id.
            if path[0] == .choices, path[3] == .toolCalls, last == .id { return .id }
        case 7:
            // OpenAI chat choices[].message|delta.tool_calls[].function.name.
            if path[0] == .choices, path[3] == .toolCalls, path[5] == .function, last == .name { return .name }
        default:
            break
        }
        return nil
    }

    mutating func containerStart(path: JSONPath, isObject: Bool, offset: Int) {
        if path.is(.error) { isError = true }
    }

    mutating func scalar(path: JSONPath, value: JSONScalar, start: Int, end: Int) {
        switch value {
        case .number(let number?):
            usageNumber(path: path, value: number)
        case .string(let length, let text):
            if let text {
                if path.last == .model {
                    model = text
                } else if let part = Self.toolCallPart(path) {
                    toolCallText(part, text)
                }
            } else if isOutputText(path) {
                outputTextBytes += length
            }
        default:
            break
        }
    }

    /// An id starts a call and a name completes it (every provider sends the id first); a name with
    /// no open call (a stream chunk that repeats it) starts one of its own.
    private mutating func toolCallText(_ part: ToolCallPart, _ text: String) {
        switch part {
        case .id:
            toolCalls.append(LLMToolCall(id: text, name: nil))
        case .name:
            if let last = toolCalls.indices.last, toolCalls[last].name == nil {
                toolCalls[last].name = text
            } else {
                toolCalls.append(LLMToolCall(id: nil, name: text))
            }
        }
    }

    private mutating func usageNumber(path: JSONPath, value: Int) {
        // Where the usage object sits: at the root, or under `message` / `response`.
        let base: Int
        if path.count >= 2, path[0] == .usage {
            base = 1
        } else if path.count >= 3, path[1] == .usage, path[0] == .message || path[0] == .response {
            base = 2
        } else {
            return
        }
        if path.count == base + 1 {
            switch path[base] {
            case .promptTokens: reported.promptTokens = value
            case .completionTokens: reported.completionTokens = value
            case .inputTokens: reported.inputTokens = value
            case .outputTokens: reported.outputTokens = value
            case .cacheCreationInputTokens: reported.cacheCreationInputTokens = value
            case .cacheReadInputTokens: reported.cacheReadInputTokens = value
            default: return
            }
        } else if path.count == base + 2, path[base + 1] == .cachedTokens,
                  path[base] == .promptTokensDetails || path[base] == .inputTokensDetails {
            reported.cachedTokens = value
        } else {
            return
        }
        if path[0] != .message { sawFinalUsage = true }
    }

    private func isOutputText(_ path: JSONPath) -> Bool {
        switch path.count {
        case 1:
            // OpenAI Responses stream: `{"type":"response.output_text.delta","delta":"…"}`.
            return path[0] == .delta
        case 2:
            // Anthropic `content_block_delta`: delta.text / delta.partial_json / delta.thinking.
            return path[0] == .delta && (path[1] == .text || path[1] == .partialJSON || path[1] == .thinking)
        case 3:
            // Anthropic response content[].text; OpenAI completions choices[].text.
            guard path[1] == .element else { return false }
            return (path[0] == .content && (path[2] == .text || path[2] == .thinking)) || (path[0] == .choices && path[2] == .text)
        case 4:
            // OpenAI chat: choices[].delta.content (stream) / choices[].message.content (whole).
            guard path[0] == .choices, path[2] == .delta || path[2] == .message else { return false }
            return path[3] == .content || path[3] == .refusal || path[3] == .reasoningContent
        case 7:
            // choices[].delta.tool_calls[].function.arguments
            return path[0] == .choices && path[3] == .toolCalls && path[5] == .function && path[6] == .arguments
        default:
            return false
        }
    }
}
