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
    }

    private var rows: [BudgetCharge: Row] = [:]
    private var held: [String: Held] = [:]
    private var records: [String: UsageRecord] = [:]
    private var order: [String] = []
    private let lifetime: Int64

    /// Creates an empty ledger whose reservations expire after `reservationLifetimeSeconds`.
    public init(reservationLifetimeSeconds: Int64 = defaultReservationLifetimeSeconds) {
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
        held[reservation.id] = Held(reservation: reservation, expiresAt: now + lifetime)
        return .reserved(reservation)
    }

    public func settle(_ reservation: LedgerReservation, usage: UsageRecord) {
        let usage = usage.settling(reservation)
        guard records[usage.id] == nil else { return }
        if held.removeValue(forKey: reservation.id) != nil { unreserve(reservation) }
        apply(usage)
    }

    public func release(_ reservation: LedgerReservation) {
        if held.removeValue(forKey: reservation.id) != nil { unreserve(reservation) }
    }

    public func record(_ usage: UsageRecord) {
        guard records[usage.id] == nil else { return }
        apply(usage)
    }

    public func reclaimExpired(now: Int64) -> Int {
        let expired = held.values.filter { $0.expiresAt <= now }
        for entry in expired {
            held.removeValue(forKey: entry.reservation.id)
            unreserve(entry.reservation)
        }
        return expired.count
    }

    public func ping() {}

    public func report(budgets: [TokenBudget], now: Int64) async throws -> UsageReport {
        try await buildReport(budgets: budgets, now: now)
    }

    func windowTotals(_ charges: [BudgetCharge]) -> [BudgetCharge: (used: Int, reserved: Int)] {
        var out: [BudgetCharge: (used: Int, reserved: Int)] = [:]
        for charge in charges {
            if let row = rows[Self.key(charge)] { out[charge] = (row.used, row.reserved) }
        }
        return out
    }

    func usageByIdentity(sinceMilliseconds: Int64) -> [(identity: String?, team: String?, used: Int)] {
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
