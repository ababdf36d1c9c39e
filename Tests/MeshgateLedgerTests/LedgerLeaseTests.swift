import Foundation
import GRDB
import Testing
@testable import MeshgateAI
@testable import MeshgateLedger

/// Reservations held by instances with leases, and reservations that grow as a stream uses them
/// (issue 18, findings 3 and 4), on each backend. Real time, not the fixed clock of LedgerTests:
/// the PostgreSQL database is shared with end-to-end servers whose leases are renewed at real
/// time, and a fake clock would make their leases look stale to these tests (or these to them).
@Suite struct LedgerLeaseTests {
    enum Store: String, CaseIterable, CustomTestStringConvertible {
        case sqlite, postgres
        var testDescription: String { rawValue }
        /// PostgreSQL only when the test database is configured.
        static var available: [Store] { postgresTestURL == nil ? [.sqlite] : allCases }
    }

    static var backends: [LedgerBackend] { LedgerBackend.allCases.filter { $0 != .postgres || postgresTestURL != nil } }

    /// Two ledgers on one store, as two meshgate instances (`a` and `b`) sharing it; `reopen`
    /// opens the store again as `a` (its restart).
    static func withInstances(_ store: Store, _ body: @Sendable (_ a: any TokenLedger, _ b: any TokenLedger,
                                                                   _ reopen: @Sendable () async throws -> any TokenLedger) async throws -> Void) async throws {
        let a = unique("instance-a"), b = unique("instance-b")
        switch store {
        case .sqlite:
            try await withTemporaryDirectory { dir in
                let path = dir + "/ledger.db"
                try await body(try SQLiteTokenLedger(path: path, holder: a), try SQLiteTokenLedger(path: path, holder: b),
                               { try SQLiteTokenLedger(path: path, holder: a) })
            }
        case .postgres:
            let url = try #require(postgresTestURL)
            let first = try PostgresTokenLedger(url: url, holder: a), second = try PostgresTokenLedger(url: url, holder: b)
            let again = try PostgresTokenLedger(url: url, holder: a)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for ledger in [first, second, again] { group.addTask { await ledger.run() } }
                defer { group.cancelAll() }
                try await first.migrate()
                try await body(first, second, { again })
            }
        }
    }

    static func budget(_ tokens: Int) -> (budgets: [TokenBudget], charges: [BudgetCharge]) {
        let budgets = [TokenBudget(subject: .team(unique("lease-team")), tokens: tokens, window: .month)]
        return (budgets, budgets.map { $0.charge(at: Int64(Date().timeIntervalSince1970)) })
    }

    static func reserved(_ ledger: any TokenLedger, _ budgets: [TokenBudget]) async throws -> (used: Int, reserved: Int) {
        let team = try await ledger.report(budgets: budgets, now: Int64(Date().timeIntervalSince1970)).teams.first
        return (team?.used ?? 0, team?.reserved ?? 0)
    }

    @Test(arguments: Store.available)
    func aDeadInstancesReservationsAreReclaimedOnceWithoutDoubleCounting(store: Store) async throws {
        try await Self.withInstances(store) { a, b, _ in
            let now = Int64(Date().timeIntervalSince1970)
            let (budgets, charges) = Self.budget(1000)
            try await a.renewLease(now: now)
            try await b.renewLease(now: now)
            guard case .reserved(let orphan) = try await a.reserve(600, charges: charges, now: now),
                  case .reserved(let live) = try await b.reserve(300, charges: charges, now: now) else {
                Issue.record("reservations under the cap were refused"); return
            }
            #expect(try await Self.reserved(b, budgets).reserved == 900)
            guard case .refused = try await b.reserve(200, charges: charges, now: now) else {
                Issue.record("the dead instance's reservation still counts until reclaimed"); return
            }
            // a renewed its lease a minute ago and no more: it died. Two heartbeats of 10 s
            // missed, b takes back a's reservation, and keeps its own.
            try await a.renewLease(now: now - 60)
            _ = try await b.reclaimAbandoned(now: now, staleBefore: LedgerMaintenance.staleBefore(now: now, heartbeat: .seconds(10)))
            #expect(try await Self.reserved(b, budgets).reserved == 300)
            // a was not dead after all, only slow: its late settlement charges what it used, once,
            // and gives back nothing that is not held any more.
            try await a.settle(orphan, usage: record("x", team: nil, identity: nil, total: 250, charges: [], at: now))
            try await b.settle(live, usage: record("y", team: nil, identity: nil, total: 100, charges: [], at: now))
            let totals = try await Self.reserved(b, budgets)
            #expect(totals.used == 350 && totals.reserved == 0, "\(totals)")
            // A reservation that was reclaimed cannot grow.
            guard case .refused = try await a.grow(orphan, by: 10, now: now) else {
                Issue.record("a reclaimed reservation grew"); return
            }
        }
    }

    @Test(arguments: Store.available)
    func aRestartedInstanceGivesBackWhatItsPreviousRunHeld(store: Store) async throws {
        try await Self.withInstances(store) { a, b, reopen in
            let now = Int64(Date().timeIntervalSince1970)
            let (budgets, charges) = Self.budget(1000)
            try await a.renewLease(now: now)
            try await b.renewLease(now: now)
            for _ in 0..<3 { _ = try await a.reserve(200, charges: charges, now: now) }
            _ = try await b.reserve(100, charges: charges, now: now)
            #expect(try await Self.reserved(b, budgets).reserved == 700)
            // a was killed; it starts again under the same name (state_dir/instance-id).
            let restarted = try await reopen()
            #expect(try await restarted.releaseHeld() == 3)
            #expect(try await Self.reserved(b, budgets).reserved == 100, "b's reservation is b's")
            // An instance never reclaims its own, however late its heartbeat (not tried on the
            // shared PostgreSQL database, where another test would take b for dead).
            guard store == .sqlite else { return }
            try await b.renewLease(now: now - 60)
            _ = try await b.reclaimAbandoned(now: now, staleBefore: LedgerMaintenance.staleBefore(now: now, heartbeat: .seconds(10)))
            #expect(try await Self.reserved(b, budgets).reserved == 100)
        }
    }

    @Test func aLedgerOfTheFirstSchemaIsUpgradedAndItsReservationsKept() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/ledger.db"
            // A file as meshgate wrote it before reservations had holders.
            let old = try DatabaseQueue(path: path)
            try await old.write { db in
                try db.execute(sql: LedgerSchema.migrationsTable)
                for statement in LedgerSchema.migrations[0].statements { try db.execute(sql: statement) }
                try db.execute(sql: "INSERT INTO meshgate_schema_migrations VALUES (1, 'v1', 0)")
                try db.execute(sql: "INSERT INTO reservations (id, tokens, charges, expires_at) VALUES ('old', 5, '[]', 100)")
            }
            try old.close()
            let ledger = try SQLiteTokenLedger(path: path, holder: "new")
            #expect(try ledger.schemaVersion() == LedgerSchema.latestVersion)
            // A holderless reservation is not a dead holder's: it goes when it expires.
            #expect(try await ledger.reclaimAbandoned(now: 99, staleBefore: 99) == 0)
            #expect(try await ledger.reclaimAbandoned(now: 100, staleBefore: 0) == 1)
        }
    }

    @Test(arguments: Self.backends)
    func aReservationGrowsOnlyWhileTheCapTakesIt(backend: LedgerBackend) async throws {
        try await backend.with { ledger, _ in
            let now = Int64(Date().timeIntervalSince1970)
            let (budgets, charges) = Self.budget(1000)
            guard case .reserved(let first) = try await ledger.reserve(300, charges: charges, now: now) else {
                Issue.record("refused"); return
            }
            guard case .reserved(let grown) = try await ledger.grow(first, by: 200, now: now) else {
                Issue.record("growth under the cap was refused"); return
            }
            #expect(grown.tokens == 500 && grown.remaining == 500 && grown.id == first.id)
            guard case .reserved(let other) = try await ledger.reserve(400, charges: charges, now: now) else {
                Issue.record("refused"); return
            }
            guard case .refused(let refusal) = try await ledger.grow(grown, by: 101, now: now) else {
                Issue.record("growth past the cap was granted"); return
            }
            #expect(refusal.remaining == 100)
            #expect(try await Self.reserved(ledger, budgets).reserved == 900, "a refused growth changes nothing")
            // Settling the first with the reservation as it was made gives back what it holds now.
            try await ledger.settle(first, usage: record("g", team: nil, identity: nil, total: 480, charges: [], at: now))
            try await ledger.release(other)
            let totals = try await Self.reserved(ledger, budgets)
            #expect(totals.used == 480 && totals.reserved == 0, "\(totals)")
        }
    }
}
