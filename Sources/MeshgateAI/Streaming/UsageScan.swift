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

    /// Whether to read `model` (a stream names it in every chunk; once is enough, and skipping it
    /// keeps the per-event path free of string allocations).
    var capturesModel = true

    /// Starts a new document; `model` is read again only when `capturesModel`.
    mutating func reset(capturesModel: Bool) {
        self = UsageScan()
        self.capturesModel = capturesModel
    }

    func wantsText(path: JSONPath) -> Bool {
        capturesModel && path.last == .model && (path.count == 1 || (path.count == 2 && (path[0] == .message || path[0] == .response)))
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
                model = text
            } else if isOutputText(path) {
                outputTextBytes += length
            }
        default:
            break
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
