/// What one LLM call asks the ledger to hold before it starts: its input estimate plus the output
/// it may produce.
///
/// When the caller set no output cap (`max_tokens` and its kin) the output part is the configured
/// default (`ai.default_max_tokens`), which is only a guess: such a reservation is *fitted*, i.e.
/// shrunk to what the budget has left as long as the input and `minimumFittedOutput` still fit.
/// A caller's own `max_tokens` is never shrunk.
public struct ReservationRequest: Sendable, Hashable {
    /// The least output a fitted reservation keeps (a call that may not produce this much is refused).
    public static let minimumFittedOutput = 16

    /// Estimated input tokens.
    public var inputTokens: Int
    /// Output tokens: the caller's cap, or the default.
    public var outputTokens: Int
    /// Whether `outputTokens` is the default, which may be fitted to the remaining budget.
    public var fitted: Bool

    /// Creates a request.
    public init(inputTokens: Int, outputTokens: Int, fitted: Bool) {
        self.inputTokens = max(0, inputTokens)
        self.outputTokens = max(0, outputTokens)
        self.fitted = fitted
    }

    /// The request for a body that reads as `facts` on `endpoint`: embeddings produce no output;
    /// a call without an output cap asks for `defaultOutputTokens`, fitted. Under a hard cap the
    /// input counts one token per two bytes of text rather than four: its real count is known
    /// only when the call ends (OpenAI reports it last), and what it uses beyond its reservation
    /// then is overshoot no cut can prevent; text tokenizes at two bytes a token or more (prose,
    /// code, and CJK at three bytes a character).
    public init(facts: LLMRequestFacts, endpoint: LLMEndpoint, defaultOutputTokens: Int, hardCap: Bool = false) {
        let input = hardCap ? facts.conservativeInputTokens : facts.estimatedInputTokens
        if endpoint == .embeddings {
            self.init(inputTokens: input, outputTokens: 0, fitted: false)
        } else if let asked = facts.maxOutputTokens {
            self.init(inputTokens: input, outputTokens: asked, fitted: false)
        } else {
            self.init(inputTokens: input, outputTokens: defaultOutputTokens, fitted: true)
        }
    }

    /// Tokens asked for in full, at least 1.
    public var tokens: Int { max(1, Self.sum(inputTokens, outputTokens)) }

    /// The least a reservation for this call may hold: everything, or for a fitted one the input
    /// plus `minimumFittedOutput` (or the default itself when it is smaller).
    public var minimumTokens: Int {
        guard fitted else { return tokens }
        return max(1, Self.sum(inputTokens, min(outputTokens, Self.minimumFittedOutput)))
    }

    private static func sum(_ a: Int, _ b: Int) -> Int {
        let (total, overflow) = a.addingReportingOverflow(b)
        return overflow ? Int.max : total
    }
}

/// A call that cannot fit a budget even when its window is empty: its input estimate plus its
/// output cap exceed the cap itself. Answered 413, never 429: waiting for the window to reset
/// would not help.
public struct OversizedRequest: Sendable, Hashable, Error, CustomStringConvertible {
    /// The budget row whose limit is too small.
    public var charge: BudgetCharge
    /// What was asked for.
    public var request: ReservationRequest

    /// Creates the refusal.
    public init(charge: BudgetCharge, request: ReservationRequest) {
        self.charge = charge
        self.request = request
    }

    /// Names the budget, its limit and what was asked, with the fix; for the caller's error body.
    public var description: String {
        let subject = "\(charge.subject.kind) '\(charge.subject.name)'"
        let asked: String
        let fix: String
        if request.fitted {
            asked = "\(request.minimumTokens) tokens at least (about \(request.inputTokens) input + \(min(request.outputTokens, ReservationRequest.minimumFittedOutput)) output)"
            fix = "shorten the input"
        } else {
            asked = "\(request.tokens) tokens (about \(request.inputTokens) input + max_tokens \(request.outputTokens))"
            fix = request.outputTokens > 0 ? "lower max_tokens or shorten the input" : "shorten the input"
        }
        return "meshgate: this request can never fit the \(subject) token budget of \(charge.limit) per \(charge.window):"
            + " it asks for \(asked); \(fix)"
    }
}
