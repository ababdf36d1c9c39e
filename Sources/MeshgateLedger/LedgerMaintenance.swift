import Logging
import MeshgateAI

/// The ledger's background chores, for a service to run until shutdown: renew this instance's
/// lease, give back reservations whose holder died (its lease went stale) or that outlived their
/// lifetime, and replay the fail-open spool once the ledger answers again.
public enum LedgerMaintenance {
    /// The default for `ai.lease_heartbeat`: a dead instance's reservations are reclaimed by the
    /// others within three heartbeats of its last (two missed, then the next round): ≤ 30 s.
    public static let defaultHeartbeat: Duration = .seconds(10)

    /// When a lease renewed every `heartbeat` counts as stale at `now`: two heartbeats missed.
    public static func staleBefore(now: Int64, heartbeat: Duration) -> Int64 {
        now - 2 * max(1, heartbeat.components.seconds)
    }

    /// One round of chores; returns the number of reservations reclaimed and spooled records replayed.
    /// Failures are logged and left for the next round.
    @discardableResult
    public static func runOnce(ledger: any TokenLedger, spool: UsageSpool?, now: Int64, heartbeat: Duration = defaultHeartbeat,
                               logger: Logger) async -> (reclaimed: Int, replayed: Int) {
        var reclaimed = 0
        var replayed = 0
        do {
            // Renewed first: a round that finds the ledger again must not let others think this
            // instance dead while it reclaims.
            try await ledger.renewLease(now: now)
            reclaimed = try await ledger.reclaimAbandoned(now: now, staleBefore: staleBefore(now: now, heartbeat: heartbeat))
            if reclaimed > 0 {
                logger.warning("reclaimed token reservations of a meshgate instance that stopped renewing its lease (or that expired)",
                               metadata: ["count": "\(reclaimed)"])
            }
            if let spool, try await !spool.pending().isEmpty {
                let result = try await spool.reconcile(into: ledger)
                replayed = result.replayed
                logger.notice("replayed spooled token usage into the ledger",
                              metadata: ["records": "\(result.replayed)", "unreadable": "\(result.unreadable)"])
            }
        } catch {
            logger.warning("token ledger maintenance failed", metadata: ["error": "\(error)"])
        }
        return (reclaimed, replayed)
    }

    /// What an instance does when its ledger opens: renews its lease (so no other instance takes
    /// what it reserves next for abandoned) and gives back what its previous run still held (it
    /// crashed or was killed before settling). Returns how many were given back.
    public static func start(ledger: any TokenLedger, now: Int64, logger: Logger) async throws -> Int {
        try await ledger.renewLease(now: now)
        let freed = try await ledger.releaseHeld()
        if freed > 0 {
            logger.notice("gave back token reservations this instance held when it last stopped (it did not settle them)",
                          metadata: ["count": "\(freed)"])
        }
        return freed
    }
}
