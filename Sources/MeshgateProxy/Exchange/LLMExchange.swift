import MeshgateAI
import NIOCore

/// What the LLM filters (request facts, admission, attempts, metering, translation) keep about
/// an exchange that is an LLM call.
struct LLMExchange {
    /// The call, once recognised (its provider is filled in by routing on the `ai` listener).
    var call: LLMCall?
    /// What the held request body says about the call (model, stream, max tokens, input size).
    var facts: LLMRequestFacts?
    /// The call's metering, from admission to charge.
    var metered: MeteredCall?
    /// The `ai` listener's candidates and attempts (nil elsewhere).
    var attempts: AIAttempts?
    /// Gives up on an attempt whose provider sends no response head in time.
    var attemptTimer: Scheduled<Void>?
    /// The caller gets its stream without the usage chunk that meshgate asked for on its behalf, or
    /// that a translated OpenAI stream ends with (`UsageChunkStripFilter`).
    var stripUsageChunk = false
    /// What the call was charged (for the audit line), once it ended.
    var charged: TokenUsage?
}
