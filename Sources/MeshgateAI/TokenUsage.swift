/// Tokens one LLM call consumed, split into disjoint kinds so they add up.
///
/// Providers count differently: OpenAI's `prompt_tokens` (and the Responses API's `input_tokens`)
/// include cached tokens, listed again under `*_tokens_details.cached_tokens`; Anthropic's
/// `input_tokens` exclude the `cache_read_input_tokens` and `cache_creation_input_tokens` reported
/// beside them. Here `input` is always the uncached remainder, so
/// `totalInput = input + cacheRead + cacheCreation` is every prompt token the model processed.
public struct TokenUsage: Sendable, Hashable {
    /// Prompt tokens neither read from nor written to a cache.
    public var input: Int
    /// Generated tokens (reasoning included).
    public var output: Int
    /// Prompt tokens served from the provider's cache.
    public var cacheRead: Int
    /// Prompt tokens written to the provider's cache (Anthropic).
    public var cacheCreation: Int
    /// True when some of this is an estimate: the call ended before the provider reported usage.
    public var estimated: Bool

    /// Creates usage.
    public init(input: Int = 0, output: Int = 0, cacheRead: Int = 0, cacheCreation: Int = 0, estimated: Bool = false) {
        self.input = input
        self.output = output
        self.cacheRead = cacheRead
        self.cacheCreation = cacheCreation
        self.estimated = estimated
    }

    /// Every prompt token processed: `input + cacheRead + cacheCreation` (the audit line's `input_tokens`).
    public var totalInput: Int { input + cacheRead + cacheCreation }

    /// What a budget is charged: all input plus output tokens, as the contract's `usage` counts.
    public var total: Int { totalInput + output }

    /// The kinds with their Prometheus `kind` label values, for `meshgate_ai_tokens_total`.
    public var byKind: [(kind: String, tokens: Int)] {
        [("input", input), ("output", output), ("cache_read", cacheRead), ("cache_creation", cacheCreation)]
    }
}

/// The usage numbers a provider reported, before they are normalised into `TokenUsage`.
/// Each field is nil until seen; later reports overwrite earlier ones field by field, which matches
/// how streams report (Anthropic's `message_delta` carries cumulative counts).
public struct ReportedUsage: Sendable, Hashable {
    /// OpenAI `prompt_tokens`.
    public var promptTokens: Int?
    /// OpenAI `completion_tokens`.
    public var completionTokens: Int?
    /// Anthropic or OpenAI Responses `input_tokens`.
    public var inputTokens: Int?
    /// Anthropic or OpenAI Responses `output_tokens`.
    public var outputTokens: Int?
    /// OpenAI `prompt_tokens_details.cached_tokens` / `input_tokens_details.cached_tokens`.
    public var cachedTokens: Int?
    /// Anthropic `cache_creation_input_tokens`.
    public var cacheCreationInputTokens: Int?
    /// Anthropic `cache_read_input_tokens`.
    public var cacheReadInputTokens: Int?

    /// Creates a report.
    public init(promptTokens: Int? = nil, completionTokens: Int? = nil, inputTokens: Int? = nil, outputTokens: Int? = nil,
                cachedTokens: Int? = nil, cacheCreationInputTokens: Int? = nil, cacheReadInputTokens: Int? = nil) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cachedTokens = cachedTokens
        self.cacheCreationInputTokens = cacheCreationInputTokens
        self.cacheReadInputTokens = cacheReadInputTokens
    }

    /// Whether any field was reported.
    public var isEmpty: Bool {
        promptTokens == nil && completionTokens == nil && inputTokens == nil && outputTokens == nil
            && cachedTokens == nil && cacheCreationInputTokens == nil && cacheReadInputTokens == nil
    }

    /// Whether an input count was reported.
    public var hasInput: Bool { promptTokens != nil || inputTokens != nil }

    /// Whether an output count was reported.
    public var hasOutput: Bool { completionTokens != nil || outputTokens != nil }

    /// Overwrites fields with those `newer` reports.
    public mutating func merge(_ newer: ReportedUsage) {
        promptTokens = newer.promptTokens ?? promptTokens
        completionTokens = newer.completionTokens ?? completionTokens
        inputTokens = newer.inputTokens ?? inputTokens
        outputTokens = newer.outputTokens ?? outputTokens
        cachedTokens = newer.cachedTokens ?? cachedTokens
        cacheCreationInputTokens = newer.cacheCreationInputTokens ?? cacheCreationInputTokens
        cacheReadInputTokens = newer.cacheReadInputTokens ?? cacheReadInputTokens
    }

    /// The report as disjoint token kinds, read in `format`'s convention. Negative or missing
    /// numbers count as zero.
    public func normalized(_ format: LLMFormat) -> TokenUsage {
        func clean(_ value: Int?) -> Int { max(0, value ?? 0) }
        switch format {
        case .openai:
            let prompt = clean(promptTokens ?? inputTokens)
            let cached = min(clean(cachedTokens), prompt)
            return TokenUsage(input: prompt - cached, output: clean(completionTokens ?? outputTokens), cacheRead: cached)
        case .anthropic:
            return TokenUsage(input: clean(inputTokens ?? promptTokens), output: clean(outputTokens ?? completionTokens),
                              cacheRead: clean(cacheReadInputTokens), cacheCreation: clean(cacheCreationInputTokens))
        }
    }
}
