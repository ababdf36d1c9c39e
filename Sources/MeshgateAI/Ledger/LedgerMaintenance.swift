import Logging

/// The ledger's background chores, for a service to run until shutdown: give back reservations
/// whose holder died, and replay the fail-open spool once the ledger answers again.
public enum LedgerMaintenance {
    /// Runs every `interval` until the task is cancelled. `now` is the injected clock (Unix seconds).
    /// Failures are logged and retried on the next round; they never end the loop.
    public static func run(ledger: any TokenLedger, spool: UsageSpool?, interval: Duration = .seconds(30),
                           now: @Sendable () -> Int64, logger: Logger) async {
        while !Task.isCancelled {
            await runOnce(ledger: ledger, spool: spool, now: now(), logger: logger)
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }

    /// One round of chores; returns the number of reservations reclaimed and spooled records replayed.
    @discardableResult
    public static func runOnce(ledger: any TokenLedger, spool: UsageSpool?, now: Int64,
                               logger: Logger) async -> (reclaimed: Int, replayed: Int) {
        var reclaimed = 0
        var replayed = 0
        do {
            reclaimed = try await ledger.reclaimExpired(now: now)
            if reclaimed > 0 { logger.warning("reclaimed abandoned token reservations", metadata: ["count": "\(reclaimed)"]) }
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
}
