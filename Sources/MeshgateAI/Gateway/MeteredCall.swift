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
    /// Whether a growth of the reservation was asked for and not answered yet.
    public private(set) var growing = false
    /// Whether the ledger refused to grow the reservation: the budget has nothing left for it.
    public private(set) var growthRefused = false
    /// Whether growth stopped without a refusal (the ledger is down and `fail_open` serves on).
    private var growthStopped = false
    private var meter: UsageMeter?

    /// Starts metering a call whose request body reads as `facts`.
    public init(call: LLMCall, facts: LLMRequestFacts, defaultMaxOutputTokens: Int, hardCap: Bool) {
        self.call = call
        self.facts = facts
        self.reservationTokens = facts.reservationTokens(endpoint: call.endpoint, defaultMaxOutputTokens: defaultMaxOutputTokens)
        self.hardCap = hardCap
    }

    /// The tool calls the model asked for in its answer so far.
    public var toolCalls: [LLMToolCall] { meter?.toolCalls ?? [] }

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

    /// Tokens the stream has used so far, as metered (the provider's counts where reported).
    public var usedSoFar: Int { meter?.currentUsage.total ?? 0 }

    /// Meters a response body chunk. Returns true when a hard cap is now crossed and the stream
    /// must be cut before this chunk reaches the client: it used more than its reservation, and
    /// the ledger refused to grow it.
    public mutating func consume(_ buffer: ByteBuffer) -> Bool {
        guard meter != nil else { return false }
        meter?.consume(buffer)
        guard hardCap, streaming, let reservation, !reservation.charges.isEmpty, !cut else { return false }
        if growthRefused, usedSoFar > reservation.tokens {
            cut = true
            return true
        }
        return false
    }

    /// Tokens to add to the reservation now, if any: a stream that has used three quarters of what
    /// it holds asks for half as much again (at least 32), ahead of needing it, so the shared
    /// window counts what streams actually use (and other calls, on any replica, see it) and a
    /// hard cap can cut a stream at what it holds. Marks the growth as asked for.
    public mutating func growthWanted() -> Int? {
        guard streaming, !growing, !growthRefused, !growthStopped, !cut, let reservation, !reservation.charges.isEmpty else { return nil }
        guard usedSoFar * 4 >= reservation.tokens * 3 else { return nil }
        growing = true
        // Enough to cover what was already used past the reservation, plus headroom.
        return max(32, reservation.tokens / 2, usedSoFar - reservation.tokens + 32)
    }

    /// The ledger's answer to `growthWanted`: the grown reservation, or nil when refused (the
    /// reservation unchanged: not grown, but not refused either, so the stream goes on ungrown).
    public mutating func grew(_ grown: LedgerReservation?) {
        growing = false
        guard let grown else { growthRefused = true; return }
        if grown.tokens <= reservation?.tokens ?? 0 { growthStopped = true }
        reservation = grown
    }

    /// After the ledger answered a growth: whether a hard cap requires cutting the stream now (it
    /// already used more than it holds and may not grow); marks it cut.
    public mutating func mustCutAfterGrowth() -> Bool {
        guard hardCap, growthRefused, overdrawn, !cut else { return false }
        cut = true
        return true
    }

    /// Whether the stream has used more than it holds while its growth is being asked for: the
    /// caller holds further reads until the answer (so a hard cap cuts at one read's excess).
    public var overdrawn: Bool {
        guard let reservation, !reservation.charges.isEmpty else { return false }
        return streaming && usedSoFar > reservation.tokens
    }

    /// The provider-shaped error event that ends a stream cut at the cap.
    public var cutEvent: String {
        ProviderError.rateLimitEvent(format: call.format, message: cutMessage)
    }

    /// Why the stream was cut, naming what it held.
    public var cutMessage: String {
        let held = reservation.map { String($0.tokens) } ?? "?"
        return "meshgate: token budget reached during the stream (this call could hold \(held) tokens of its budget and used them); the response was cut (ai.budgets enforce: hard)"
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
