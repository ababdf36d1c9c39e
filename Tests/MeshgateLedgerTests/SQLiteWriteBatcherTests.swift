import Dispatch
import Foundation
import GRDB
import Testing
@testable import MeshgateAI
@testable import MeshgateLedger

/// Group commit in the SQLite ledger: batched writes give the same totals as one-by-one writes, a
/// refusal or a failure in a batch stays with its own caller, and a lone write does not wait.
@Suite struct SQLiteWriteBatcherTests {
    static let now: Int64 = 1_780_000_000
    static let teamBudget = TokenBudget(subject: .team("core"), tokens: 1_000_000, window: .fixed(seconds: 86_400))

    /// Holds the ledger's writer until `release`, so that the writes submitted meanwhile form one batch.
    final class Gate: Sendable {
        let semaphore = DispatchSemaphore(value: 0)
        let held: Task<Void, any Error>

        init(_ batcher: SQLiteWriteBatcher) async throws {
            let semaphore = semaphore
            held = Task { try await batcher.write { _ in semaphore.wait() } }
            // The gate itself is running (taken off the queue) once nothing is pending and a batch started.
            try await Self.until { batcher.statistics.batches >= 1 && batcher.statistics.pending == 0 }
        }

        /// Lets the writer go once `pending` writes are queued behind the gate.
        func release(after pending: Int, of batcher: SQLiteWriteBatcher) async throws {
            try await Self.until { batcher.statistics.pending >= pending }
            semaphore.signal()
            try await held.value
        }

        /// Waits for `condition`; the limit only stops a broken batcher from hanging the run (a
        /// loaded CI runner has starved this loop for several seconds).
        static func until(_ condition: () -> Bool) async throws {
            let deadline = ContinuousClock.now + .seconds(60)
            while !condition() {
                guard ContinuousClock.now < deadline else { throw CancellationError() }
                try await Task.sleep(for: .milliseconds(2))
            }
        }
    }

    func withLedger(_ body: (SQLiteTokenLedger) async throws -> Void) async throws {
        try await withTemporaryDirectory { dir in
            let ledger = try SQLiteTokenLedger(path: dir + "/ledger.db", reservationLifetimeSeconds: 60)
            try await body(ledger)
        }
    }

    static func record(_ id: String, tokens: Int, charges: [BudgetCharge]) -> UsageRecord {
        UsageRecord(id: id, timestampMilliseconds: now * 1000, identity: "alice", team: "core", provider: "openai",
                    model: "gpt-4o", usage: TokenUsage(input: tokens, output: 1), charges: charges)
    }

    /// Reserve, then settle or release, as the gateway does; returns the window's (used, reserved).
    static func exercise(_ ledger: SQLiteTokenLedger, calls: Int, concurrently: Bool) async throws -> (Int, Int, Int) {
        let charges = TokenBudget.charges([teamBudget], identity: "alice", team: "core", at: now)
        @Sendable func call(_ i: Int) async throws {
            guard case .reserved(let reservation) = try await ledger.reserve(100 + i, charges: charges, now: now) else {
                throw CancellationError()
            }
            if i % 5 == 0 {
                try await ledger.release(reservation)
            } else {
                try await ledger.settle(reservation, usage: record("call-\(i)", tokens: 10 + i, charges: charges))
            }
        }
        if concurrently {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<calls { group.addTask { try await call(i) } }
                try await group.waitForAll()
            }
        } else {
            for i in 0..<calls { try await call(i) }
        }
        let totals = try await ledger.windowTotals(charges)
        let row = try #require(totals[charges[0]])
        let report = try await ledger.usageByIdentity(sinceMilliseconds: 0)
        return (row.used, row.reserved, report.reduce(0) { $0 + $1.used })
    }

    @Test func concurrentWritesGiveTheSameTotalsAsSequentialOnes() async throws {
        var sequential = (0, 0, 0), concurrent = (0, 0, 0)
        try await withLedger { sequential = try await Self.exercise($0, calls: 300, concurrently: false) }
        try await withLedger { ledger in
            concurrent = try await Self.exercise(ledger, calls: 300, concurrently: true)
            // Far fewer transactions than the 600 writes: they were grouped.
            #expect(ledger.batcher.statistics.largestBatch > 1)
            #expect(ledger.batcher.statistics.batches < 600)
        }
        #expect(sequential.0 == concurrent.0 && sequential.1 == concurrent.1 && sequential.2 == concurrent.2,
                "sequential \(sequential), concurrent \(concurrent)")
        #expect(concurrent.1 == 0)
        #expect(concurrent.0 == (0..<300).filter { $0 % 5 != 0 }.reduce(0) { $0 + 11 + $1 })
    }

    @Test func aRefusedReservationInABatchRollsBackOnlyItsOwnRows() async throws {
        try await withLedger { ledger in
            let tight = TokenBudget(subject: .identity("bob"), tokens: 50, window: .fixed(seconds: 86_400))
            let team = TokenBudget.charges([Self.teamBudget], identity: "alice", team: "core", at: Self.now)
            // The team row is reserved first, then bob's 50-token cap refuses: that team row must roll back.
            let both = team + TokenBudget.charges([tight], identity: "bob", team: "core", at: Self.now)
            #expect(both.count == 2 && both[0].subject == .team("core"))

            let gate = try await Gate(ledger.batcher)
            async let first = ledger.reserve(100, charges: team, now: Self.now)
            async let refused = ledger.reserve(400, charges: both, now: Self.now)
            async let last = ledger.reserve(1000, charges: team, now: Self.now)
            try await gate.release(after: 3, of: ledger.batcher)
            let outcomes = try await [first, refused, last]

            guard case .reserved = outcomes[0], case .refused(let refusal) = outcomes[1], case .reserved = outcomes[2] else {
                Issue.record("outcomes: \(outcomes)")
                return
            }
            #expect(refusal.charge.subject == .identity("bob"))
            #expect(ledger.batcher.statistics.largestBatch >= 3)
            let totals = try await ledger.windowTotals(team)
            #expect(totals[team[0]]?.reserved == 1100, "team row: \(String(describing: totals[team[0]]))")
            let bob = try await ledger.windowTotals([both[1]])
            #expect((bob[both[1]]?.reserved ?? 0) == 0)
        }
    }

    @Test func aFailingOperationFailsOnlyItsOwnCaller() async throws {
        try await withLedger { ledger in
            let team = TokenBudget.charges([Self.teamBudget], identity: "alice", team: "core", at: Self.now)
            let gate = try await Gate(ledger.batcher)
            async let first = ledger.reserve(100, charges: team, now: Self.now)
            let broken = Task {
                try await ledger.batcher.write { db in
                    try db.execute(sql: "UPDATE budget_windows SET used = used + 7")
                    try db.execute(sql: "INSERT INTO no_such_table VALUES (1)")
                }
            }
            async let last = ledger.reserve(200, charges: team, now: Self.now)
            try await gate.release(after: 3, of: ledger.batcher)
            await #expect(throws: DatabaseError.self) { try await broken.value }
            let outcomes = try await [first, last]
            #expect(outcomes.allSatisfy { if case .reserved = $0 { true } else { false } })
            let totals = try await ledger.windowTotals(team)
            #expect(totals[team[0]]?.reserved == 300)
            #expect(totals[team[0]]?.used == 0, "the failed operation's own update was rolled back")
        }
    }

    @Test func anOperationWithoutASavepointThatFailsFailsItsWholeBatch() async throws {
        try await withLedger { ledger in
            let team = TokenBudget.charges([Self.teamBudget], identity: "alice", team: "core", at: Self.now)
            let gate = try await Gate(ledger.batcher)
            let first = Task { try await ledger.reserve(100, charges: team, now: Self.now) }
            let broken = Task {
                try await ledger.batcher.write(savepoint: false) { db in
                    try db.execute(sql: "UPDATE budget_windows SET used = used + 7")
                    try db.execute(sql: "INSERT INTO no_such_table VALUES (1)")
                }
            }
            let last = Task { try await ledger.reserve(200, charges: team, now: Self.now) }
            try await gate.release(after: 3, of: ledger.batcher)
            await #expect(throws: DatabaseError.self) { try await broken.value }
            // Its half-done rows cannot be told from the others', so none of the batch is kept.
            await #expect(throws: LedgerUnavailable.self) { _ = try await first.value }
            await #expect(throws: LedgerUnavailable.self) { _ = try await last.value }
            let totals = try await ledger.windowTotals(team)
            #expect((totals[team[0]]?.reserved ?? 0) == 0 && (totals[team[0]]?.used ?? 0) == 0)
            // The next batch is a fresh transaction.
            guard case .reserved = try await ledger.reserve(300, charges: team, now: Self.now) else {
                Issue.record("the ledger still reserves")
                return
            }
        }
    }

    @Test func aRefusedSingleChargeReservationWritesNothing() async throws {
        try await withLedger { ledger in
            let tight = TokenBudget(subject: .identity("bob"), tokens: 50, window: .fixed(seconds: 86_400))
            let charges = TokenBudget.charges([tight], identity: "bob", team: "core", at: Self.now)
            guard case .refused(let refusal) = try await ledger.reserve(400, charges: charges, now: Self.now) else {
                Issue.record("400 tokens do not fit a 50-token cap")
                return
            }
            #expect(refusal.requested == 400 && refusal.reserved == 0)
            guard case .reserved = try await ledger.reserve(50, charges: charges, now: Self.now) else {
                Issue.record("50 tokens fit")
                return
            }
            #expect(try await ledger.windowTotals(charges)[charges[0]]?.reserved == 50)
        }
    }

    @Test func aClosedDatabaseFailsItsCallersWithLedgerUnavailable() async throws {
        try await withLedger { ledger in
            let team = TokenBudget.charges([Self.teamBudget], identity: "alice", team: "core", at: Self.now)
            _ = try await ledger.reserve(10, charges: team, now: Self.now)
            try ledger.close()
            await withTaskGroup(of: Bool.self) { group in
                for i in 0..<20 {
                    group.addTask {
                        do {
                            _ = try await ledger.reserve(10 + i, charges: team, now: Self.now)
                            return false
                        } catch {
                            return error is LedgerUnavailable
                        }
                    }
                }
                for await unavailable in group { #expect(unavailable) }
            }
        }
    }

    @Test func aLoneWriteCommitsAtOnce() async throws {
        try await withLedger { ledger in
            let team = TokenBudget.charges([Self.teamBudget], identity: "alice", team: "core", at: Self.now)
            let clock = ContinuousClock()
            var slowest = Duration.zero
            for i in 0..<50 {
                let elapsed = try await clock.measure {
                    guard case .reserved(let reservation) = try await ledger.reserve(10, charges: team, now: Self.now) else {
                        throw CancellationError()
                    }
                    try await ledger.settle(reservation, usage: Self.record("lone-\(i)", tokens: 5, charges: team))
                }
                slowest = max(slowest, elapsed)
            }
            // One transaction per write: nothing waited for company.
            #expect(ledger.batcher.statistics.batches == 100)
            #expect(ledger.batcher.statistics.largestBatch == 1)
            print("slowest lone reserve+settle: \(slowest)")
        }
    }
}
