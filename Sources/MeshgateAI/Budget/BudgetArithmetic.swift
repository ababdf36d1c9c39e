/// The arithmetic on budget rows, once for every ledger backend.
///
/// The in-memory ledger does all of it here. The database ledgers take tokens atomically in SQL
/// (`used + reserved + n <= limit`, re-checked on the locked row: the condition of `fits`), so
/// that nodes sharing a database cannot jointly pass a cap, and hand the rows' totals back here
/// for what follows from them.
package enum BudgetArithmetic {
    /// A charge with its row's totals.
    package typealias Row = (charge: BudgetCharge, totals: BudgetTotals)

    /// The tokens a reservation for `estimate` holds: at least one, so that every admitted call
    /// under a budget holds something on its rows until it settles.
    package static func reservation(for estimate: Int) -> Int {
        max(1, estimate)
    }

    /// Whether a row at `totals` takes `tokens` more under `limit`.
    package static func fits(_ tokens: Int, limit: Int, _ totals: BudgetTotals) -> Bool {
        totals.used + totals.reserved + tokens <= limit
    }

    /// Tokens left under `limit` on a row at `totals`: negative when a cap lowered on reload is
    /// already exceeded (for the tightest row of a reservation, which reports it as it is).
    package static func remaining(limit: Int, _ totals: BudgetTotals) -> Int {
        limit - totals.used - totals.reserved
    }

    /// What new requests can still reserve on a row at `totals`: `remaining`, never below 0 (for
    /// refusals and reports).
    package static func free(limit: Int, _ totals: BudgetTotals) -> Int {
        max(0, remaining(limit: limit, totals))
    }

    /// The first of `rows` that cannot take `tokens` more, as the refusal naming it; nil when every
    /// row takes them.
    package static func refusal(of tokens: Int, on rows: [Row]) -> BudgetRefusal? {
        guard let row = rows.first(where: { !fits(tokens, limit: $0.charge.limit, $0.totals) }) else { return nil }
        return BudgetRefusal(charge: row.charge, requested: tokens, totals: row.totals)
    }

    /// The tightest of `rows` (each with its totals after the take): what it has left and when its
    /// window resets. The first of equals wins; nil without rows (no budget applies).
    package static func tightest(_ rows: [Row]) -> (remaining: Int, resetsAt: Int64)? {
        var tightest: (remaining: Int, resetsAt: Int64)?
        for row in rows {
            let left = remaining(limit: row.charge.limit, row.totals)
            if left < tightest?.remaining ?? Int.max { tightest = (left, row.charge.period.end) }
        }
        return tightest
    }
}

extension LedgerReservation {
    /// A reservation of `tokens` on the charges of `rows`, each with its row's totals after the
    /// take: `remaining` and `resetsAt` are the tightest row's.
    package init(id: String, tokens: Int, taken rows: [BudgetArithmetic.Row]) {
        let tightest = BudgetArithmetic.tightest(rows)
        self.init(id: id, tokens: tokens, charges: rows.map(\.charge), remaining: tightest?.remaining, resetsAt: tightest?.resetsAt)
    }

    /// This reservation grown to hold `tokens` in all, its rows at `rows`' totals after the growth:
    /// `remaining` is the tightest row's now, `resetsAt` stays the one it was granted with.
    package func grown(to tokens: Int, taken rows: [BudgetArithmetic.Row]) -> LedgerReservation {
        var grown = self
        grown.tokens = tokens
        grown.remaining = BudgetArithmetic.tightest(rows)?.remaining
        return grown
    }
}

extension BudgetRefusal {
    /// The refusal of `requested` tokens on `charge`, whose row is at `totals`.
    package init(charge: BudgetCharge, requested: Int, totals: BudgetTotals) {
        self.init(charge: charge, requested: requested, used: totals.used, reserved: totals.reserved)
    }
}
