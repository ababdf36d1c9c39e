import Foundation
import MeshgateCore
import NIOConcurrencyHelpers

/// Whether the token ledger can be reached right now: `/healthz` reads it, and it is the AI
/// gateway's circuit breaker.
///
/// Any ledger call that fails or misses its deadline (`ai.ledger_timeout`) calls `markUnavailable`,
/// which opens the breaker: from then on the gateway decides without calling the ledger
/// (`fail_closed` → 503, `fail_open` → serve and spool), so an outage costs no request a wait.
/// The ledger monitor probes the ledger about every second while it is open and calls
/// `markAvailable` once it answers, which closes it again. Cheap to read from any thread (one
/// lock, no I/O).
///
/// A call that started before the last recovery and fails afterwards says nothing about the
/// ledger now, so failures carry the `generation` read when their call started and are ignored
/// when the breaker has closed since.
public final class LedgerHealth: Sendable {
    private struct State {
        var problem: String?
        var sinceMilliseconds: Int64?
        var lastError: String?
        var lastErrorMilliseconds: Int64?
        var recoveredMilliseconds: Int64?
        var generation = 0
        var spooled = 0
    }

    /// `sqlite` or `postgres`.
    public let backend: String
    /// The ledger's file path or URL (password masked), shown in details.
    public let location: String
    private let state: NIOLockedValueBox<State>
    private let clock: @Sendable () -> Int64

    /// Creates the health of one ledger; it starts as `initialProblem` (nil: available).
    /// `nowMilliseconds` is the clock (Unix ms) stamped on outages.
    public init(backend: String, location: String, initialProblem: String? = nil,
                nowMilliseconds: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) {
        self.backend = backend
        self.location = location
        clock = nowMilliseconds
        let now = nowMilliseconds()
        state = NIOLockedValueBox(State(problem: initialProblem, sinceMilliseconds: initialProblem == nil ? nil : now,
                                        lastError: initialProblem, lastErrorMilliseconds: initialProblem == nil ? nil : now))
    }

    /// Counts recoveries: read it before a ledger call and pass it to `markUnavailable` with
    /// that call's failure.
    public var generation: Int { state.withLockedValue { $0.generation } }

    /// Records that the ledger failed (opens the breaker); the outage keeps its first `since`.
    /// A failure of a call that started in an earlier `generation` is ignored: the ledger has
    /// answered since.
    public func markUnavailable(_ error: any Error, generation: Int? = nil) {
        let text = "\(error)"
        let now = clock()
        state.withLockedValue { state in
            if let generation, generation != state.generation { return }
            if state.problem == nil { state.sinceMilliseconds = now }
            state.problem = text
            state.lastError = text
            state.lastErrorMilliseconds = now
        }
    }

    /// Records that the ledger answered (closes the breaker). The outage's error stays in
    /// `details` as `previous_error`, with its time and when the ledger came back.
    public func markAvailable() {
        let now = clock()
        state.withLockedValue { state in
            guard state.problem != nil else { return }
            state.problem = nil
            state.sinceMilliseconds = nil
            state.recoveredMilliseconds = now
            state.generation += 1
        }
    }

    /// Counts one usage record written to the fail-open spool instead of the ledger.
    public func noteSpooled() {
        state.withLockedValue { $0.spooled += 1 }
    }

    /// Sets the number of spooled records not yet replayed (after a reconcile: usually 0).
    public func setSpooled(_ count: Int) {
        state.withLockedValue { $0.spooled = max(0, count) }
    }

    /// Whether the ledger answered last time it was used: the breaker is closed.
    public var isAvailable: Bool { state.withLockedValue { $0.problem == nil } }

    /// Why the ledger is unavailable (the error, naming the backend and the fix), or nil when it works.
    public var problem: String? { state.withLockedValue { $0.problem } }

    /// Facts for `/healthz`: `backend`, `ledger` (path or masked URL); while unavailable
    /// `last_error` and `since` (RFC 3339); once it answers again, the outage's error as
    /// `previous_error` with `previous_error_at` and `recovered_at`, so a working ledger never
    /// shows an error as if it were current; `spooled` (records waiting in the fail-open spool).
    public var details: [String: String] {
        let snapshot = state.withLockedValue { $0 }
        var out = ["backend": backend, "ledger": location]
        if snapshot.problem != nil {
            if let error = snapshot.lastError { out["last_error"] = error }
            if let since = snapshot.sinceMilliseconds { out["since"] = RFC3339.timestamp(millis: since) }
        } else if let error = snapshot.lastError {
            out["previous_error"] = error
            if let at = snapshot.lastErrorMilliseconds { out["previous_error_at"] = RFC3339.timestamp(millis: at) }
            if let at = snapshot.recoveredMilliseconds { out["recovered_at"] = RFC3339.timestamp(millis: at) }
        }
        if snapshot.spooled > 0 { out["spooled"] = String(snapshot.spooled) }
        return out
    }
}
