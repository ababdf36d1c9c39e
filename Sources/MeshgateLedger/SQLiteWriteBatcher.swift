import GRDB
import MeshgateAI
import NIOConcurrencyHelpers

/// Group commit for the SQLite ledger: concurrent writes share one `BEGIN IMMEDIATE … COMMIT`.
///
/// One drain at a time holds the pool's writer and takes every operation queued so far; each runs in
/// its own SAVEPOINT, so one that throws (a reservation that does not fit) rolls back only its own
/// rows. Callers are answered after the COMMIT, so a settled call is as durable as before (WAL,
/// `synchronous=NORMAL`). With nothing queued a write starts at once: batching comes from
/// concurrency, never from a timer.
final class SQLiteWriteBatcher: Sendable {
    /// Answers a caller once its batch committed (nil) or failed as a whole (the error).
    private typealias Completion = @Sendable ((any Error)?) -> Void

    private struct Operation: Sendable {
        /// Runs the caller's statements; returns how to answer the caller. Throws (failing the
        /// whole batch) when statements that run without a savepoint failed.
        var run: @Sendable (Database) throws -> Completion
        /// Answers the caller without running (its batch failed first).
        var fail: @Sendable (any Error) -> Void
    }

    private struct State {
        var queue: [Operation] = []
        var draining = false
        var batches = 0
        var largestBatch = 0
    }

    /// The transaction ended under an operation (SQLite rolls back on some I/O errors).
    struct TransactionAborted: Error, CustomStringConvertible {
        var description: String { "the write transaction was aborted" }
    }

    private let writer: any DatabaseWriter
    private let maxBatch: Int
    private let committed: (@Sendable () -> Void)?
    private let state = NIOLockedValueBox(State())

    /// Batches writes to `writer`, at most `maxBatch` operations per transaction; `committed` is
    /// told after each commit (on the writer's queue).
    init(writer: any DatabaseWriter, maxBatch: Int = 256, committed: (@Sendable () -> Void)? = nil) {
        self.writer = writer
        self.maxBatch = max(1, maxBatch)
        self.committed = committed
    }

    /// Transactions committed or attempted so far, and the most operations one held (for tests).
    var statistics: (batches: Int, largestBatch: Int, pending: Int) {
        state.withLockedValue { ($0.batches, $0.largestBatch, $0.queue.count) }
    }

    /// Runs `body` in the next batch's transaction, inside its own savepoint; returns its result
    /// once the batch committed. Throws what `body` threw (its rows rolled back), or the batch's
    /// error when the transaction could not begin or commit. With a `limit` the caller stops
    /// waiting when it passes (`LedgerUnavailable`), and a result committed after that goes to `late`.
    ///
    /// Without `savepoint`, `body` runs bare (a savepoint is two more statements per operation):
    /// for bodies that refuse without writing, whose only errors are the database's own; if one
    /// throws anyway, the whole batch is rolled back and every caller in it gets the error.
    func write<T: Sendable>(within limit: LedgerDeadline.Limit? = nil, savepoint: Bool = true,
                            late: (@Sendable (T) -> Void)? = nil,
                            _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let answer = DeadlineAnswer(continuation, limit: limit, late: late)
            let operation = Operation(
                run: { db in
                    let outcome: Result<T, any Error>
                    if savepoint {
                        outcome = Self.inSavepoint(db, body)
                    } else {
                        outcome = .success(try body(db))
                    }
                    return { failure in answer.resume(with: failure.map { .failure($0) } ?? outcome) }
                },
                fail: { answer.resume(with: .failure($0)) })
            let start = state.withLockedValue { state -> Bool in
                state.queue.append(operation)
                if state.draining { return false }
                state.draining = true
                return true
            }
            if start { writer.asyncWriteWithoutTransaction { [self] db in drain(db) } }
        }
    }

    /// `body`'s result, its rows rolled back when it threw.
    private static func inSavepoint<T>(_ db: Database, _ body: (Database) throws -> T) -> Result<T, any Error> {
        do {
            var value: T?
            try db.inSavepoint {
                value = try body(db)
                return .commit
            }
            if let value { return .success(value) }
            return .failure(TransactionAborted())
        } catch {
            return .failure(error)
        }
    }

    /// Commits batches until the queue is empty (on the writer's queue).
    private func drain(_ db: Database) {
        while true {
            let batch: [Operation] = state.withLockedValue { state in
                guard !state.queue.isEmpty else {
                    state.draining = false
                    return []
                }
                let count = min(maxBatch, state.queue.count)
                let batch = Array(state.queue.prefix(count))
                state.queue.removeFirst(count)
                state.batches += 1
                state.largestBatch = max(state.largestBatch, count)
                return batch
            }
            if batch.isEmpty { return }
            var completions: [Completion] = []
            completions.reserveCapacity(batch.count)
            do {
                try db.inTransaction(.immediate) {
                    for operation in batch {
                        completions.append(try operation.run(db))
                        // An operation's error may have ended the transaction itself: then nothing
                        // of this batch is committed, and every caller in it hears so.
                        guard db.isInsideTransaction else { throw TransactionAborted() }
                    }
                    return .commit
                }
                for completion in completions { completion(nil) }
                committed?()
            } catch {
                for completion in completions { completion(error) }
                for operation in batch.dropFirst(completions.count) { operation.fail(error) }
            }
        }
    }
}
