import GRDB
import NIOConcurrencyHelpers

/// Copies the SQLite ledger's write-ahead log back into the database file, on a connection of its own.
///
/// By default SQLite checkpoints on the committing connection every 1,000 pages: the ledger's one
/// writer then stopped for the copy and its fsync while every reservation queued behind it waited
/// (the slow tail of budgeted calls). Here the writer only asks after a commit, and a passive
/// checkpoint, which never blocks writers, runs beside it at most once per `interval`. The writer's
/// own automatic checkpoint stays as a backstop at `backstopPages`, should this one fall behind.
final class SQLiteCheckpointer: Sendable {
    /// The writer's automatic checkpoint, in pages (4 KiB each): 40 MiB of log.
    static let backstopPages = 10_000

    private struct State {
        var running = false
        var last: ContinuousClock.Instant?
        var checkpoints = 0
    }

    private let connection: DatabaseQueue
    private let interval: Duration
    private let state = NIOLockedValueBox(State())

    /// Opens a connection to the ledger at `path` for checkpoints.
    init(path: String, interval: Duration = .seconds(1)) throws {
        connection = try DatabaseQueue(path: path)
        self.interval = interval
    }

    /// Checkpoints run so far (for tests).
    var checkpoints: Int { state.withLockedValue { $0.checkpoints } }

    /// A transaction committed: starts a checkpoint unless one runs or ran within `interval`.
    func committed() {
        let now = ContinuousClock.now
        let start = state.withLockedValue { state -> Bool in
            if state.running { return false }
            if let last = state.last, now - last < interval { return false }
            state.running = true
            state.last = now
            return true
        }
        guard start else { return }
        connection.asyncWriteWithoutTransaction { [state] db in
            // A failure (the file went away, the disk is full) is the writer's to report: its
            // backstop checkpoint and its next commit meet the same problem.
            _ = try? db.checkpoint(.passive)
            state.withLockedValue {
                $0.running = false
                $0.checkpoints += 1
            }
        }
    }

    func close() throws {
        try connection.close()
    }
}
