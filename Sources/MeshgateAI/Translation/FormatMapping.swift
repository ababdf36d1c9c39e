import MeshgateInspection
import MeshgateJSON

/// The value-level correspondences both directions (and streams) share.
enum FormatMapping {
    /// OpenAI `finish_reason` for an Anthropic `stop_reason`.
    static func finishReason(fromStopReason reason: String?) -> String {
        switch reason {
        case "max_tokens", "model_context_window_exceeded": "length"
        case "tool_use": "tool_calls"
        case "refusal": "content_filter"
        // end_turn, stop_sequence, pause_turn and anything newer: the model stopped by itself.
        default: "stop"
        }
    }

    /// Anthropic `stop_reason` for an OpenAI `finish_reason`. OpenAI does not say which stop
    /// sequence matched, so `stop` becomes `end_turn` (and `stop_sequence` stays null).
    static func stopReason(fromFinishReason reason: String?) -> String {
        switch reason {
        case "length": "max_tokens"
        case "tool_calls", "function_call": "tool_use"
        case "content_filter": "refusal"
        default: "end_turn"
        }
    }

    /// An Anthropic image `source` for an OpenAI `image_url.url`: a `data:` URL becomes a base64
    /// source, anything else a URL source.
    static func imageSource(fromURL url: String, field: String) throws(TranslationError) -> JSONValue {
        guard url.hasPrefix("data:") else {
            return .object([("type", .string("url")), ("url", .string(url))])
        }
        // data:<media type>;base64,<data>
        guard let comma = url.firstIndex(of: ","),
              case let header = url[url.index(url.startIndex, offsetBy: 5)..<comma],
              header.hasSuffix(";base64")
        else {
            throw .invalid(field, "is a data URL that is not base64 (expected data:<media type>;base64,<data>)")
        }
        let mediaType = String(header.dropLast(";base64".count))
        return .object([
            ("type", .string("base64")),
            ("media_type", .string(mediaType)),
            ("data", .string(String(url[url.index(after: comma)...]))),
        ])
    }

    /// The OpenAI `image_url.url` for an Anthropic image `source`.
    static func imageURL(fromSource source: JSONValue?, field: String) throws(TranslationError) -> String {
        switch source?["type"]?.stringValue {
        case "url":
            guard let url = source?["url"]?.stringValue else { throw .invalid(field + ".url", "is missing") }
            return url
        case "base64":
            guard let media = source?["media_type"]?.stringValue, let data = source?["data"]?.stringValue else {
                throw .invalid(field, "needs media_type and data")
            }
            return "data:\(media);base64,\(data)"
        case let other:
            throw .unsupported(field + ".type", to: .openai, value: other.map { "'\($0)'" } ?? "missing")
        }
    }

    /// Token counts as each format reports them. OpenAI's `prompt_tokens` includes cached tokens;
    /// Anthropic's `input_tokens` excludes both cache reads and cache writes.
    struct Usage: Equatable {
        var inputTokens = 0
        var cacheReadTokens = 0
        var cacheCreationTokens = 0
        var outputTokens = 0

        /// From an Anthropic `usage` object.
        init(anthropic usage: JSONValue?) {
            inputTokens = usage?["input_tokens"]?.intValue ?? 0
            cacheReadTokens = usage?["cache_read_input_tokens"]?.intValue ?? 0
            cacheCreationTokens = usage?["cache_creation_input_tokens"]?.intValue ?? 0
            outputTokens = usage?["output_tokens"]?.intValue ?? 0
        }

        /// From an OpenAI `usage` object.
        init(openAI usage: JSONValue?) {
            let prompt = usage?["prompt_tokens"]?.intValue ?? 0
            cacheReadTokens = usage?["prompt_tokens_details"]?["cached_tokens"]?.intValue ?? 0
            inputTokens = max(0, prompt - cacheReadTokens)
            outputTokens = usage?["completion_tokens"]?.intValue ?? 0
        }

        /// Merges the fields an Anthropic `message_delta` usage carries (each one is cumulative).
        mutating func update(anthropic usage: JSONValue?) {
            if let n = usage?["input_tokens"]?.intValue { inputTokens = n }
            if let n = usage?["cache_read_input_tokens"]?.intValue { cacheReadTokens = n }
            if let n = usage?["cache_creation_input_tokens"]?.intValue { cacheCreationTokens = n }
            if let n = usage?["output_tokens"]?.intValue { outputTokens = n }
        }

        var promptTokens: Int { inputTokens + cacheReadTokens + cacheCreationTokens }

        /// OpenAI's `usage` object.
        var openAI: JSONValue {
            .object([
                ("prompt_tokens", .int(promptTokens)),
                ("completion_tokens", .int(outputTokens)),
                ("total_tokens", .int(promptTokens + outputTokens)),
                ("prompt_tokens_details", .object([("cached_tokens", .int(cacheReadTokens))])),
            ])
        }

        /// Anthropic's `usage` object.
        var anthropic: JSONValue {
            .object([
                ("input_tokens", .int(inputTokens)),
                ("cache_creation_input_tokens", .int(cacheCreationTokens)),
                ("cache_read_input_tokens", .int(cacheReadTokens)),
                ("output_tokens", .int(outputTokens)),
            ])
        }
    }

    /// `msg_…` for an OpenAI completion id.
    static func anthropicID(_ id: String?) -> String {
        guard let id, !id.isEmpty else { return "msg_meshgate" }
        return id.hasPrefix("chatcmpl-") ? "msg_" + id.dropFirst("chatcmpl-".count) : "msg_" + id
    }

    /// `chatcmpl-…` for an Anthropic message id.
    static func openAIID(_ id: String?) -> String {
        guard let id, !id.isEmpty else { return "chatcmpl-meshgate" }
        return id.hasPrefix("msg_") ? "chatcmpl-" + id.dropFirst("msg_".count) : "chatcmpl-" + id
    }
}
