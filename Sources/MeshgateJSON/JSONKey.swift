/// The object keys the AI metering code cares about; every other key scans as `.other`.
///
/// Interning keys into a small enum lets the scanner report a value's path without allocating a
/// string per key, which matters on streams that carry one JSON document per token.
package enum JSONKey: UInt8, Sendable, CaseIterable {
    /// An array element (arrays have no keys).
    case element
    /// Any key not listed here.
    case other
    /// `"model"`.
    case model
    /// `"stream"`.
    case stream
    /// `"stream_options"`.
    case streamOptions
    /// `"include_usage"`.
    case includeUsage
    /// `"max_tokens"`.
    case maxTokens
    /// `"max_completion_tokens"`.
    case maxCompletionTokens
    /// `"max_output_tokens"`.
    case maxOutputTokens
    /// `"usage"`.
    case usage
    /// `"prompt_tokens"`.
    case promptTokens
    /// `"completion_tokens"`.
    case completionTokens
    /// `"prompt_tokens_details"`.
    case promptTokensDetails
    /// `"input_tokens_details"`.
    case inputTokensDetails
    /// `"cached_tokens"`.
    case cachedTokens
    /// `"input_tokens"`.
    case inputTokens
    /// `"output_tokens"`.
    case outputTokens
    /// `"cache_creation_input_tokens"`.
    case cacheCreationInputTokens
    /// `"cache_read_input_tokens"`.
    case cacheReadInputTokens
    /// `"message"`.
    case message
    /// `"response"`.
    case response
    /// `"choices"`.
    case choices
    /// `"delta"`.
    case delta
    /// `"content"`.
    case content
    /// `"tool_calls"`.
    case toolCalls
    /// `"function"`.
    case function
    /// `"arguments"`.
    case arguments
    /// `"text"`.
    case text
    /// `"partial_json"`.
    case partialJSON
    /// `"thinking"`.
    case thinking
    /// `"refusal"`.
    case refusal
    /// `"reasoning_content"`.
    case reasoningContent
    /// `"type"`.
    case type
    /// `"error"`.
    case error
    /// `"data"`.
    case data
    /// `"url"`.
    case url
    /// `"image_url"`.
    case imageURL
    /// `"file_data"`.
    case fileData
    /// `"messages"`.
    case messages
    /// `"id"`.
    case id
    /// `"name"`.
    case name
    /// `"content_block"`.
    case contentBlock
    /// `"call_id"`.
    case callID
    /// `"item"`.
    case item
    /// `"output"`.
    case output

    /// The key's JSON spelling; nil for `.element` and `.other`.
    package var spelling: String? {
        switch self {
        case .element, .other: nil
        case .model: "model"
        case .stream: "stream"
        case .streamOptions: "stream_options"
        case .includeUsage: "include_usage"
        case .maxTokens: "max_tokens"
        case .maxCompletionTokens: "max_completion_tokens"
        case .maxOutputTokens: "max_output_tokens"
        case .usage: "usage"
        case .promptTokens: "prompt_tokens"
        case .completionTokens: "completion_tokens"
        case .promptTokensDetails: "prompt_tokens_details"
        case .inputTokensDetails: "input_tokens_details"
        case .cachedTokens: "cached_tokens"
        case .inputTokens: "input_tokens"
        case .outputTokens: "output_tokens"
        case .cacheCreationInputTokens: "cache_creation_input_tokens"
        case .cacheReadInputTokens: "cache_read_input_tokens"
        case .message: "message"
        case .response: "response"
        case .choices: "choices"
        case .delta: "delta"
        case .content: "content"
        case .toolCalls: "tool_calls"
        case .function: "function"
        case .arguments: "arguments"
        case .text: "text"
        case .partialJSON: "partial_json"
        case .thinking: "thinking"
        case .refusal: "refusal"
        case .reasoningContent: "reasoning_content"
        case .type: "type"
        case .error: "error"
        case .data: "data"
        case .url: "url"
        case .imageURL: "image_url"
        case .fileData: "file_data"
        case .messages: "messages"
        case .id: "id"
        case .name: "name"
        case .contentBlock: "content_block"
        case .callID: "call_id"
        case .item: "item"
        case .output: "output"
        }
    }

    /// Longest spelling, so the scanner can stop collecting a key's bytes early.
    package static let maxLength = 32

    /// Spellings bucketed by length for a cheap lookup.
    private static let table: [[(bytes: [UInt8], key: JSONKey)]] = {
        var buckets = Array(repeating: [(bytes: [UInt8], key: JSONKey)](), count: maxLength + 1)
        for key in allCases {
            guard let spelling = key.spelling else { continue }
            let bytes = Array(spelling.utf8)
            precondition(bytes.count <= maxLength, "JSONKey spelling longer than maxLength")
            buckets[bytes.count].append((bytes, key))
        }
        return buckets
    }()

    /// The key spelled by `bytes`, or `.other`.
    package static func lookup(_ bytes: ArraySlice<UInt8>) -> JSONKey {
        guard bytes.count <= maxLength else { return .other }
        for entry in table[bytes.count] where entry.bytes.elementsEqual(bytes) { return entry.key }
        return .other
    }
}
