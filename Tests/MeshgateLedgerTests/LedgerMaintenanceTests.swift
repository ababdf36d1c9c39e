import Foundation
import Logging
import Testing
@testable import MeshgateAI
@testable import MeshgateLedger

@Suite struct LedgerMaintenanceTests {
    @Test func reclaimsAndReplays() async throws {
        try await withTemporaryDirectory { dir in
            let ledger = InMemoryTokenLedger(reservationLifetimeSeconds: 10)
            let spool = UsageSpool(path: dir + "/spool.jsonl")
            let budgets = [TokenBudget(subject: .team("t"), tokens: 1000, window: .month)]
            let now: Int64 = 1_795_959_650
            let charges = TokenBudget.charges(budgets, identity: "a", team: "t", at: now)
            guard case .reserved(let held) = await ledger.reserve(400, charges: charges, now: now) else {
                Issue.record("refused"); return
            }
            #expect(held.allowance == 1000)
            try await spool.append(record("s1", team: "t", identity: "a", total: 50, charges: charges, at: now))
            var quiet = Logger(label: "test")
            quiet.logLevel = .critical
            let down = await LedgerMaintenance.runOnce(ledger: UsageSpoolTests.DownLedger(), spool: spool, now: now + 11, logger: quiet)
            #expect(down == (0, 0))
            #expect(try await spool.pending().count == 1)
            let result = await LedgerMaintenance.runOnce(ledger: ledger, spool: spool, now: now + 11, logger: quiet)
            #expect(result == (1, 1))
            let team = try await ledger.report(budgets: budgets, now: now).teams.first
            #expect(team?.used == 50)
            #expect(team?.reserved == 0)
        }
    }
}
