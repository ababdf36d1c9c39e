import MeshgateAI
import NIOConcurrencyHelpers

/// A ledger that is opened on first use and re-tried until it opens: what `serve` runs on when the
/// configured ledger could not be opened at start (a PostgreSQL server still booting, an unwritable
/// SQLite directory), so the gateway starts anyway and applies `ai.ledger_unavailable` until it can.
///
/// Until the opener succeeds every operation throws `LedgerUnavailable`; at most one attempt runs at
/// a time and failed attempts are spaced by `retryInterval`, so a dead database is not hammered by
/// every request. Once open, calls go straight to the opened ledger.
public final class DeferredTokenLedger: TokenLedger {
    /// Opens (connects, migrates) the real ledger.
    public typealias Opener = @Sendable () async throws -> any TokenLedger

    private enum State {
        case closed(lastError: String?, lastAttempt: ContinuousClock.Instant?)
        case opening(lastError: String?)
        case open(any TokenLedger)
    }

    /// `sqlite` or `postgres`.
    public let backend: String
    private let opener: Opener
    private let retryInterval: Duration
    private let state = NIOLockedValueBox(State.closed(lastError: nil, lastAttempt: nil))

    /// Creates the ledger; nothing is opened until the first operation or `open()`.
    public init(backend: String, retryInterval: Duration = .seconds(2), opener: @escaping Opener) {
        self.backend = backend
        self.retryInterval = retryInterval
        self.opener = opener
    }

    /// Whether the real ledger has been opened.
    public var isOpen: Bool {
        state.withLockedValue { if case .open = $0 { true } else { false } }
    }

    /// The opened ledger, opening it now if no attempt is running and the last failure is older
    /// than the retry interval. Throws `LedgerUnavailable` otherwise.
    @discardableResult
    public func open() async throws -> any TokenLedger {
        let now = ContinuousClock.now
        enum Next { case use(any TokenLedger), attempt, refuse(String?) }
        let next: Next = state.withLockedValue { state in
            switch state {
            case .open(let ledger):
                return .use(ledger)
            case .opening(let lastError):
                return .refuse(lastError)
            case .closed(let lastError, let lastAttempt):
                if let lastAttempt, now - lastAttempt < retryInterval { return .refuse(lastError) }
                state = .opening(lastError: lastError)
                return .attempt
            }
        }
        switch next {
        case .use(let ledger):
            return ledger
        case .refuse(let lastError):
            throw LedgerUnavailable(backend: backend, reason: lastError ?? "not opened yet")
        case .attempt:
            do {
                let ledger = try await opener()
                state.withLockedValue { $0 = .open(ledger) }
                return ledger
            } catch {
                let reason = (error as? LedgerUnavailable)?.reason ?? "\(error)"
                state.withLockedValue { $0 = .closed(lastError: reason, lastAttempt: ContinuousClock.now) }
                throw LedgerUnavailable(backend: backend, reason: reason)
            }
        }
    }

    public func reserve(_ tokens: Int, charges: [BudgetCharge], now: Int64) async throws -> ReservationOutcome {
        try await open().reserve(tokens, charges: charges, now: now)
    }

    public func settle(_ reservation: LedgerReservation, usage: UsageRecord) async throws {
        try await open().settle(reservation, usage: usage)
    }

    public func release(_ reservation: LedgerReservation) async throws {
        try await open().release(reservation)
    }

    public func record(_ usage: UsageRecord) async throws {
        try await open().record(usage)
    }

    public func grow(_ reservation: LedgerReservation, by tokens: Int, now: Int64) async throws -> ReservationOutcome {
        try await open().grow(reservation, by: tokens, now: now)
    }

    public func reclaimAbandoned(now: Int64, staleBefore: Int64) async throws -> Int {
        try await open().reclaimAbandoned(now: now, staleBefore: staleBefore)
    }

    public func renewLease(now: Int64) async throws {
        try await open().renewLease(now: now)
    }

    public func releaseHeld() async throws -> Int {
        try await open().releaseHeld()
    }

    public func report(budgets: [TokenBudget], now: Int64) async throws -> UsageReport {
        try await open().report(budgets: budgets, now: now)
    }

    public func ping() async throws {
        try await open().ping()
    }
}
