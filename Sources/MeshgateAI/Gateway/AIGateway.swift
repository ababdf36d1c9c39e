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
    /// Output tokens reserved for a call that sets no `max_tokens`.
    public let defaultMaxOutputTokens: Int
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
    private let spool: UsageSpool?
    private let health: LedgerHealth?
    private let clock: @Sendable () -> Double

    /// Creates the gateway. `health` hears every ledger failure and success (for `/healthz`);
    /// `clock` is Unix seconds.
    public init(recognizer: LLMCallRecognizer, budgets: [TokenBudget], routes: AIRoutes = AIRoutes(),
                ledger: any TokenLedger, spool: UsageSpool?, failOpen: Bool,
                defaultMaxOutputTokens: Int = 4096, metrics: AIMetrics = AIMetrics(),
                health: LedgerHealth? = nil, requestTimeout: Duration = .seconds(120), maxResponseBytes: Int = 32 << 20,
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
        self.maxResponseBytes = maxResponseBytes
        self.clock = clock
    }

    /// What `admit` decided for a call about to start.
    public enum Admission: Sendable {
        /// Go ahead; the reservation is nil when no budget applies or the ledger is down in fail-open mode.
        case admitted(LedgerReservation?)
        /// A cap would be exceeded: answer 429.
        case refused(BudgetRefusal)
        /// The ledger is unreachable and `ai.ledger_unavailable` is `fail_closed`: answer 503.
        case unavailable(String)
    }

    /// Whether any budget caps `identity`'s calls with `enforce: hard`.
    public func hardCap(for identity: Identity?) -> Bool {
        budgets.contains { $0.hardEnforcement && $0.applies(identity: identity?.name, team: identity?.team) }
    }

    /// Reserves `tokens` on every budget that applies to `identity`, atomically.
    public func admit(tokens: Int, identity: Identity?) async -> Admission {
        let now = Int64(clock())
        let charges = TokenBudget.charges(budgets, for: identity, at: now)
        guard !charges.isEmpty else { return .admitted(nil) }
        do {
            let outcome = try await ledger.reserve(tokens, charges: charges, now: now)
            health?.markAvailable()
            switch outcome {
            case .reserved(let reservation):
                for charge in reservation.charges where reservation.remaining != nil {
                    metrics.record(remaining: reservation.remaining ?? 0, for: charge)
                }
                return .admitted(reservation)
            case .refused(let refusal):
                metrics.record(refusal)
                return .refused(refusal)
            }
        } catch {
            health?.markUnavailable(error)
            if failOpen { return .admitted(nil) }
            return .unavailable("\(error)")
        }
    }

    /// Charges a finished call: settles its reservation to `usage` (or records it without one), and
    /// spools the record when the ledger cannot take it, so usage the provider billed is never lost.
    public func settle(_ reservation: LedgerReservation?, call: LLMCall, model: String, usage: TokenUsage,
                       identity: Identity?) async {
        let now = clock()
        var record = UsageRecord(id: reservation?.id ?? LedgerIDs.make(), timestampMilliseconds: Int64(now * 1000),
                                 identity: identity?.name, team: identity?.team, provider: call.provider,
                                 model: model, usage: usage,
                                 charges: reservation?.charges ?? TokenBudget.charges(budgets, for: identity, at: Int64(now)))
        metrics.record(usage, team: identity?.team, provider: call.provider, model: model)
        do {
            if let reservation {
                record = record.settling(reservation)
                try await ledger.settle(reservation, usage: record)
            } else {
                try await ledger.record(record)
            }
            health?.markAvailable()
        } catch {
            health?.markUnavailable(error)
            // The provider billed this call, so it is kept for the ledger's return when possible.
            if let spool, (try? await spool.append(record)) != nil { health?.noteSpooled() }
        }
    }

    /// Gives a reservation back (the call failed before the provider produced anything).
    public func release(_ reservation: LedgerReservation?) async {
        guard let reservation else { return }
        do {
            try await ledger.release(reservation)
        } catch {
            // An unreleased reservation expires on its own (LedgerMaintenance reclaims it).
            health?.markUnavailable(error)
        }
    }
}
