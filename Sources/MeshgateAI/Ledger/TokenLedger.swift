/// Records token usage against budgets, durably, shared by every request of one node (SQLite) or of
/// many nodes (PostgreSQL).
///
/// A request first `reserve`s its likely cost on every budget that applies: atomically, so either all
/// rows take the reservation or none does, and concurrent reservations can never jointly exceed a cap.
/// When the call ends it is `settle`d to the real usage (or `release`d on error); a stream that
/// outgrows its reservation `grow`s it as it goes, so what is held tracks what is being used.
///
/// Reservations belong to the ledger's `holder` (a meshgate instance), whose lease is renewed by a
/// heartbeat: an instance frees its own reservations when it starts again, and the reservations of
/// an instance whose lease went stale (it crashed, or lost the ledger) are reclaimed by the others.
public protocol TokenLedger: Sendable {
    /// Reserves `tokens` on every charge's row, or refuses naming the first charge that cannot take it.
    /// `now` is Unix seconds. Throws `LedgerUnavailable` when the backend cannot be reached.
    func reserve(_ tokens: Int, charges: [BudgetCharge], now: Int64) async throws -> ReservationOutcome
    /// Replaces the reservation with the usage actually consumed and records it. Settling a
    /// reservation twice charges once (the record's id is the reservation's).
    func settle(_ reservation: LedgerReservation, usage: UsageRecord) async throws
    /// Gives the reservation back without charging anything.
    func release(_ reservation: LedgerReservation) async throws
    /// Records usage that had no reservation (e.g. spooled while the ledger was down). Idempotent per `usage.id`.
    func record(_ usage: UsageRecord) async throws
    /// Adds `tokens` to a reservation in flight on every row it charges, atomically and only if
    /// every cap still takes them: the grown reservation, or the refusal (nothing changed). A
    /// reservation that is no longer held (settled, released, reclaimed) is refused.
    func grow(_ reservation: LedgerReservation, by tokens: Int, now: Int64) async throws -> ReservationOutcome
    /// Gives back reservations that expired before `now`, and those whose holder's lease was last
    /// renewed before `staleBefore` (the holder died); forgets those leases. Returns how many.
    func reclaimAbandoned(now: Int64, staleBefore: Int64) async throws -> Int
    /// Renews this ledger's holder's lease at `now` (its heartbeat); nothing without a holder.
    func renewLease(now: Int64) async throws
    /// Gives back every reservation of this ledger's holder: left by its previous run when called
    /// at start. Returns how many; 0 without a holder.
    func releaseHeld() async throws -> Int
    /// Usage per team and identity in their current windows.
    func report(budgets: [TokenBudget], now: Int64) async throws -> UsageReport
    /// Succeeds when the backend answers (for `/healthz` and for leaving fail-open mode).
    func ping() async throws
    /// Whether the ledger keeps the deadline of ``LedgerDeadline/current`` itself: it stops the
    /// caller's wait when it passes, and gives back a reservation it grants after that.
    var keepsDeadlines: Bool { get }
}

extension TokenLedger {
    public var keepsDeadlines: Bool { false }
}

/// Tokens held for a request in flight.
public struct LedgerReservation: Sendable, Hashable {
    /// Unique id; also the id of the usage record it settles into.
    public var id: String
    /// Tokens held on each charge's row.
    public var tokens: Int
    /// The rows charged.
    public var charges: [BudgetCharge]
    /// Tokens still free on the tightest row after this reservation; nil with no budget
    /// (for `X-Meshgate-Budget-Remaining`).
    public var remaining: Int?
    /// When the tightest row's window resets, Unix seconds; nil with no budget.
    public var resetsAt: Int64?

    /// Tokens this call may consume before some cap is crossed (`enforce: hard` cuts the stream
    /// there): its own reservation plus what was still free when it was made; nil with no budget.
    public var allowance: Int? { remaining.map { tokens + max(0, $0) } }

    /// Creates a reservation.
    public init(id: String, tokens: Int, charges: [BudgetCharge], remaining: Int?, resetsAt: Int64?) {
        self.id = id
        self.tokens = tokens
        self.charges = charges
        self.remaining = remaining
        self.resetsAt = resetsAt
    }
}

/// What `reserve` decided.
public enum ReservationOutcome: Sendable, Hashable {
    /// The tokens are held.
    case reserved(LedgerReservation)
    /// A cap would be exceeded; nothing is held.
    case refused(BudgetRefusal)
}

/// Why a reservation was refused: the first row that could not take it.
public struct BudgetRefusal: Sendable, Hashable, Error, CustomStringConvertible {
    /// The row.
    public var charge: BudgetCharge
    /// Tokens requested.
    public var requested: Int
    /// Tokens settled in the window.
    public var used: Int
    /// Tokens held by requests in flight.
    public var reserved: Int

    /// Creates a refusal.
    public init(charge: BudgetCharge, requested: Int, used: Int, reserved: Int) {
        self.charge = charge
        self.requested = requested
        self.used = used
        self.reserved = reserved
    }

    /// Tokens still free in the window.
    public var remaining: Int { BudgetArithmetic.free(limit: charge.limit, BudgetTotals(used: used, reserved: reserved)) }

    /// Seconds until the window resets, at least 1 (`Retry-After`).
    public func retryAfterSeconds(now: Double) -> Int64 { charge.period.retryAfterSeconds(now: now) }

    /// Names the budget, the amounts and the reset time, for logs and error bodies.
    public var description: String {
        "\(charge.subject.kind) '\(charge.subject.name)' token budget exhausted: \(used) used + \(reserved) in flight"
            + " + \(requested) requested > \(charge.limit) per \(charge.window); resets at \(charge.period.resetsAtText)"
    }
}

/// One LLM call's usage, as the ledger stores it.
public struct UsageRecord: Sendable, Hashable {
    /// Unique id (the reservation's id when there was one); recording the same id twice is a no-op.
    public var id: String
    /// When the call ended, Unix milliseconds.
    public var timestampMilliseconds: Int64
    /// The caller's identity, when known.
    public var identity: String?
    /// The caller's team, when known.
    public var team: String?
    /// The provider's name.
    public var provider: String
    /// The model.
    public var model: String
    /// The tokens consumed.
    public var usage: TokenUsage
    /// The budget rows charged (the reservation's, so a call is billed to the window it started in).
    public var charges: [BudgetCharge]

    /// Creates a record.
    public init(id: String, timestampMilliseconds: Int64, identity: String?, team: String?, provider: String,
                model: String, usage: TokenUsage, charges: [BudgetCharge]) {
        self.id = id
        self.timestampMilliseconds = timestampMilliseconds
        self.identity = identity
        self.team = team
        self.provider = provider
        self.model = model
        self.usage = usage
        self.charges = charges
    }
}

extension UsageRecord {
    /// This record as the settlement of `reservation`: its id and its charges (so a call is billed
    /// to the window it started in, and settling twice is recognised).
    package func settling(_ reservation: LedgerReservation) -> UsageRecord {
        var record = self
        record.id = reservation.id
        record.charges = reservation.charges
        return record
    }
}

/// The ledger's backend cannot be reached or written: the caller applies `ai.ledger_unavailable`.
public struct LedgerUnavailable: Error, Sendable, CustomStringConvertible {
    /// `sqlite` or `postgres`.
    public var backend: String
    /// What failed.
    public var reason: String

    /// Creates the error.
    public init(backend: String, reason: String) {
        self.backend = backend
        self.reason = reason
    }

    /// A one-line cause with a hint.
    public var description: String {
        "token ledger (\(backend)) unavailable: \(reason); check ai.ledger, or set ai.ledger_unavailable: fail_open to serve and spool usage"
    }
}

/// How long a reservation lives before it is presumed abandoned whatever its holder's lease says
/// (a long stream settles within it); leases normally free a dead holder's reservations long before.
public let defaultReservationLifetimeSeconds: Int64 = 3600

/// When a refusal is about a reservation that is no longer held, rather than a cap.
extension BudgetRefusal {
    /// A refusal for growing `reservation` (which charges at least one row) when it is no longer held.
    package static func gone(_ reservation: LedgerReservation, requested: Int) -> BudgetRefusal {
        BudgetRefusal(charge: reservation.charges[0], requested: requested, used: 0, reserved: 0)
    }
}
