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

    /// Runs `operation`, waiting at most `timeout` for it. Throws `LedgerUnavailable` naming
    /// `backend` when the deadline passes first; the operation's own error when it fails in time.
    public static func run<T: Sendable>(within timeout: Duration, backend: String,
                                        _ operation: @escaping @Sendable () async throws -> T,
                                        late: @escaping @Sendable (T) async -> Void = { _ in }) async throws -> T {
        let decided = NIOLockedValueBox(false)
        // True for whichever side gets there first.
        let claim: @Sendable () -> Bool = {
            decided.withLockedValue { done in
                defer { done = true }
                return !done
            }
        }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            // The timer is a task on the same pool as the operation, not a dispatch timer: a
            // pool starved for a moment delays both alike, so the deadline measures the ledger and
            // not the local scheduler (a dispatch timer fired on time while the operation's task
            // waited for a thread, and took a healthy ledger for a dead one).
            let timer = Task {
                do { try await Task.sleep(for: timeout) } catch { return }
                if claim() {
                    continuation.resume(throwing: LedgerUnavailable(
                        backend: backend, reason: "no answer within \(seconds(timeout)) (ai.ledger_timeout)"))
                }
            }
            Task {
                do {
                    let value = try await operation()
                    timer.cancel()
                    if claim() { continuation.resume(returning: value) } else { await late(value) }
                } catch {
                    timer.cancel()
                    if claim() { continuation.resume(throwing: error) }
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
