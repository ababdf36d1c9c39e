import Foundation
import Testing
@testable import MeshgateAI
@testable import MeshgateLedger

/// Where the PostgreSQL tests connect; `scripts/postgres-test-db.sh` prints one.
let postgresTestURL = ProcessInfo.processInfo.environment["MESHGATE_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

/// A scratch directory removed at the end of the test.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = NSTemporaryDirectory() + "meshgate-ai-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

/// Runs `body` with a migrated PostgreSQL ledger whose pool runs for the duration. These tests are
/// about what the ledger decides, not how fast: the deadline is 30 s instead of serve's 5 s, which a
/// fresh pool opening connections while the whole suite runs beside it on two cores did miss
/// (the deadline itself is tested in PostgresTokenLedgerTests).
func withPostgresLedger<T: Sendable>(_ body: @Sendable (PostgresTokenLedger) async throws -> T) async throws -> T {
    let url = try #require(postgresTestURL)
    let ledger = try PostgresTokenLedger(url: url, reservationLifetimeSeconds: 60, operationTimeout: .seconds(30))
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { await ledger.run(); return nil }
        defer { group.cancelAll() }
        try await ledger.migrate()
        return try await body(ledger)
    }
}

enum LedgerBackend: String, CaseIterable, CustomTestStringConvertible {
    case memory, sqlite, postgres
    var testDescription: String { rawValue }

    /// Runs `body` with a fresh ledger of this backend, plus a factory for a second handle on the same store.
    func with(_ body: @Sendable (any TokenLedger, @Sendable () throws -> any TokenLedger) async throws -> Void) async throws {
        switch self {
        case .memory:
            let ledger = InMemoryTokenLedger(reservationLifetimeSeconds: 60)
            try await body(ledger, { ledger })
        case .sqlite:
            try await withTemporaryDirectory { dir in
                let path = dir + "/ledger.db"
                let ledger = try SQLiteTokenLedger(path: path, reservationLifetimeSeconds: 60)
                try await body(ledger, { try SQLiteTokenLedger(path: path, reservationLifetimeSeconds: 60) })
            }
        case .postgres:
            // Two clients with their own pools, as two meshgate nodes sharing one database.
            try await withPostgresLedger { ledger in
                try await withPostgresLedger { other in
                    try await body(ledger, { other })
                }
            }
        }
    }
}

/// Names unique per test run, so PostgreSQL tests never see each other's rows.
func unique(_ name: String) -> String { "\(name)-\(UUID().uuidString.prefix(8))" }

func record(_ id: String, team: String?, identity: String?, total: Int, charges: [BudgetCharge], at now: Int64) -> UsageRecord {
    UsageRecord(id: id, timestampMilliseconds: now * 1000, identity: identity, team: team, provider: "openai", model: "gpt-4o",
                usage: TokenUsage(input: total - total / 4, output: total / 4), charges: charges)
}

@Suite struct LedgerTests {
    /// 2054-11-29T13:40:50Z (2026-11-29 plus one 28-year calendar cycle): in the future, so the
    /// end-to-end servers sharing the PostgreSQL test database, which reclaim expired reservations
    /// at real time, never take these tests' reservations for expired ones.
    static let now: Int64 = 1_795_959_650 + 10_227 * 86_400

    @Test(.enabled(if: postgresTestURL != nil, "MESHGATE_TEST_POSTGRES_URL is not set (run scripts/postgres-test-db.sh)"))
    func reserveSettleReleaseOnPostgres() async throws {
        try await reserveSettleRelease(backend: .postgres)
    }

    @Test(arguments: [LedgerBackend.memory, .sqlite])
    func reserveSettleRelease(backend: LedgerBackend) async throws {
        let now = Self.now - 100 * 86_400  // 2054-08-21T13:40:50Z
        try await backend.with { ledger, _ in
            let team = unique("platform"), agent = unique("agent")
            let budgets = [TokenBudget(subject: .team(team), tokens: 1000, window: .fixed(seconds: 86_400))]
            let charges = TokenBudget.charges(budgets, identity: agent, team: team, at: now)

            guard case .reserved(let first) = try await ledger.reserve(300, charges: charges, now: now) else {
                Issue.record("a reservation under the cap was refused"); return
            }
            #expect(first.remaining == 700)
            #expect(first.resetsAt == BudgetWindow.fixed(seconds: 86_400).period(containing: now).end)

            guard case .refused(let refusal) = try await ledger.reserve(800, charges: charges, now: now) else {
                Issue.record("a reservation over the cap was granted"); return
            }
            #expect(refusal.used == 0 && refusal.reserved == 300 && refusal.remaining == 700)
            #expect(refusal.retryAfterSeconds(now: Double(now)) == 37_150)  // to 2054-08-22T00:00:00Z
            #expect(refusal.description.contains("resets at 2054-08-22T00:00:00Z"))

            try await ledger.settle(first, usage: record("ignored", team: team, identity: agent, total: 250, charges: [], at: now))
            try await ledger.settle(first, usage: record("ignored", team: team, identity: agent, total: 250, charges: [], at: now))
            var report = try await ledger.report(budgets: budgets, now: now)
            #expect(report.teams.first?.used == 250)  // settled once, though settled twice
            #expect(report.teams.first?.remaining == 750)

            guard case .reserved(let second) = try await ledger.reserve(700, charges: charges, now: now) else {
                Issue.record("reservation after settling refused"); return
            }
            #expect(second.remaining == 50)
            try await ledger.release(second)
            try await ledger.release(second)  // a second release gives nothing back twice
            let spooled = record(unique("spooled"), team: team, identity: agent, total: 100, charges: charges, at: now)
            try await ledger.record(spooled)
            try await ledger.record(spooled)
            report = try await ledger.report(budgets: budgets, now: now)
            #expect(report.teams.first?.used == 350)
            #expect(report.teams.first?.remaining == 650)
            #expect(report.identities.first { $0.identity == agent }?.used == 350)
            #expect(report.identities.first { $0.identity == agent }?.team == team)

            // A reservation whose holder vanished is reclaimed once it expires. Not tried on the
            // PostgreSQL database, which other tests share: reclaiming at a clock past the expiry
            // of this reservation would take theirs too (the SQL is the same as SQLite's).
            guard backend != .postgres else { return }
            guard case .reserved(let abandoned) = try await ledger.reserve(600, charges: charges, now: now) else {
                Issue.record("reservation refused"); return
            }
            #expect(try await ledger.report(budgets: budgets, now: now).teams.first?.remaining == 50)
            #expect(try await ledger.reclaimAbandoned(now: now + 30, staleBefore: 0) == 0)
            #expect(try await ledger.reclaimAbandoned(now: now + 61, staleBefore: 0) >= 1)
            #expect(try await ledger.report(budgets: budgets, now: now).teams.first?.remaining == 650)
            // Settling it late still charges what was used, without giving back the reservation twice.
            try await ledger.settle(abandoned, usage: record("", team: team, identity: agent, total: 40, charges: [], at: now))
            let final = try await ledger.report(budgets: budgets, now: now).teams.first
            #expect(final?.used == 390)
            #expect(final?.reserved == 0)

            // The next window starts empty.
            let tomorrow = now + 86_400
            #expect(try await ledger.report(budgets: budgets, now: tomorrow).teams.first?.used == 0)
        }
    }

    @Test(.enabled(if: postgresTestURL != nil, "MESHGATE_TEST_POSTGRES_URL is not set (run scripts/postgres-test-db.sh)"))
    func reservationsAreAllOrNothingOnPostgres() async throws {
        try await reservationsAreAllOrNothing(backend: .postgres)
    }

    @Test(arguments: [LedgerBackend.memory, .sqlite])
    func reservationsAreAllOrNothing(backend: LedgerBackend) async throws {
        try await backend.with { ledger, _ in
            let team = unique("t"), agent = unique("a")
            let budgets = [
                TokenBudget(subject: .team(team), tokens: 10_000, window: .month),
                TokenBudget(subject: .identity(agent), tokens: 500, window: .fixed(seconds: 3600)),
            ]
            let charges = TokenBudget.charges(budgets, identity: agent, team: team, at: Self.now)
            guard case .refused(let refusal) = try await ledger.reserve(501, charges: charges, now: Self.now) else {
                Issue.record("granted past the identity cap"); return
            }
            #expect(refusal.charge.subject == .identity(agent))
            // The team row did not keep a partial reservation.
            let report = try await ledger.report(budgets: budgets, now: Self.now)
            #expect(report.teams.first?.remaining == 10_000)
            #expect(report.identities.first { $0.identity == agent }?.remaining == 500)
            // Without budgets nothing is held and nothing is refused.
            guard case .reserved(let free) = try await ledger.reserve(1_000_000, charges: [], now: Self.now) else {
                Issue.record("an unbudgeted request was refused"); return
            }
            #expect(free.remaining == nil)
            try await ledger.settle(free, usage: record("", team: nil, identity: nil, total: 10, charges: [], at: Self.now))
        }
    }

    /// 20 requests race for a cap that fits 16: exactly 16 win, through one handle or two.
    @Test(.enabled(if: postgresTestURL != nil, "MESHGATE_TEST_POSTGRES_URL is not set (run scripts/postgres-test-db.sh)"))
    func concurrentReservationsNeverOvershootOnPostgres() async throws {
        try await concurrentReservationsNeverOvershoot(backend: .postgres)
    }

    @Test(arguments: [LedgerBackend.memory, .sqlite])
    func concurrentReservationsNeverOvershoot(backend: LedgerBackend) async throws {
        try await backend.with { ledger, second in
            let other = try second()
            let team = unique("race")
            let budgets = [TokenBudget(subject: .team(team), tokens: 1000, window: .fixed(seconds: 3600))]
            let charges = TokenBudget.charges(budgets, identity: nil, team: team, at: Self.now)
            let outcomes = try await withThrowingTaskGroup(of: ReservationOutcome.self) { group in
                for i in 0..<20 {
                    let handle = i % 2 == 0 ? ledger : other
                    group.addTask { try await handle.reserve(60, charges: charges, now: Self.now) }
                }
                return try await group.reduce(into: [ReservationOutcome]()) { $0.append($1) }
            }
            let granted = outcomes.compactMap { if case .reserved(let r) = $0 { r } else { nil } }
            #expect(granted.count == 16)
            let report = try await ledger.report(budgets: budgets, now: Self.now)
            #expect(report.teams.first?.reserved == 960)
            // Settling each at 10 over its reservation overshoots by at most that excess per request.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (i, reservation) in granted.enumerated() {
                    let handle = i % 2 == 0 ? ledger : other
                    group.addTask {
                        try await handle.settle(reservation, usage: record("", team: team, identity: nil, total: 70, charges: [], at: Self.now))
                    }
                }
                try await group.waitForAll()
            }
            let settled = try await ledger.report(budgets: budgets, now: Self.now).teams.first
            #expect(settled?.used == 16 * 70)
            #expect(settled?.reserved == 0)
            #expect(settled?.remaining == 0)
        }
    }
}
