import NIOCore

/// One LLM call's metering from admission to charge, as a value the proxy connection owns: what the
/// request asked for, what was reserved, what the response has reported so far, and whether a hard
/// cap requires cutting the stream. Pure: the connection feeds it bytes and asks it questions.
public struct MeteredCall: Sendable {
    /// The recognised call (the provider answering it, after any fallback).
    public private(set) var call: LLMCall
    /// What the request body said.
    public let facts: LLMRequestFacts
    /// Tokens to reserve before the call starts.
    public let reservationTokens: Int
    /// The reservation, once admitted (nil with no budget, or fail-open with the ledger down).
    public private(set) var reservation: LedgerReservation?
    /// Whether a stream that crosses the cap is cut (`enforce: hard` on an applying budget).
    public let hardCap: Bool
    /// Whether the stream was cut at the cap.
    public private(set) var cut = false
    /// The refusal, when a cap turned the call away before it started.
    public private(set) var refusal: BudgetRefusal?
    /// The provider's HTTP status, once the response head arrived.
    public private(set) var status: Int?
    private var meter: UsageMeter?

    /// Starts metering a call whose request body reads as `facts`.
    public init(call: LLMCall, facts: LLMRequestFacts, defaultMaxOutputTokens: Int, hardCap: Bool) {
        self.call = call
        self.facts = facts
        self.reservationTokens = facts.reservationTokens(endpoint: call.endpoint, defaultMaxOutputTokens: defaultMaxOutputTokens)
        self.hardCap = hardCap
    }

    /// The model to report: the response's, else the request's, else `unknown`.
    public var model: String { meter?.model ?? facts.model ?? "unknown" }

    /// Points the call at another provider (a fallback); the reservation stays.
    public mutating func retarget(_ call: LLMCall) {
        self.call = call
        meter = nil
        status = nil
    }

    /// Records the admission's reservation.
    public mutating func admitted(_ reservation: LedgerReservation?) {
        self.reservation = reservation
    }

    /// Records that a cap refused the call.
    public mutating func refused(_ refusal: BudgetRefusal) {
        self.refusal = refusal
    }

    /// The response head arrived.
    public mutating func responseStarted(status: Int, contentType: String?) {
        self.status = status
        meter = UsageMeter(format: call.format, streaming: UsageMeter.isEventStream(contentType: contentType),
                           estimatedInputTokens: facts.estimatedInputTokens)
    }

    /// Whether the response is a server-sent event stream.
    public var streaming: Bool { meter?.streaming ?? false }

    /// Meters a response body chunk. Returns true when a hard cap is now crossed and the stream
    /// must be cut before this chunk reaches the client.
    public mutating func consume(_ buffer: ByteBuffer) -> Bool {
        guard var meter else { return false }
        meter.consume(buffer)
        self.meter = meter
        guard hardCap, meter.streaming, let allowance = reservation?.allowance, !cut else { return false }
        if meter.currentUsage.total > allowance {
            cut = true
            return true
        }
        return false
    }

    /// The provider-shaped error event that ends a stream cut at the cap.
    public var cutEvent: String {
        ProviderError.rateLimitEvent(format: call.format, message: cutMessage)
    }

    /// Why the stream was cut, naming the allowance.
    public var cutMessage: String {
        let allowance = reservation?.allowance.map(String.init) ?? "?"
        return "meshgate: token budget reached during the stream (this call's allowance was \(allowance) tokens); the response was cut (ai.budgets enforce: hard)"
    }

    /// What to charge when the call ends, or nil when it produced nothing chargeable (no response,
    /// or a provider error document without usage), in which case the reservation is released.
    public mutating func finish() -> TokenUsage? {
        guard var meter else { return nil }
        let sawBody = meter.bytesSeen > 0
        let usage = meter.finish()
        self.meter = meter
        let failed = (status ?? 0) >= 400 || meter.sawError && !meter.complete && meter.outputTextBytes == 0
        if failed && meter.reported.isEmpty { return nil }
        if !sawBody { return nil }
        var charged = usage
        if cut { charged.estimated = true }
        return charged
    }

    /// Tokens left on the tightest budget after charging `usage`, when a budget applies.
    public func remaining(after usage: TokenUsage?) -> Int? {
        if let refusal { return refusal.remaining }
        guard let reservation, let remaining = reservation.remaining else { return nil }
        return max(0, remaining + reservation.tokens - (usage?.total ?? 0))
    }
}
