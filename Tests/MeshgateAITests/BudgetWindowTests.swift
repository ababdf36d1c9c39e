import MeshgateCore
import Testing
@testable import MeshgateAI

@Suite struct BudgetWindowTests {
    /// Unix seconds of a UTC date-time.
    static func at(_ y: Int64, _ m: Int64, _ d: Int64, _ h: Int64 = 0, _ min: Int64 = 0, _ s: Int64 = 0) -> Int64 {
        CivilDate.day(year: y, month: m, day: d) * 86_400 + h * 3600 + min * 60 + s
    }

    @Test func civilDatesRoundTrip() {
        #expect(Self.at(1970, 1, 1) == 0)
        #expect(Self.at(2000, 3, 1) == 951_868_800)
        #expect(Self.at(2026, 11, 29, 13, 40, 50) == 1_795_959_650)
        for day in stride(from: Int64(-800_000), through: 800_000, by: 997) {
            let (y, m, d) = CivilDate.components(ofDay: day)
            #expect(CivilDate.day(year: y, month: m, day: d) == day)
        }
        #expect(CivilDate.rfc3339(1_795_959_650) == "2026-11-29T13:40:50Z")
        #expect(CivilDate.rfc3339(0) == "1970-01-01T00:00:00Z")
    }

    @Test(arguments: [
        // window, instant, start, end
        (BudgetWindow.fixed(seconds: 3600), at(2026, 11, 29, 13, 40, 50), at(2026, 11, 29, 13), at(2026, 11, 29, 14)),
        (.fixed(seconds: 3600), at(2026, 11, 29, 14), at(2026, 11, 29, 14), at(2026, 11, 29, 15)),  // the boundary starts the next window
        (.fixed(seconds: 86_400), at(2026, 11, 29, 23, 59, 59), at(2026, 11, 29), at(2026, 11, 30)),
        (.fixed(seconds: 7 * 86_400), at(2026, 11, 29, 12), at(2026, 11, 26), at(2026, 12, 3)),       // 7d windows start on Thursdays
        (.fixed(seconds: 30 * 86_400), at(2026, 11, 29), 1_793_664_000, 1_796_256_000),
        (.month, at(2026, 11, 29, 13), at(2026, 11, 1), at(2026, 12, 1)),
        (.month, at(2026, 12, 31, 23, 59, 59), at(2026, 12, 1), at(2027, 1, 1)),                     // year end
        (.month, at(2027, 1, 1), at(2027, 1, 1), at(2027, 2, 1)),
        (.month, at(2028, 2, 29, 12), at(2028, 2, 1), at(2028, 3, 1)),                               // leap year: 29 days
        (.month, at(2027, 2, 28, 23, 59, 59), at(2027, 2, 1), at(2027, 3, 1)),                       // common year: 28 days
        (.month, at(2100, 2, 28), at(2100, 2, 1), at(2100, 3, 1)),                                   // 2100 is not a leap year
        (.month, at(2000, 2, 29), at(2000, 2, 1), at(2000, 3, 1)),                                   // 2000 is
        (.fixed(seconds: 3600), -1, -3600, 0),                                                        // before the epoch
    ])
    func periods(window: BudgetWindow, instant: Int64, start: Int64, end: Int64) {
        #expect(window.period(containing: instant) == BudgetPeriod(start: start, end: end))
    }

    @Test func leapMonthsHaveTheRightLength() {
        #expect(BudgetWindow.month.period(containing: Self.at(2028, 2, 10)).end - Self.at(2028, 2, 1) == 29 * 86_400)
        #expect(BudgetWindow.month.period(containing: Self.at(2100, 2, 10)).end - Self.at(2100, 2, 1) == 28 * 86_400)
        #expect(BudgetWindow.month.period(containing: Self.at(2026, 4, 10)).end - Self.at(2026, 4, 1) == 30 * 86_400)
    }

    @Test func labelsAndRetryAfter() {
        #expect(BudgetWindow(.seconds(3600)).label == "1h")
        #expect(BudgetWindow(.seconds(86_400)).label == "1d")
        #expect(BudgetWindow(.seconds(7 * 86_400)).label == "7d")
        #expect(BudgetWindow(.seconds(90)).label == "90s")
        #expect(BudgetWindow(.seconds(120)).label == "2m")
        #expect(BudgetWindow.month.label == "month")
        let period = BudgetWindow.fixed(seconds: 3600).period(containing: Self.at(2026, 11, 29, 13, 40, 50))
        #expect(period.retryAfterSeconds(now: Double(Self.at(2026, 11, 29, 13, 40, 50))) == 1150)
        #expect(period.retryAfterSeconds(now: Double(Self.at(2026, 11, 29, 13, 40, 50)) + 0.25) == 1150)  // rounded up
        #expect(period.retryAfterSeconds(now: Double(period.end) - 0.1) == 1)
        #expect(period.resetsAtText == "2026-11-29T14:00:00Z")
    }

    @Test func budgetsApplyByTeamOrIdentity() {
        let budgets = [
            TokenBudget(subject: .team("platform"), tokens: 1000, window: .month),
            TokenBudget(subject: .identity("agent-7"), tokens: 100, window: .fixed(seconds: 3600)),
            TokenBudget(subject: .team("infra"), tokens: 5, window: .month),
        ]
        let now = Self.at(2026, 11, 29, 13)
        let charges = TokenBudget.charges(budgets, identity: "agent-7", team: "platform", at: now)
        #expect(charges.map(\.subject) == [.identity("agent-7"), .team("platform")])
        #expect(charges.map(\.window) == ["1h", "month"])
        #expect(TokenBudget.charges(budgets, identity: "other", team: "platform", at: now).map(\.limit) == [1000])
        #expect(TokenBudget.charges(budgets, identity: nil, team: nil, at: now).isEmpty)
        #expect(TokenBudget.charges(budgets, for: Identity(name: "agent-7", team: "platform"), at: now) == charges)
        #expect(TokenBudget.charges(budgets, for: nil, at: now).isEmpty)
    }
}
