import Dispatch
import Foundation
import GRDB
import MeshgateCore
import NIOConcurrencyHelpers
import Testing
@testable import MeshgateAI
@testable import MeshgateLedger

/// The SQLite ledger keeps the caller's deadline in its own write queue (no task per call beside
/// it), checkpoints off the writer, and writes time-ordered ids (issue 18, finding 8).
@Suite struct SQLiteLedgerDeadlineTests {
    static let member = Identity(name: "a", team: "platform")
    static let budgets = [TokenBudget(subject: .team("platform"), tokens: 1000, window: .month)]

    /// SQLite's write lock on `path`, held by a connection of another "process" until `release`.
    final class WriteLock: Sendable {
        let connection: DatabaseQueue
        let held = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)

        init(path: String) throws {
            connection = try DatabaseQueue(path: path)
            let taken = DispatchSemaphore(value: 0)
            connection.asyncWriteWithoutTransaction { [held, done] db in
                try? db.execute(sql: "BEGIN IMMEDIATE")
                taken.signal()
                held.wait()
                try? db.execute(sql: "COMMIT")
                done.signal()
            }
            taken.wait()
        }

        func release() {
            held.signal()
            done.wait()
        }
    }

    /// Waits for `condition`; the limit only stops a broken ledger from hanging the run.
    static func until(_ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test func aStuckWriterCostsOneDeadlineAndItsLateReservationIsGivenBack() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/ledger.db"
            let ledger = try SQLiteTokenLedger(path: path)
            #expect(ledger.keepsDeadlines)
            let health = LedgerHealth(backend: "sqlite", location: path)
            let gateway = AIGateway(recognizer: LLMCallRecognizer(), budgets: Self.budgets, ledger: ledger, spool: nil, failOpen: false,
                                    health: health, ledgerTimeout: .milliseconds(200))
            // The writer is held (as by a disk that stopped answering) until the gate opens, so
            // only the deadline can answer the caller meanwhile.
            let gate = try await SQLiteWriteBatcherTests.Gate(ledger.batcher)
            let admission = await gateway.admit(tokens: 100, identity: Self.member)
            guard case .unavailable(let reason) = admission else {
                Issue.record("admitted while the writer was stuck: \(admission)")
                try await gate.release(after: 0, of: ledger.batcher)
                return
            }
            #expect(reason.contains("no answer within 200ms"), "\(reason)")
            #expect(!health.isAvailable)
            guard case .unavailable = await gateway.admit(tokens: 100, identity: Self.member) else {
                Issue.record("the breaker decides the next call")
                try await gate.release(after: 0, of: ledger.batcher)
                return
            }
            try await gate.release(after: 1, of: ledger.batcher)
            // The ledger granted the reservation once the writer moved; nobody will settle it, so
            // the ledger gave it back by itself.
            let reader = try DatabaseQueue(path: path)
            try await Self.until {
                try await reader.read { db in
                    let reserved = try Int.fetchOne(db, sql: "SELECT reserved FROM budget_windows")
                    let held = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM reservations") ?? -1
                    return reserved == 0 && held == 0
                }
            }
            try reader.close()
            health.markAvailable()
            guard case .admitted(.some(let reservation)) = await gateway.admit(tokens: 100, identity: Self.member) else {
                Issue.record("the writer admits again")
                return
            }
            #expect(reservation.tokens >= 100)
        }
    }

    @Test func anotherProcessHoldingTheWriteLockIsAnUnavailableLedger() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/ledger.db"
            let ledger = try SQLiteTokenLedger(path: path)
            let gateway = AIGateway(recognizer: LLMCallRecognizer(), budgets: Self.budgets, ledger: ledger, spool: nil, failOpen: false,
                                    health: LedgerHealth(backend: "sqlite", location: path), ledgerTimeout: .milliseconds(200))
            let lock = try WriteLock(path: path)
            let admission = await gateway.admit(tokens: 100, identity: Self.member)
            lock.release()
            // The deadline answers within 200 ms of time the test process could run; on a starved
            // runner SQLite's own 5 s busy timeout may answer first. Either is a 503, never a hang.
            guard case .unavailable(let reason) = admission else {
                Issue.record("admitted while another process held the lock: \(admission)")
                return
            }
            #expect(reason.contains("no answer within 200ms") || reason.contains("database is locked"), "\(reason)")
        }
    }

    @Test func theWatchdogExpiresWhatIsNotAnsweredAndOnlyThat() async throws {
        let watchdog = LedgerWatchdog(granularity: .milliseconds(10))
        let expired = NIOLockedValueBox<[String]>([])
        _ = watchdog.add(deadline: .now + .milliseconds(30)) { expired.withLockedValue { $0.append("slow") } }
        let answered = watchdog.add(deadline: .now + .milliseconds(30)) { expired.withLockedValue { $0.append("answered") } }
        watchdog.remove(answered)
        try await Self.until { watchdog.pendingCount == 0 }
        try await Task.sleep(for: .milliseconds(100))
        #expect(expired.withLockedValue { $0 } == ["slow"])
        // It stops watching when nothing is pending, and starts again for the next call.
        #expect(watchdog.pendingCount == 0)
        _ = watchdog.add(deadline: .now + .milliseconds(20)) { expired.withLockedValue { $0.append("next") } }
        try await Self.until { expired.withLockedValue { $0.count } == 2 }
    }

    @Test func idsAreOrderedByTime() {
        let earlier = LedgerIDs.make(now: Date(timeIntervalSince1970: 1_780_000_000))
        let later = LedgerIDs.make(now: Date(timeIntervalSince1970: 1_780_000_000.002))
        #expect(earlier < later)
        #expect(earlier.count == 32 && later.count == 32)
        #expect(earlier.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(LedgerIDs.make() != LedgerIDs.make())
    }

    @Test func theLogIsCheckpointedBesideTheWriterAndReservationsHaveNoSecondaryIndexes() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/ledger.db"
            let ledger = try SQLiteTokenLedger(path: path)
            let charges = TokenBudget.charges(Self.budgets, identity: "a", team: "platform", at: 1_780_000_000)
            for round in 0..<3 {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for i in 0..<200 {
                        group.addTask {
                            let record = UsageRecord(id: LedgerIDs.make(), timestampMilliseconds: 1_780_000_000_000 + Int64(i),
                                                     identity: "a", team: "platform", provider: "openai", model: "gpt-4o",
                                                     usage: TokenUsage(input: 1, output: 1), charges: charges)
                            try await ledger.record(record)
                        }
                    }
                    try await group.waitForAll()
                }
                if round < 2 { try await Task.sleep(for: .milliseconds(1100)) }
            }
            let checkpointer = try #require(ledger.checkpointer)
            try await Self.until { checkpointer.checkpoints >= 1 }
            let indexes = try await DatabaseQueue(path: path).read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'reservations' AND sql IS NOT NULL")
            }
            #expect(indexes.isEmpty, "\(indexes)")
            let report = try await ledger.report(budgets: Self.budgets, now: 1_780_000_000)
            #expect(report.teams.first?.used == 1200)
        }
    }
}
