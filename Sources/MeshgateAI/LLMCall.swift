/// The API dialect an LLM provider speaks.
public enum LLMFormat: String, Sendable, Hashable, CaseIterable {
    /// OpenAI's API (and the many providers compatible with it).
    case openai
    /// Anthropic's Messages API.
    case anthropic
}

/// Which metered endpoint a request calls.
public enum LLMEndpoint: String, Sendable, Hashable, CaseIterable {
    /// OpenAI `POST /v1/chat/completions`.
    case chatCompletions = "chat_completions"
    /// OpenAI `POST /v1/responses`.
    case responses
    /// OpenAI `POST /v1/completions` (legacy text completions).
    case completions
    /// OpenAI `POST /v1/embeddings` (input tokens only).
    case embeddings
    /// Anthropic `POST /v1/messages`.
    case messages

    /// The dialect the endpoint belongs to.
    public var format: LLMFormat {
        self == .messages ? .anthropic : .openai
    }

    /// The path below the provider's base path, e.g. `/v1/chat/completions`.
    public var path: String {
        switch self {
        case .chatCompletions: "/v1/chat/completions"
        case .responses: "/v1/responses"
        case .completions: "/v1/completions"
        case .embeddings: "/v1/embeddings"
        case .messages: "/v1/messages"
        }
    }

    /// Whether the endpoint accepts `stream_options.include_usage` (so usage can be asked for).
    public var acceptsStreamOptions: Bool {
        self == .chatCompletions || self == .completions
    }
}

/// A request recognised as a metered LLM call.
public struct LLMCall: Sendable, Hashable {
    /// The provider's name: the `ai.providers` key, or `openai` / `anthropic` for the well-known hosts.
    public var provider: String
    /// The endpoint called.
    public var endpoint: LLMEndpoint

    /// The dialect of the request and response bodies.
    public var format: LLMFormat { endpoint.format }

    /// Creates a recognised call.
    public init(provider: String, endpoint: LLMEndpoint) {
        self.provider = provider
        self.endpoint = endpoint
    }
}
