import Testing
@testable import MeshgateAI

/// The budget arithmetic every ledger shares, on plain values.
@Suite struct BudgetArithmeticTests {
    static let day = BudgetPeriod(start: 1_795_910_400, end: 1_795_996_800)
    static let month = BudgetPeriod(start: 1_793_491_200, end: 1_796_083_200)

    static func charge(_ team: String, limit: Int, period: BudgetPeriod = day) -> BudgetCharge {
        BudgetCharge(subject: .team(team), window: period == day ? "1d" : "month", period: period, limit: limit)
    }

    @Test(arguments: [(-5, 1), (0, 1), (1, 1), (4096, 4096)])
    func aReservationHoldsAtLeastOneToken(estimate: Int, held: Int) {
        #expect(BudgetArithmetic.reservation(for: estimate) == held)
    }

    /// (tokens, limit, used, reserved, fits, remaining, free)
    @Test(arguments: [
        (10, 100, 0, 0, true, 100, 100),
        (10, 100, 60, 30, true, 10, 10),  // exactly at the cap fits
        (11, 100, 60, 30, false, 10, 10),
        (1, 100, 100, 0, false, 0, 0),
        (1, 50, 60, 30, false, -40, 0),  // a cap lowered on reload below what the row holds
        (0, 0, 0, 0, true, 0, 0),
    ])
    func aRowTakesTokensUpToItsCap(tokens: Int, limit: Int, used: Int, reserved: Int, fits: Bool, remaining: Int, free: Int) {
        let totals = BudgetTotals(used: used, reserved: reserved)
        #expect(BudgetArithmetic.fits(tokens, limit: limit, totals) == fits)
        #expect(BudgetArithmetic.remaining(limit: limit, totals) == remaining)
        #expect(BudgetArithmetic.free(limit: limit, totals) == free)
        #expect(BudgetRefusal(charge: Self.charge("t", limit: limit), requested: tokens, totals: totals).remaining == free)
    }

    /// (limits, each row's used + reserved after the take, the tightest's remaining, whether it is the month's row)
    @Test(arguments: [
        ([100, 1000], [90, 100], 10, false),
        ([100, 1000], [10, 995], 5, true),
        ([100, 1000], [50, 950], 50, false),  // a tie: the first row
        ([100, 1000], [150, 100], -50, false),
    ])
    func theTightestRowNamesTheRemainingAndTheReset(limits: [Int], held: [Int], remaining: Int, monthly: Bool) throws {
        let rows: [BudgetArithmetic.Row] = [
            (Self.charge("a", limit: limits[0]), BudgetTotals(used: held[0], reserved: 0)),
            (Self.charge("b", limit: limits[1], period: Self.month), BudgetTotals(used: 0, reserved: held[1])),
        ]
        let tightest = try #require(BudgetArithmetic.tightest(rows))
        #expect(tightest.remaining == remaining)
        #expect(tightest.resetsAt == (monthly ? Self.month.end : Self.day.end))

        let reservation = LedgerReservation(id: "r", tokens: 7, taken: rows)
        #expect(reservation.charges == rows.map(\.charge))
        #expect(reservation.remaining == remaining && reservation.resetsAt == tightest.resetsAt)
    }

    @Test func noBudgetNoTightestRow() {
        #expect(BudgetArithmetic.tightest([]) == nil)
        let reservation = LedgerReservation(id: "r", tokens: 3, taken: [])
        #expect(reservation == LedgerReservation(id: "r", tokens: 3, charges: [], remaining: nil, resetsAt: nil))
        #expect(reservation.allowance == nil)
    }

    /// (tokens, each row's used, the refused row's index or nil)
    @Test(arguments: [
        (10, [0, 0], nil),
        (10, [95, 0], 0),
        (10, [95, 995], 0),  // the first row that cannot take them
        (10, [0, 995], 1),
        (5, [95, 995], nil),
    ] as [(Int, [Int], Int?)])
    func theFirstRowThatCannotTakeTheTokensRefuses(tokens: Int, used: [Int], refused: Int?) {
        let rows: [BudgetArithmetic.Row] = [
            (Self.charge("a", limit: 100), BudgetTotals(used: used[0], reserved: 0)),
            (Self.charge("b", limit: 1000, period: Self.month), BudgetTotals(used: used[1], reserved: 0)),
        ]
        let refusal = BudgetArithmetic.refusal(of: tokens, on: rows)
        #expect(refusal?.charge == refused.map { rows[$0].charge })
        if let refused {
            #expect(refusal == BudgetRefusal(charge: rows[refused].charge, requested: tokens, used: used[refused], reserved: 0))
        }
    }

    @Test func aGrownReservationHoldsItsNewTotalAndKeepsItsReset() {
        let rows: [BudgetArithmetic.Row] = [
            (Self.charge("a", limit: 100), BudgetTotals(used: 20, reserved: 50)),
            (Self.charge("b", limit: 1000, period: Self.month), BudgetTotals(used: 0, reserved: 990)),
        ]
        let granted = LedgerReservation(id: "r", tokens: 40, charges: rows.map(\.charge), remaining: 40, resetsAt: Self.day.end)
        let grown = granted.grown(to: 50, taken: rows)
        #expect(grown.tokens == 50)
        #expect(grown.remaining == 10, "the month's row is the tightest now")
        #expect(grown.resetsAt == Self.day.end, "the reset it was granted with")
        #expect(grown.id == granted.id && grown.charges == granted.charges)
        #expect(grown.allowance == 60)
    }
}
