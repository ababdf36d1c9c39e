/// Error bodies in each provider's own shape, so SDKs raise their usual exception (OpenAI's and
/// Anthropic's clients map HTTP 429 to `RateLimitError` and read these fields for the message).
public enum ProviderError {
    /// The body of a 429 for a refused reservation:
    /// OpenAI `{"error":{"message","type":"tokens","param":null,"code":"rate_limit_exceeded"}}`,
    /// Anthropic `{"type":"error","error":{"type":"rate_limit_error","message"}}`.
    public static func rateLimitBody(format: LLMFormat, message: String) -> String {
        body(format: format, status: 429, message: message)
    }

    /// The server-sent event that ends a stream cut at a hard cap (`enforce: hard`): OpenAI streams
    /// carry errors as a `data:` line with an `error` object; Anthropic sends `event: error`.
    public static func rateLimitEvent(format: LLMFormat, message: String) -> String {
        errorEvent(format: format, status: 429, message: message)
    }

    /// The server-sent event that ends a stream meshgate cannot complete (the provider failed
    /// mid-stream, a response could not be translated), shaped like the error a provider would
    /// stream for `status`, so the caller's SDK raises its API error with `message`.
    public static func errorEvent(format: LLMFormat, status: Int, message: String) -> String {
        switch format {
        case .openai:
            "data: " + body(format: .openai, status: status, message: message) + "\n\n"
        case .anthropic:
            "event: error\ndata: " + body(format: .anthropic, status: status, message: message) + "\n\n"
        }
    }

    /// A one-line message for a refusal, naming the budget and when it resets.
    public static func message(for refusal: BudgetRefusal) -> String {
        "meshgate: \(refusal.charge.subject.kind) '\(refusal.charge.subject.name)' has used its \(refusal.charge.limit)-token"
            + " budget per \(refusal.charge.window) (\(refusal.remaining) left, \(refusal.requested) needed);"
            + " it resets at \(refusal.charge.period.resetsAtText)"
    }

    /// The body of any other error meshgate answers for a provider (401 unknown token, 404 unknown
    /// model, 400 bad request, 503 ledger unavailable, 502 provider unreachable), in the shape the
    /// caller's SDK parses: OpenAI `{"error":{"message","type","param","code"}}`, Anthropic
    /// `{"type":"error","error":{"type","message"}}`.
    public static func body(format: LLMFormat, status: Int, message: String) -> String {
        switch format {
        case .openai:
            let (type, code): (String, String) = switch status {
            case 401: ("invalid_request_error", "invalid_api_key")
            case 403: ("invalid_request_error", "blocked_by_policy")
            case 404: ("invalid_request_error", "model_not_found")
            case 429: ("tokens", "rate_limit_exceeded")
            case 400..<500: ("invalid_request_error", "invalid_request")
            case 503: ("server_error", "ledger_unavailable")
            default: ("server_error", "upstream_error")
            }
            return #"{"error":{"message":"# + UsageReport.quote(message) + #","type":""# + type + #"","param":null,"code":""# + code + #""}}"#
        case .anthropic:
            let type = switch status {
            case 401: "authentication_error"
            case 403: "permission_error"
            case 404: "not_found_error"
            case 429: "rate_limit_error"
            case 400..<500: "invalid_request_error"
            case 529: "overloaded_error"
            default: "api_error"
            }
            return #"{"type":"error","error":{"type":""# + type + #"","message":"# + UsageReport.quote(message) + "}}"
        }
    }
}
