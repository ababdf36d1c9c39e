import Logging
import MeshgateAI
import ServiceLifecycle

/// Drives the PostgreSQL ledger's connection pool until graceful shutdown.
struct PostgresLedgerService: Service {
    let ledger: PostgresTokenLedger

    func run() async throws {
        await cancelWhenGracefulShutdown { await ledger.run() }
    }
}

/// Keeps the ledger's health and the budget gauges current and does the ledger's chores:
/// pings every `pingInterval` (marking the ledger available or not, and logging each change);
/// every `maintenanceInterval`, and right after the ledger comes back, reclaims expired
/// reservations, replays the fail-open spool and refreshes the remaining-tokens gauges.
struct LedgerMonitor: Service {
    let ledger: any TokenLedger
    let spool: UsageSpool?
    let budgets: [TokenBudget]
    let metrics: AIMetrics
    let health: LedgerHealth
    let logger: Logger
    var pingInterval: Duration = .seconds(5)
    var maintenanceInterval: Duration = .seconds(30)
    var now: @Sendable () -> Int64 = { AIRuntime.unixNow() }

    func run() async throws {
        await cancelWhenGracefulShutdown { await loop() }
    }

    func loop() async {
        var lastChores: ContinuousClock.Instant?
        var outageLogged = false
        while !Task.isCancelled {
            let wasAvailable = health.isAvailable
            do {
                try await ledger.ping()
                health.markAvailable()
                if outageLogged {
                    logger.notice("token ledger is reachable again", metadata: ["ledger": "\(health.location)"])
                    outageLogged = false
                }
                if !wasAvailable || lastChores.map({ ContinuousClock.now - $0 >= maintenanceInterval }) ?? true {
                    lastChores = ContinuousClock.now
                    await chores()
                }
            } catch {
                health.markUnavailable(error)
                if !outageLogged {
                    logger.error("token ledger unavailable", metadata: [
                        "ledger": "\(health.location)", "error": "\(error)",
                        "fix": "check that ai.ledger is reachable; meanwhile ai.ledger_unavailable decides (fail_closed: 503, fail_open: spool)",
                    ])
                    outageLogged = true
                }
            }
            do { try await Task.sleep(for: pingInterval) } catch { return }
        }
    }

    /// One round of maintenance and gauge refresh.
    func chores() async {
        let instant = now()
        await LedgerMaintenance.runOnce(ledger: ledger, spool: spool, now: instant, logger: logger)
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
