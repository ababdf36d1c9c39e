import Foundation
import Logging
import MeshgateAdmin
import MeshgateAI
import MeshgateLedger
import ServiceLifecycle

/// The AI gateway's shared state for one `serve`: budgets, the token ledger, the fail-open spool,
/// metrics, ledger health, and the background services that keep them current. The proxy's request
/// path (explicit, transparent and `ai` listeners) meters through it; `/admin/usage` and `/healthz`
/// read it.
///
/// It is built whenever a listener that can carry LLM traffic is configured (explicit, transparent
/// or `ai`), with or without an `ai:` section: calls to known provider hosts through the
/// intercepting proxy are metered into the default `sqlite:<state_dir>/ledger.db` even with no
/// budgets, so `meshgate usage` shows them.
public final class AIRuntime: Sendable {
    /// `ai:` as configured (providers and models for the `ai` listener).
    public let settings: MeshgateConfiguration.AI
    /// `ai.budgets`, mapped for the ledger, in configuration order.
    public let budgets: [TokenBudget]
    /// Where usage is reserved and settled. When the configured ledger could not be opened at start
    /// this is a `DeferredTokenLedger` that keeps retrying (its calls throw `LedgerUnavailable` meanwhile).
    public let ledger: any TokenLedger
    /// The local spool for usage the ledger could not take: every call while it is down with
    /// `fail_open`, and with `fail_closed` the calls already admitted when it went away (the provider
    /// billed them), so no served call goes uncharged.
    public let spool: UsageSpool?
    /// `ai.ledger_unavailable: fail_open`: serve and spool when the ledger is down (else answer 503).
    public let failOpen: Bool
    /// Token counters and budget gauges.
    public let metrics: AIMetrics
    /// Whether the ledger can be reached; the request path marks failures, the monitor recoveries.
    public let health: LedgerHealth
    /// Background work to run under the server's ServiceGroup, before the proxies (so they stop
    /// after the proxies have drained and settled): the PostgreSQL pool, and the ledger monitor
    /// (ping every 5 s, probe every second while the ledger is down; renew this instance's lease
    /// and reclaim dead instances' reservations every `ai.lease_heartbeat`; replay the spool and
    /// refresh budget gauges every 30 s and when the ledger comes back).
    public let services: [any Service]
    /// This instance's name in the ledger (`state_dir/instance-id`), held locked while it runs.
    let instance: InstanceLease
    /// The name reservations are held under (for `/healthz` and logs).
    public var instanceID: String { instance.id }

    /// The spool's file name inside `state_dir`.
    public static let spoolFileName = "ai-usage-spool.jsonl"

    init(settings: MeshgateConfiguration.AI, budgets: [TokenBudget], ledger: any TokenLedger, spool: UsageSpool?,
         metrics: AIMetrics, health: LedgerHealth, services: [any Service], instance: InstanceLease) {
        self.instance = instance
        self.settings = settings
        self.budgets = budgets
        self.ledger = ledger
        self.spool = spool
        self.failOpen = settings.ledgerUnavailable == .failOpen
        self.metrics = metrics
        self.health = health
        self.services = services
    }

    /// Builds the runtime for `configuration`, or nil when no listener can carry LLM traffic.
    ///
    /// A ledger that cannot be opened does not stop the server: with `fail_closed` AI calls are
    /// refused (503) and `/healthz` fails naming the ledger and the fix until it opens; with
    /// `fail_open` calls are served and their usage spooled. A PostgreSQL ledger is connected by
    /// the services, so it starts out "not connected yet". Throws only for configuration the
    /// ledger cannot use at all (e.g. a PostgreSQL URL without a user).
    public static func make(configuration: MeshgateConfiguration, logger: Logger, metrics: AIMetrics? = nil) async throws -> AIRuntime? {
        let listeners = configuration.listeners
        guard listeners.explicit != nil || listeners.transparent != nil || listeners.ai != nil else { return nil }
        let settings = configuration.ai
        let metrics = metrics ?? AIMetrics()
        let spool: UsageSpool? = UsageSpool(path: (configuration.stateDirectory as NSString).appendingPathComponent(spoolFileName))

        let instance = InstanceLease(stateDirectory: configuration.stateDirectory)
        if !instance.isPersistent {
            logger.warning("another meshgate holds this state_dir's instance-id; this one runs under a name of its own, so reservations it leaves at a crash are freed by lease expiry (within three ai.lease_heartbeat) rather than at its restart",
                           metadata: ["instance": "\(instance.id)", "state_dir": "\(configuration.stateDirectory)"])
        }
        let source = try LedgerSource(settings.ledger, holder: instance.id, logger: logger)
        let ledger: any TokenLedger
        let health: LedgerHealth
        switch source.backend {
        case .sqlite(let path):
            do {
                let sqlite = try SQLiteTokenLedger(path: path, holder: instance.id)
                LedgerSource.reportTightened(sqlite, logger: logger)
                do {
                    _ = try await LedgerMaintenance.start(ledger: sqlite, now: unixNow(), logger: logger)
                } catch {
                    logger.warning("could not give back the reservations of this instance's previous run; they are reclaimed when they expire",
                                   metadata: ["error": "\(error)"])
                }
                ledger = sqlite
                health = LedgerHealth(backend: source.backendName, location: source.location)
            } catch {
                let unavailable = LedgerUnavailable(backend: source.backendName, reason: (error as? LedgerUnavailable)?.reason ?? "\(error)")
                logger.error("cannot open the token ledger; AI calls are \(settings.ledgerUnavailable == .failOpen ? "served and spooled" : "refused (503)") until it opens", metadata: [
                    "ledger": "\(source.location)", "error": "\(unavailable.reason)",
                    "fix": "make the directory of ai.ledger writable by meshgate, or point ai.ledger elsewhere",
                ])
                ledger = DeferredTokenLedger(backend: source.backendName, retryInterval: .seconds(1), opener: source.opener)
                health = LedgerHealth(backend: source.backendName, location: source.location, initialProblem: unavailable.description)
            }
        case .postgres:
            ledger = DeferredTokenLedger(backend: source.backendName, retryInterval: .seconds(1), opener: source.opener)
            health = LedgerHealth(backend: source.backendName, location: source.location,
                                  initialProblem: LedgerUnavailable(backend: source.backendName, reason: "not connected yet").description)
        }
        if let spool { health.setSpooled((try? await spool.pending().count) ?? 0) }

        let budgets = settings.budgets.map(Self.tokenBudget)
        var services: [any Service] = []
        if let pool = source.postgres { services.append(PostgresLedgerService(ledger: pool)) }
        services.append(LedgerMonitor(ledger: ledger, spool: spool, budgets: budgets, metrics: metrics, health: health, logger: logger,
                                      heartbeat: settings.leaseHeartbeat, timeout: settings.ledgerTimeout))
        return AIRuntime(settings: settings, budgets: budgets, ledger: ledger, spool: spool, metrics: metrics, health: health,
                         services: services, instance: instance)
    }

    /// One `ai.budgets[]` entry as the ledger sees it.
    public static func tokenBudget(_ budget: MeshgateConfiguration.AI.Budget) -> TokenBudget {
        let subject: BudgetSubject = switch budget.subject {
        case .team(let name): .team(name)
        case .identity(let name): .identity(name)
        }
        let window: BudgetWindow = switch budget.window {
        case .fixed(let duration): BudgetWindow(duration)
        case .month: .month
        }
        return TokenBudget(subject: subject, tokens: budget.tokens, window: window, hardEnforcement: budget.enforce == .hard)
    }

    /// Usage in the current windows, optionally only `team`'s (the `/admin/usage` and
    /// `meshgate usage` report). Marks the ledger unavailable when it cannot be read.
    public func usageReport(team: String? = nil, now: Int64 = AIRuntime.unixNow()) async throws -> UsageReport {
        do {
            return try await ledger.report(budgets: budgets, now: now).only(team: team)
        } catch let error as LedgerUnavailable {
            health.markUnavailable(error)
            throw error
        }
    }

    /// The `ai_ledger` check of `/healthz`: failing while the ledger is unreachable under
    /// `fail_closed`; passing but marked `degraded` under `fail_open` (the node still serves).
    public func healthStatus() -> HealthStatus {
        var details = health.details
        details["on_unavailable"] = failOpen ? "fail_open" : "fail_closed"
        details["instance"] = instance.id
        guard let problem = health.problem else { return HealthStatus(ok: true, details: details) }
        if failOpen {
            details["degraded"] = "serving and spooling usage locally: " + problem
            return HealthStatus(ok: true, details: details)
        }
        return .failing(problem, details: details)
    }

    /// Seconds since the Unix epoch, now.
    public static func unixNow() -> Int64 {
        Int64(Date().timeIntervalSince1970)
    }
}

extension UsageReport {
    /// Only `team`'s rows and identities (all of them for nil).
    public func only(team: String?) -> UsageReport {
        guard let team else { return self }
        return UsageReport(teams: teams.filter { $0.team == team }, identities: identities.filter { $0.team == team })
    }
}
