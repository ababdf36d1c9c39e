import Foundation
import MeshgateCore

/// The AI gateway's request path, shared by every proxy connection: which requests are LLM calls,
/// where the `ai` listener routes a model, and the ledger calls around each call (reserve before it
/// starts, settle or release when it ends) with `ai.ledger_unavailable` applied.
///
/// The per-call bookkeeping lives in ``MeteredCall``; this type only talks to the ledger, so a
/// proxy connection never blocks on it (every ledger call is `async`).
public final class AIGateway: Sendable {
    /// Recognises LLM calls by host and path (well-known providers plus the configured ones).
    public let recognizer: LLMCallRecognizer
    /// Token caps, as the ledger sees them.
    public let budgets: [TokenBudget]
    /// Output tokens reserved for a call that sets no `max_tokens` (`ai.default_max_tokens`),
    /// fitted down to what the budget has left.
    public let defaultMaxOutputTokens: Int
    /// How long a ledger call on the request path may take before it counts as a failure and
    /// opens the breaker (`ai.ledger_timeout`).
    public let ledgerTimeout: Duration
    /// Whether calls proceed (and usage is spooled) while the ledger is unreachable.
    public let failOpen: Bool
    /// Token counters and budget gauges.
    public let metrics: AIMetrics
    /// Model routes for the `ai` listener.
    public let routes: AIRoutes
    /// How long the `ai` listener waits for a provider's response head before the next candidate.
    public let requestTimeout: Duration
    /// The largest provider answer held whole for translation (`ai.max_response_bytes`).
    public let maxResponseBytes: Int
    private let ledger: any TokenLedger
    private let spool: (any UsageSpoolSink)?
    private let health: LedgerHealth?
    private let clock: @Sendable () -> Double

    /// Creates the gateway. `health` hears every ledger failure and success (for `/healthz`) and
    /// is the circuit breaker: while it says the ledger is down, calls are decided without asking
    /// the ledger (whoever owns `health` must probe the ledger to close it again; without
    /// `health` there is no breaker, only the deadline). `clock` is Unix seconds.
    public init(recognizer: LLMCallRecognizer, budgets: [TokenBudget], routes: AIRoutes = AIRoutes(),
                ledger: any TokenLedger, spool: (any UsageSpoolSink)?, failOpen: Bool,
                defaultMaxOutputTokens: Int = 4096, metrics: AIMetrics = AIMetrics(),
                health: LedgerHealth? = nil, requestTimeout: Duration = .seconds(120), maxResponseBytes: Int = 32 << 20,
                ledgerTimeout: Duration = LedgerDeadline.defaultTimeout,
                clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.recognizer = recognizer
        self.budgets = budgets
        self.routes = routes
        self.ledger = ledger
        self.spool = spool
        self.failOpen = failOpen
        self.defaultMaxOutputTokens = defaultMaxOutputTokens
        self.metrics = metrics
        self.health = health
        self.requestTimeout = requestTimeout
        self.ledgerTimeout = ledgerTimeout
        self.maxResponseBytes = maxResponseBytes
        self.clock = clock
    }

    /// What `admit` decided for a call about to start.
    public enum Admission: Sendable {
        /// Go ahead; the reservation is nil when no budget applies or the ledger is down in fail-open
        /// mode. Its `tokens` are what was held, fitted to the budget for a call without `max_tokens`.
        case admitted(LedgerReservation?)
        /// A cap would be exceeded: answer 429.
        case refused(BudgetRefusal)
        /// The call cannot fit a cap even in an empty window: answer 413.
        case tooLarge(OversizedRequest)
        /// The ledger is unreachable and `ai.ledger_unavailable` is `fail_closed`: answer 503.
        case unavailable(String)
    }

    /// Whether any budget caps `identity`'s calls with `enforce: hard`.
    public func hardCap(for identity: Identity?) -> Bool {
        budgets.contains { $0.hardEnforcement && $0.applies(identity: identity?.name, team: identity?.team) }
    }

    /// Reserves what a call whose body reads as `facts` needs on every budget that applies to
    /// `identity`: its input estimate plus its `max_tokens`, or plus `defaultMaxOutputTokens`
    /// fitted to the remaining budget when it set none.
    public func admit(facts: LLMRequestFacts, endpoint: LLMEndpoint, identity: Identity?) async -> Admission {
        await admit(reservationRequest(facts: facts, endpoint: endpoint, identity: identity), identity: identity)
    }

    /// What a call whose body reads as `facts` asks the ledger to hold for `identity`.
    public func reservationRequest(facts: LLMRequestFacts, endpoint: LLMEndpoint, identity: Identity?) -> ReservationRequest {
        ReservationRequest(facts: facts, endpoint: endpoint, defaultOutputTokens: defaultMaxOutputTokens, hardCap: hardCap(for: identity))
    }

    /// The output cap to write into a hard-capped call that set none: the output part of its
    /// reservation, so the provider stops where the budget does (nil when no cap is needed).
    public func injectedOutputCap(facts: LLMRequestFacts, endpoint: LLMEndpoint, identity: Identity?,
                                  reservation: LedgerReservation?) -> Int? {
        guard let reservation, hardCap(for: identity), facts.maxOutputTokens == nil, endpoint != .embeddings else { return nil }
        let request = reservationRequest(facts: facts, endpoint: endpoint, identity: identity)
        return max(1, reservation.tokens - request.inputTokens)
    }

    /// Reserves exactly `tokens` on every budget that applies to `identity`, atomically.
    public func admit(tokens: Int, identity: Identity?) async -> Admission {
        await admit(ReservationRequest(inputTokens: tokens, outputTokens: 0, fitted: false), identity: identity)
    }

    /// Reserves `request` on every budget that applies to `identity`, atomically.
    ///
    /// Decided without the ledger: a call that cannot fit some cap at all (`tooLarge`), and any
    /// call while the breaker is open (`ai.ledger_unavailable`). A fitted request refused in full
    /// is asked again for what the refusal says is left, while that still holds its minimum
    /// (so a refusal costs at most three round trips; an admission usually one).
    public func admit(_ request: ReservationRequest, identity: Identity?) async -> Admission {
        let now = Int64(clock())
        let charges = TokenBudget.charges(budgets, for: identity, at: now)
        guard !charges.isEmpty else { return .admitted(nil) }
        if let tightest = charges.min(by: { $0.limit < $1.limit }), request.minimumTokens > tightest.limit {
            let oversized = OversizedRequest(charge: tightest, request: request)
            metrics.record(BudgetRefusal(charge: tightest, requested: request.minimumTokens, used: 0, reserved: 0))
            return .tooLarge(oversized)
        }
        if let health, let problem = health.problem {
            // The breaker is open: the ledger monitor closes it when the ledger answers again.
            return failOpen ? .admitted(nil) : .unavailable(problem)
        }
        let generation = health?.generation
        // A cap smaller than the default is known without asking the ledger.
        var tokens = request.tokens
        if request.fitted, let tightest = charges.map(\.limit).min() { tokens = min(tokens, tightest) }
        do {
            var attempt = 0
            while true {
                attempt += 1
                let outcome = try await reserve(tokens, charges: charges, now: now)
                health?.markAvailable()
                switch outcome {
                case .reserved(let reservation):
                    if let remaining = reservation.remaining {
                        for charge in reservation.charges { metrics.record(remaining: remaining, for: charge) }
                    }
                    return .admitted(reservation)
                case .refused(var refusal):
                    let left = refusal.remaining
                    if request.fitted, attempt < 3, left >= request.minimumTokens, left < tokens {
                        tokens = left
                        continue
                    }
                    if request.fitted { refusal.requested = min(refusal.requested, request.minimumTokens) }
                    metrics.record(refusal)
                    return .refused(refusal)
                }
            }
        } catch {
            health?.markUnavailable(error, generation: generation)
            if failOpen { return .admitted(nil) }
            return .unavailable(health?.problem ?? "\(error)")
        }
    }

    /// One reservation within the ledger deadline; one granted after the deadline is given back.
    private func reserve(_ tokens: Int, charges: [BudgetCharge], now: Int64) async throws -> ReservationOutcome {
        let ledger = ledger
        return try await LedgerDeadline.run(within: ledgerTimeout, backend: backend, keptByLedger: ledger.keepsDeadlines) {
            try await ledger.reserve(tokens, charges: charges, now: now)
        } late: { outcome in
            if case .reserved(let reservation) = outcome { try? await ledger.release(reservation) }
        }
    }

    /// The backend's name for errors (`sqlite`, `postgres`).
    private var backend: String { health?.backend ?? "ledger" }

    /// Charges a finished call: settles its reservation to `usage` (or records it without one), and
    /// spools the record when the ledger cannot take it, so usage the provider billed is never lost.
    /// While the breaker is open the record goes straight to the spool, which the ledger monitor
    /// replays once the ledger is back; a settle that misses the deadline is spooled too (replaying
    /// a record the ledger did take late is a no-op: records are kept once per id).
    public func settle(_ reservation: LedgerReservation?, call: LLMCall, model: String, usage: TokenUsage,
                       identity: Identity?) async {
        let now = clock()
        var record = UsageRecord(id: reservation?.id ?? LedgerIDs.make(), timestampMilliseconds: Int64(now * 1000),
                                 identity: identity?.name, team: identity?.team, provider: call.provider,
                                 model: model, usage: usage,
                                 charges: reservation?.charges ?? TokenBudget.charges(budgets, for: identity, at: Int64(now)))
        if let reservation { record = record.settling(reservation) }
        metrics.record(usage, team: identity?.team, provider: call.provider, model: model)
        if let health, !health.isAvailable, let spool {
            if (try? await spool.append(record)) != nil { health.noteSpooled() }
            return
        }
        let generation = health?.generation
        let ledger = ledger
        do {
            try await LedgerDeadline.run(within: ledgerTimeout, backend: backend, keptByLedger: ledger.keepsDeadlines) { [record] in
                if let reservation {
                    try await ledger.settle(reservation, usage: record)
                } else {
                    try await ledger.record(record)
                }
            }
            health?.markAvailable()
        } catch {
            health?.markUnavailable(error, generation: generation)
            // The provider billed this call, so it is kept for the ledger's return when possible.
            if let spool, (try? await spool.append(record)) != nil { health?.noteSpooled() }
        }
    }

    /// Grows a stream's reservation by `tokens` on every budget it charges, or by what is left
    /// when less is: the grown reservation, nil when the budget has nothing left for it. While the
    /// ledger is down the reservation comes back unchanged under `fail_open` (the stream goes on,
    /// as the call was admitted) and nil under `fail_closed` (a hard cap cannot be kept).
    public func grow(_ reservation: LedgerReservation, by tokens: Int) async -> LedgerReservation? {
        if let health, health.problem != nil { return failOpen ? reservation : nil }
        let generation = health?.generation
        let ledger = ledger, now = Int64(clock())
        do {
            var asked = tokens
            for _ in 0..<2 {
                // A growth granted after the deadline stays held until the call settles, which
                // gives back whatever the reservation holds by then.
                let outcome = try await LedgerDeadline.run(within: ledgerTimeout, backend: backend, keptByLedger: ledger.keepsDeadlines) { [asked] in
                    try await ledger.grow(reservation, by: asked, now: now)
                }
                health?.markAvailable()
                switch outcome {
                case .reserved(let grown):
                    if let remaining = grown.remaining {
                        for charge in grown.charges { metrics.record(remaining: remaining, for: charge) }
                    }
                    return grown
                case .refused(let refusal):
                    guard refusal.remaining > 0, refusal.remaining < asked else { return nil }
                    asked = refusal.remaining
                }
            }
            return nil
        } catch {
            health?.markUnavailable(error, generation: generation)
            return failOpen ? reservation : nil
        }
    }

    /// Gives a reservation back (the call failed before the provider produced anything). Tried
    /// even while the breaker is open (nobody waits for it); one that fails expires on its own.
    public func release(_ reservation: LedgerReservation?) async {
        guard let reservation else { return }
        let generation = health?.generation
        let ledger = ledger
        do {
            try await LedgerDeadline.run(within: ledgerTimeout, backend: backend, keptByLedger: ledger.keepsDeadlines) { try await ledger.release(reservation) }
        } catch {
            // An unreleased reservation expires on its own (LedgerMaintenance reclaims it).
            health?.markUnavailable(error, generation: generation)
        }
    }
}
