import NIOConcurrencyHelpers

/// The deadlines of ledger calls in flight, watched by one task that runs only while any are pending.
///
/// A timer per call (a sleeping task, cancelled when the call answered) cost a task and a dispatch
/// timer on every reservation and settlement, which showed in the profile of budgeted calls. The
/// watcher is a task on the same pool as the calls, for the reason `DeadlineAnswer` gives. (Adding
/// the time it could not run to every deadline was tried: on a loaded test runner it kept moving
/// the deadline of a ledger stalled for 5 s past the stall, so a dead ledger went unnoticed.)
final class LedgerWatchdog: Sendable {
    /// Called once, when the deadline passed first.
    typealias Expiry = @Sendable () -> Void

    private struct Entry {
        var deadline: ContinuousClock.Instant
        var expire: Expiry
    }

    private struct State {
        var pending: [UInt64: Entry] = [:]
        var nextID: UInt64 = 0
        var watching = false
    }

    /// Deadlines are checked at least this often (and at the earliest one's instant).
    private let granularity: Duration
    private let state = NIOLockedValueBox(State())

    static let shared = LedgerWatchdog()

    init(granularity: Duration = .milliseconds(100)) {
        self.granularity = granularity
    }

    /// Watches `deadline`; `expire` runs if it passes before `remove` is called with the returned id.
    func add(deadline: ContinuousClock.Instant, expire: @escaping Expiry) -> UInt64 {
        let (id, start) = state.withLockedValue { state -> (UInt64, Bool) in
            state.nextID &+= 1
            state.pending[state.nextID] = Entry(deadline: deadline, expire: expire)
            defer { state.watching = true }
            return (state.nextID, !state.watching)
        }
        if start { Task { await self.watch() } }
        return id
    }

    /// Stops watching `id` (its call answered).
    func remove(_ id: UInt64) {
        state.withLockedValue { _ = $0.pending.removeValue(forKey: id) }
    }

    /// Calls in flight (for tests).
    var pendingCount: Int { state.withLockedValue { $0.pending.count } }

    /// Runs while calls are pending; `since` is when it was asked to start.
    private func watch() async {
        let clock = ContinuousClock()
        while true {
            let now = clock.now
            let (expired, wake) = state.withLockedValue { state -> ([Expiry], ContinuousClock.Instant?) in
                var expired: [Expiry] = []
                var earliest: ContinuousClock.Instant?
                for (id, entry) in state.pending {
                    if entry.deadline <= now {
                        expired.append(entry.expire)
                        state.pending.removeValue(forKey: id)
                    } else if earliest.map({ entry.deadline < $0 }) ?? true {
                        earliest = entry.deadline
                    }
                }
                if state.pending.isEmpty { state.watching = false }
                return (expired, state.pending.isEmpty ? nil : min(earliest ?? now, now + granularity))
            }
            for expire in expired { expire() }
            guard let wake else { return }
            try? await Task.sleep(until: wake, clock: clock)
        }
    }
}
