import MeshgateAI
import NIOCore
import NIOHTTP1

/// An `ai` listener call's way through its model's candidates (the provider, then the fallbacks):
/// the caller's own body and format, which candidate is being tried, and what each attempt got,
/// for the audit line. A candidate is abandoned only before the caller has seen a byte of it.
struct AIAttempts {
    /// The format the caller speaks (the endpoint it called).
    let callerFormat: LLMFormat
    /// The endpoint the caller called.
    let callerEndpoint: LLMEndpoint
    /// The model name the caller asked for (responses name it back).
    let callerModel: String
    /// The caller's request headers (each attempt strips the other format's headers afresh).
    var headers = HTTPHeaders()
    /// The caller's request body, as held (each attempt translates it afresh; MCP server URLs the
    /// policy swaps for the portal are swapped here too).
    var body: [UInt8]
    /// The provider, then the fallbacks.
    let candidates: [AIRoutes.Candidate]
    /// The candidate being tried.
    private(set) var index = 0
    /// `provider/model: outcome` per finished attempt.
    private(set) var outcomes: [String] = []
    /// At most this many attempts in all (a retry of the same candidate counts).
    static let maxAttempts = 4

    init(callerFormat: LLMFormat, callerEndpoint: LLMEndpoint, callerModel: String, body: [UInt8], candidates: [AIRoutes.Candidate]) {
        self.callerFormat = callerFormat
        self.callerEndpoint = callerEndpoint
        self.callerModel = callerModel
        self.body = body
        self.candidates = candidates
    }

    var current: AIRoutes.Candidate { candidates[index] }

    /// Whether a failed attempt can move on to the next candidate.
    var canFallBack: Bool { index + 1 < candidates.count && outcomes.count + 1 < Self.maxAttempts }

    /// Records the current attempt's outcome and moves to the next candidate.
    mutating func fail(_ outcome: String) {
        outcomes.append("\(current.label): \(outcome)")
        index += 1
    }

    /// Records the attempt that answered the caller.
    mutating func answered(_ outcome: String) {
        outcomes.append("\(current.label): \(outcome)")
    }

    /// Whether a provider status should send the call to the next candidate (rate limits and
    /// server errors; a 4xx about the request itself would fail the same way everywhere).
    static func isRetryable(status: Int) -> Bool {
        status == 429 || status >= 500
    }

    /// How long to wait before the next attempt: the provider's `Retry-After` when it is short,
    /// else a short backoff that grows with each attempt.
    func backoff(retryAfter: String?) -> TimeAmount {
        if let seconds = retryAfter.flatMap(Double.init), seconds >= 0 {
            return .milliseconds(Int64(min(seconds, 2) * 1000))
        }
        return .milliseconds(Int64(100 << min(outcomes.count, 4)))
    }
}
