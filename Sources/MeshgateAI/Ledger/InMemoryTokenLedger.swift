/// A ledger in memory: for tests and for running without persistence. Same semantics as the
/// database ledgers, lost on exit.
public actor InMemoryTokenLedger: TokenLedger, UsageReportSource {
    private struct Row {
        var used = 0
        var reserved = 0
    }

    private struct Held {
        var reservation: LedgerReservation
        var expiresAt: Int64
        var holder: String?
    }

    private var rows: [BudgetCharge: Row] = [:]
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
        let tokens = max(1, tokens)
        for charge in charges {
            let row = rows[Self.key(charge)] ?? Row()
            if row.used + row.reserved + tokens > charge.limit {
                return .refused(BudgetRefusal(charge: charge, requested: tokens, used: row.used, reserved: row.reserved))
            }
        }
        var tightest: (remaining: Int, resetsAt: Int64)?
        for charge in charges {
            rows[Self.key(charge), default: Row()].reserved += tokens
            let row = rows[Self.key(charge)] ?? Row()
            let remaining = charge.limit - row.used - row.reserved
            if remaining < tightest?.remaining ?? Int.max { tightest = (remaining, charge.period.end) }
        }
        let reservation = LedgerReservation(id: LedgerIDs.make(), tokens: tokens, charges: charges,
                                            remaining: tightest?.remaining, resetsAt: tightest?.resetsAt)
        held[reservation.id] = Held(reservation: reservation, expiresAt: now + lifetime, holder: holder)
        return .reserved(reservation)
    }

    public func grow(_ reservation: LedgerReservation, by tokens: Int, now: Int64) -> ReservationOutcome {
        guard tokens > 0, !reservation.charges.isEmpty else { return .reserved(reservation) }
        guard var entry = held[reservation.id] else { return .refused(.gone(reservation, requested: tokens)) }
        for charge in reservation.charges {
            let row = rows[Self.key(charge)] ?? Row()
            if row.used + row.reserved + tokens > charge.limit {
                return .refused(BudgetRefusal(charge: charge, requested: tokens, used: row.used, reserved: row.reserved))
            }
        }
        var grown = reservation
        grown.tokens = entry.reservation.tokens + tokens
        grown.remaining = nil
        for charge in reservation.charges {
            rows[Self.key(charge), default: Row()].reserved += tokens
            let row = rows[Self.key(charge)] ?? Row()
            grown.remaining = min(grown.remaining ?? Int.max, charge.limit - row.used - row.reserved)
        }
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

    package func windowTotals(_ charges: [BudgetCharge]) -> [BudgetCharge: (used: Int, reserved: Int)] {
        var out: [BudgetCharge: (used: Int, reserved: Int)] = [:]
        for charge in charges {
            if let row = rows[Self.key(charge)] { out[charge] = (row.used, row.reserved) }
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
        for charge in usage.charges { rows[Self.key(charge), default: Row()].used += usage.usage.total }
    }

    private func unreserve(_ reservation: LedgerReservation) {
        for charge in reservation.charges {
            rows[Self.key(charge), default: Row()].reserved -= reservation.tokens
        }
    }

    /// Rows are keyed without the limit, which may change on reload within a window.
    private static func key(_ charge: BudgetCharge) -> BudgetCharge {
        var key = charge
        key.limit = 0
        return key
    }
}
