import NIOConcurrencyHelpers

/// A deadline for one ledger call on the request path.
///
/// The backends have their own, longer limits (SQLite's busy timeout and PostgreSQL's operation
/// timeout are 5 s, and a PostgreSQL connect can hang until its own timeout), and neither a SQLite
/// busy wait nor a PostgreSQL query in flight stops when its task is cancelled. So the call runs in
/// a task of its own and the caller stops waiting at the deadline: it gets `LedgerUnavailable`
/// (which trips the breaker), while the call runs on and hands a late answer to `late`, so that,
/// for example, a reservation granted after the caller gave up is released instead of held.
public enum LedgerDeadline {
    /// The default for `ai.ledger_timeout`: a healthy ledger answers in milliseconds.
    public static let defaultTimeout: Duration = .seconds(1)

    /// The deadline of the ledger call this task is making, for a ledger that keeps it itself
    /// (``TokenLedger/keepsDeadlines``); nil otherwise.
    @TaskLocal public static var current: Limit?

    /// How long a ledger call may take, and whose it is.
    public struct Limit: Sendable {
        /// How long the caller waits.
        public var timeout: Duration
        /// The ledger backend named in the error when the wait ends (`sqlite`, `postgres`).
        public var backend: String

        /// What the caller gets when the deadline passes first.
        package var missed: LedgerUnavailable {
            LedgerUnavailable(backend: backend, reason: "no answer within \(seconds(timeout)) (ai.ledger_timeout)")
        }
    }

    /// Runs `operation`, waiting at most `timeout` for it. Throws `LedgerUnavailable` naming
    /// `backend` when the deadline passes first; the operation's own error when it fails in time.
    ///
    /// With `keptByLedger` the operation runs in this task with the deadline in ``current``, and
    /// the ledger stops the caller's wait at it and handles late answers itself (the SQLite
    /// ledger, whose writes already run on a queue of their own: a task per call to wait beside
    /// it cost a fifth of the throughput of budgeted calls). `late` is then not called.
    public static func run<T: Sendable>(within timeout: Duration, backend: String, keptByLedger: Bool = false,
                                        _ operation: @escaping @Sendable () async throws -> T,
                                        late: @escaping @Sendable (T) async -> Void = { _ in }) async throws -> T {
        let limit = Limit(timeout: timeout, backend: backend)
        if keptByLedger { return try await $current.withValue(limit) { try await operation() } }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            Task {
                // The deadline starts when the call does: on a loaded machine the task may wait for
                // a thread first, and that wait is not the ledger's (counting it turned in-memory
                // calls into outages on a busy test runner).
                let answer = DeadlineAnswer(continuation, limit: limit) { value in Task { await late(value) } }
                do {
                    answer.resume(with: .success(try await operation()))
                } catch {
                    answer.resume(with: .failure(error))
                }
            }
        }
    }

    /// `1s`, `250ms`: how a timeout is written in messages.
    static func seconds(_ duration: Duration) -> String {
        let (whole, attoseconds) = duration.components
        if attoseconds == 0 { return "\(whole)s" }
        return "\(whole * 1000 + attoseconds / 1_000_000_000_000_000)ms"
    }
}

/// The one answer to a caller waiting on a ledger call with a deadline: the call's result or, when
/// the deadline passes first, `LedgerUnavailable`; a result that comes after that goes to `late`.
///
/// The deadline is watched by a task on the same pool as the calls (``LedgerWatchdog``), not a
/// dispatch timer: a pool starved for a moment delays both alike, so the deadline measures the
/// ledger and not the local scheduler (a dispatch timer fired on time while the operation's task
/// waited for a thread, and took a healthy ledger for a dead one).
package struct DeadlineAnswer<T: Sendable>: Sendable {
    private let continuation: CheckedContinuation<T, any Error>
    private let decided: NIOLockedValueBox<Bool>
    private let watch: UInt64?
    private let late: (@Sendable (T) -> Void)?

    /// Answers `continuation`; without a `limit` it simply waits for the result.
    package init(_ continuation: CheckedContinuation<T, any Error>, limit: LedgerDeadline.Limit?, late: (@Sendable (T) -> Void)?) {
        let decided = NIOLockedValueBox(false)
        self.continuation = continuation
        self.decided = decided
        self.late = late
        if let limit {
            watch = LedgerWatchdog.shared.add(deadline: ContinuousClock.now + limit.timeout) {
                if Self.claim(decided) { continuation.resume(throwing: limit.missed) }
            }
        } else {
            watch = nil
        }
    }

    /// Hands the call's result to the caller, or to `late` when the deadline passed first.
    package func resume(with result: Result<T, any Error>) {
        if let watch { LedgerWatchdog.shared.remove(watch) }
        if Self.claim(decided) {
            continuation.resume(with: result)
        } else if case .success(let value) = result {
            late?(value)
        }
    }

    /// True for whichever side gets there first.
    private static func claim(_ decided: NIOLockedValueBox<Bool>) -> Bool {
        decided.withLockedValue { done in
            defer { done = true }
            return !done
        }
    }
}
