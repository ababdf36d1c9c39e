import Foundation
import Logging
import MeshgateAI
import MeshgateLedger
import ServiceLifecycle

/// Drives the PostgreSQL ledger's connection pool until graceful shutdown.
struct PostgresLedgerService: Service {
    let ledger: PostgresTokenLedger

    func run() async throws {
        await cancelWhenGracefulShutdown { await ledger.run() }
    }
}

/// Keeps the ledger's health and the budget gauges current and does the ledger's chores:
/// pings every `pingInterval` while the ledger works (marking it available or not, and logging
/// each change); while it is down (the AI gateway's breaker is open) probes it every
/// `probeInterval`, so that the breaker closes within about a second of the ledger answering
/// again; every `heartbeat` (`ai.lease_heartbeat`) renews this instance's lease and reclaims dead
/// instances' reservations; every `maintenanceInterval`, and right after the ledger comes back,
/// also replays the fail-open spool and refreshes the remaining-tokens gauges (the usage report
/// behind them reads the month's usage, too much to do every heartbeat).
struct LedgerMonitor: Service {
    let ledger: any TokenLedger
    let spool: UsageSpool?
    let budgets: [TokenBudget]
    let metrics: AIMetrics
    let health: LedgerHealth
    let logger: Logger
    var pingInterval: Duration = .seconds(5)
    var probeInterval: Duration = .seconds(1)
    var heartbeat: Duration = LedgerMaintenance.defaultHeartbeat
    var maintenanceInterval: Duration = .seconds(30)
    /// How long a ping or probe may take (`ai.ledger_timeout`, as for the request path).
    var timeout: Duration = LedgerDeadline.defaultTimeout
    var now: @Sendable () -> Int64 = { AIRuntime.unixNow() }

    func run() async throws {
        await cancelWhenGracefulShutdown { await loop() }
    }

    func loop() async {
        var lastChores: ContinuousClock.Instant?
        var lastLease: ContinuousClock.Instant?
        var lastPing: ContinuousClock.Instant?
        var outageLogged = false
        while !Task.isCancelled {
            let wasAvailable = health.isAvailable
            // Ticks every probe interval; a working ledger is pinged less often.
            if !wasAvailable || lastPing.map({ ContinuousClock.now - $0 >= pingInterval }) ?? true {
                lastPing = ContinuousClock.now
                let generation = health.generation
                do {
                    try await probe(writing: !wasAvailable)
                    health.markAvailable()
                    if outageLogged {
                        logger.notice("token ledger is reachable again", metadata: ["ledger": "\(health.location)"])
                        outageLogged = false
                    }
                    if !wasAvailable { lastChores = nil }
                } catch {
                    // Stopping (a listener failed to bind, SIGTERM) cancels the probe: not an outage.
                    if Task.isCancelled || error is CancellationError || "\(error)".contains("CancellationError") { break }
                    health.markUnavailable(error, generation: generation)
                    if !outageLogged {
                        logger.error("token ledger unavailable", metadata: [
                            "ledger": "\(health.location)", "error": "\(error)",
                            "fix": "check that ai.ledger is reachable; meanwhile ai.ledger_unavailable decides (fail_closed: 503, fail_open: spool)",
                        ])
                        outageLogged = true
                    }
                }
            }
            // On every tick, not only after a ping: a lease renewed late looks dead to the others.
            if health.isAvailable, lastChores.map({ ContinuousClock.now - $0 >= maintenanceInterval }) ?? true {
                lastChores = ContinuousClock.now
                lastLease = lastChores
                await chores()
            } else if health.isAvailable, lastLease.map({ ContinuousClock.now - $0 >= heartbeat }) ?? true {
                lastLease = ContinuousClock.now
                await LedgerMaintenance.runOnce(ledger: ledger, spool: nil, now: now(), heartbeat: heartbeat, logger: logger)
            }
            do { try await Task.sleep(for: probeInterval) } catch { return }
        }
    }

    /// Pings the ledger within the timeout. With `writing` (deciding whether to close the breaker)
    /// also gives back a reservation that does not exist, which takes the write lock and changes
    /// nothing: a SQLite file another process holds locked still answers reads, and closing the
    /// breaker on a ping alone would cost the next request a timeout.
    func probe(writing: Bool) async throws {
        let ledger = ledger
        try await LedgerDeadline.run(within: timeout, backend: health.backend) {
            try await ledger.ping()
            guard writing else { return }
            let charge = TokenBudget(subject: .team("meshgate-probe"), tokens: 1, window: .month).charge(at: AIRuntime.unixNow())
            try await ledger.release(LedgerReservation(id: "probe-" + UUID().uuidString, tokens: 0, charges: [charge],
                                                       remaining: nil, resetsAt: nil))
        }
    }

    /// One round of maintenance and gauge refresh.
    func chores() async {
        let instant = now()
        await LedgerMaintenance.runOnce(ledger: ledger, spool: spool, now: instant, heartbeat: heartbeat, logger: logger)
        if let spool { health.setSpooled((try? await spool.pending().count) ?? 0) }
        guard !budgets.isEmpty, let report = try? await ledger.report(budgets: budgets, now: instant) else { return }
        for budget in budgets {
            let charge = budget.charge(at: instant)
            let remaining: Int? = switch budget.subject {
            case .team(let name): report.teams.first { $0.team == name && $0.window == charge.window }?.remaining
            case .identity(let name): report.identities.first { $0.identity == name }?.remaining
            }
            if let remaining { metrics.record(remaining: remaining, for: charge) }
        }
    }
}
