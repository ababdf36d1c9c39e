import Foundation
import MeshgateAudit
import NIOConcurrencyHelpers

/// Whether the token ledger can be reached right now, for `/healthz` and the fail-open decision.
///
/// The request path calls `markUnavailable` when a reserve or settle throws `LedgerUnavailable`, and
/// the background ping calls `markAvailable` once the ledger answers again. Cheap to read from any
/// thread (one lock, no I/O).
public final class LedgerHealth: Sendable {
    private struct State {
        var problem: String?
        var sinceMilliseconds: Int64?
        var lastError: String?
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
        state = NIOLockedValueBox(State(problem: initialProblem, sinceMilliseconds: initialProblem == nil ? nil : nowMilliseconds(),
                                        lastError: initialProblem))
    }

    /// Records that the ledger failed; the outage keeps its first `since`.
    public func markUnavailable(_ error: any Error) {
        let text = "\(error)"
        let now = clock()
        state.withLockedValue { state in
            if state.problem == nil { state.sinceMilliseconds = now }
            state.problem = text
            state.lastError = text
        }
    }

    /// Records that the ledger answered; the last error stays in `details` for the operator.
    public func markAvailable() {
        state.withLockedValue { state in
            state.problem = nil
            state.sinceMilliseconds = nil
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

    /// Whether the ledger answered last time it was used.
    public var isAvailable: Bool { state.withLockedValue { $0.problem == nil } }

    /// Why the ledger is unavailable (the error, naming the backend and the fix), or nil when it works.
    public var problem: String? { state.withLockedValue { $0.problem } }

    /// Facts for `/healthz`: `backend`, `ledger` (path or masked URL), and when present `last_error`,
    /// `since` (RFC 3339, while unavailable) and `spooled` (records waiting in the fail-open spool).
    public var details: [String: String] {
        let snapshot = state.withLockedValue { $0 }
        var out = ["backend": backend, "ledger": location]
        if let error = snapshot.lastError { out["last_error"] = error }
        if let since = snapshot.sinceMilliseconds { out["since"] = RFC3339.timestamp(millis: since) }
        if snapshot.spooled > 0 { out["spooled"] = String(snapshot.spooled) }
        return out
    }
}
