import MeshgateAI
import NIOHTTP1

/// The `ai` listener's fallback at the provider's response head: a status another candidate may
/// answer better (429, 5xx) moves the call on to it while the caller has seen nothing; any other
/// answer is the call's, and its head says what meshgate decided (`X-Meshgate-Action`).
final class AIAttemptFilter: ExchangeFilter {
    func responseHead(_ head: inout HTTPResponseHead, exchange tx: HTTPTransaction) -> FilterStatus {
        guard var attempts = tx.llm.attempts else { return .continue }
        tx.llm.attemptTimer?.cancel()
        let status = Int(head.status.code)
        if AIAttempts.isRetryable(status: status), attempts.canFallBack {
            return .retry(outcome: String(status), retryAfter: head.headers.first(name: "retry-after"))
        }
        attempts.answered(String(status))
        tx.llm.attempts = attempts
        head.headers.replaceOrAdd(name: "X-Meshgate-Action", value: tx.verdict.action.rawValue)
        return .continue
    }
}
