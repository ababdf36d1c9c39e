import Foundation
import Logging
import Testing
@testable import MeshgateAI
@testable import MeshgateLedger

@Suite struct UsageSpoolTests {
    /// A ledger that is down.
    struct DownLedger: TokenLedger {
        func reserve(_ tokens: Int, charges: [BudgetCharge], now: Int64) async throws -> ReservationOutcome { throw Self.error }
        func settle(_ reservation: LedgerReservation, usage: UsageRecord) async throws { throw Self.error }
        func release(_ reservation: LedgerReservation) async throws { throw Self.error }
        func record(_ usage: UsageRecord) async throws { throw Self.error }
        func grow(_ reservation: LedgerReservation, by tokens: Int, now: Int64) async throws -> ReservationOutcome { throw Self.error }
        func reclaimAbandoned(now: Int64, staleBefore: Int64) async throws -> Int { throw Self.error }
        func renewLease(now: Int64) async throws { throw Self.error }
        func releaseHeld() async throws -> Int { throw Self.error }
        func report(budgets: [TokenBudget], now: Int64) async throws -> UsageReport { throw Self.error }
        func ping() async throws { throw Self.error }
        static let error = LedgerUnavailable(backend: "test", reason: "down")
    }

    @Test func spooledUsageIsReconciledOnce() async throws {
        try await withTemporaryDirectory { dir in
            let spool = UsageSpool(path: dir + "/spool.jsonl")
            let budgets = [TokenBudget(subject: .team("t"), tokens: 10_000, window: .month)]
            let now: Int64 = 1_795_959_650
            let charges = TokenBudget.charges(budgets, identity: "a", team: "t", at: now)
            for i in 0..<3 {
                try await spool.append(record("spool-\(i)", team: "t", identity: "a", total: 100 * (i + 1), charges: charges, at: now))
            }
            // A torn last line, as left by a crash mid-append.
            let handle = try #require(FileHandle(forWritingAtPath: dir + "/spool.jsonl"))
            handle.seekToEndOfFile()
            handle.write(Data(#"{"id":"torn","times"#.utf8))
            try handle.close()
            #expect(try await spool.pending().count == 3)

            // While the ledger is down nothing is lost.
            await #expect(throws: LedgerUnavailable.self) { try await spool.reconcile(into: DownLedger()) }
            #expect(try await spool.pending().count == 3)

            let ledger = InMemoryTokenLedger()
            // A record that already reached the ledger before a crash is not charged twice.
            await ledger.record(record("spool-0", team: "t", identity: "a", total: 100, charges: charges, at: now))
            let result = try await spool.reconcile(into: ledger)
            #expect(result == UsageSpool.ReconcileResult(replayed: 3, unreadable: 1))
            #expect(try await ledger.report(budgets: budgets, now: now).teams.first?.used == 600)
            #expect(try await spool.pending().isEmpty)
            #expect(try await spool.reconcile(into: ledger).replayed == 0)
        }
    }

    @Test func reportJSONHasTheContractShape() async throws {
        let ledger = InMemoryTokenLedger()
        let now: Int64 = 1_795_959_650
        let budgets = [TokenBudget(subject: .team("platform"), tokens: 2_000_000, window: .fixed(seconds: 86_400)),
                       TokenBudget(subject: .identity("agent-\"7\""), tokens: 1000, window: .month)]
        await ledger.record(record("1", team: "platform", identity: "agent-\"7\"", total: 400,
                                       charges: TokenBudget.charges(budgets, identity: "agent-\"7\"", team: "platform", at: now), at: now))
        await ledger.record(record("2", team: "research", identity: "bob", total: 50, charges: [], at: now))
        let json = try await ledger.report(budgets: budgets, now: now).json
        #expect(json == #"{"teams":[{"team":"platform","used":400,"limit":2000000,"remaining":1999600,"window":"1d","resets_at":"2026-11-30T00:00:00Z"},"#
                + #"{"team":"research","used":50,"limit":null,"remaining":null,"window":"month","resets_at":"2026-12-01T00:00:00Z"}],"#
                + #""identities":[{"identity":"agent-\"7\"","team":"platform","used":400,"limit":1000,"remaining":600,"window":"month","resets_at":"2026-12-01T00:00:00Z"},"#
                + #"{"identity":"bob","team":"research","used":50}]}"#)
        let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        #expect((parsed?["teams"] as? [Any])?.count == 2)
    }
}
