/// A ledger in memory: for tests and for running without persistence. Same semantics as the
/// database ledgers, lost on exit.
public actor InMemoryTokenLedger: TokenLedger, UsageReportSource {
    private struct Held {
        var reservation: LedgerReservation
        var expiresAt: Int64
        var holder: String?
    }

    private var rows: [BudgetCharge: BudgetTotals] = [:]
    private var held: [String: Held] = [:]
    private var records: [String: UsageRecord] = [:]
    private var order: [String] = []
    private var leases: [String: Int64] = [:]
    private let lifetime: Int64
    /// The instance whose reservations these are; nil: none.
    public let holder: String?

    /// Creates an empty ledger whose reservations, held by `holder`, expire after `reservationLifetimeSeconds`.
    public init(holder: String? = nil, reservationLifetimeSeconds: Int64 = defaultReservationLifetimeSeconds) {
        self.holder = holder
        lifetime = reservationLifetimeSeconds
    }

    /// Every record, in the order recorded (tests).
    public var allRecords: [UsageRecord] { order.compactMap { records[$0] } }

    public func reserve(_ tokens: Int, charges: [BudgetCharge], now: Int64) -> ReservationOutcome {
        let tokens = BudgetArithmetic.reservation(for: tokens)
        if let refusal = BudgetArithmetic.refusal(of: tokens, on: charges.map { ($0, totals($0)) }) { return .refused(refusal) }
        let reservation = LedgerReservation(id: LedgerIDs.make(), tokens: tokens, taken: take(tokens, on: charges))
        held[reservation.id] = Held(reservation: reservation, expiresAt: now + lifetime, holder: holder)
        return .reserved(reservation)
    }

    public func grow(_ reservation: LedgerReservation, by tokens: Int, now: Int64) -> ReservationOutcome {
        guard tokens > 0, !reservation.charges.isEmpty else { return .reserved(reservation) }
        guard var entry = held[reservation.id] else { return .refused(.gone(reservation, requested: tokens)) }
        if let refusal = BudgetArithmetic.refusal(of: tokens, on: reservation.charges.map { ($0, totals($0)) }) {
            return .refused(refusal)
        }
        let grown = reservation.grown(to: entry.reservation.tokens + tokens, taken: take(tokens, on: reservation.charges))
        entry.reservation.tokens = grown.tokens
        held[reservation.id] = entry
        return .reserved(grown)
    }

    public func settle(_ reservation: LedgerReservation, usage: UsageRecord) {
        let usage = usage.settling(reservation)
        guard records[usage.id] == nil else { return }
        if let entry = held.removeValue(forKey: reservation.id) { unreserve(entry.reservation) }
        apply(usage)
    }

    public func release(_ reservation: LedgerReservation) {
        if let entry = held.removeValue(forKey: reservation.id) { unreserve(entry.reservation) }
    }

    public func record(_ usage: UsageRecord) {
        guard records[usage.id] == nil else { return }
        apply(usage)
    }

    public func reclaimAbandoned(now: Int64, staleBefore: Int64) -> Int {
        let live = Set(leases.filter { $0.value >= staleBefore }.keys)
        let abandoned = held.values.filter { entry in
            if entry.expiresAt <= now { return true }
            guard let owner = entry.holder, owner != holder else { return false }
            return !live.contains(owner)
        }
        for entry in abandoned {
            held.removeValue(forKey: entry.reservation.id)
            unreserve(entry.reservation)
        }
        leases = leases.filter { $0.value >= staleBefore || $0.key == holder }
        return abandoned.count
    }

    public func renewLease(now: Int64) {
        if let holder { leases[holder] = now }
    }

    public func releaseHeld() -> Int {
        guard let holder else { return 0 }
        let own = held.values.filter { $0.holder == holder }
        for entry in own {
            held.removeValue(forKey: entry.reservation.id)
            unreserve(entry.reservation)
        }
        return own.count
    }

    public func ping() {}

    public func report(budgets: [TokenBudget], now: Int64) async throws -> UsageReport {
        try await buildReport(budgets: budgets, now: now)
    }

    package func windowTotals(_ charges: [BudgetCharge]) -> [BudgetCharge: BudgetTotals] {
        var out: [BudgetCharge: BudgetTotals] = [:]
        for charge in charges {
            if let row = rows[Self.key(charge)] { out[charge] = row }
        }
        return out
    }

    package func usageByIdentity(sinceMilliseconds: Int64) -> [(identity: String?, team: String?, used: Int)] {
        var sums: [String: (identity: String?, team: String?, used: Int)] = [:]
        for record in records.values where record.timestampMilliseconds >= sinceMilliseconds {
            let key = (record.identity ?? "\u{0}") + "\u{1}" + (record.team ?? "\u{0}")
            sums[key, default: (record.identity, record.team, 0)].used += record.usage.total
        }
        return Array(sums.values)
    }

    private func apply(_ usage: UsageRecord) {
        records[usage.id] = usage
        order.append(usage.id)
        for charge in usage.charges { rows[Self.key(charge), default: BudgetTotals()].used += usage.usage.total }
    }

    private func unreserve(_ reservation: LedgerReservation) {
        for charge in reservation.charges {
            rows[Self.key(charge), default: BudgetTotals()].reserved -= reservation.tokens
        }
    }

    private func totals(_ charge: BudgetCharge) -> BudgetTotals {
        rows[Self.key(charge)] ?? BudgetTotals()
    }

    /// Adds `tokens` to each charge's row, in order; returns each row's totals right after its take
    /// (as the database ledgers' `RETURNING` does).
    private func take(_ tokens: Int, on charges: [BudgetCharge]) -> [BudgetArithmetic.Row] {
        charges.map { charge in
            rows[Self.key(charge), default: BudgetTotals()].reserved += tokens
            return (charge, totals(charge))
        }
    }

    /// Rows are keyed without the limit, which may change on reload within a window.
    private static func key(_ charge: BudgetCharge) -> BudgetCharge {
        var key = charge
        key.limit = 0
        return key
    }
}
