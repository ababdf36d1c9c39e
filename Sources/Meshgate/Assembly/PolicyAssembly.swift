import Logging
import MeshgateAdmin
import MeshgateAudit
import MeshgateProxy
import ServiceLifecycle

/// Builds the policy from `rulesets:` and what keeps it current: the reloader (SIGHUP and the
/// admin endpoint), the signal service, and the periodic updater when `ruleset_updates.interval`
/// is set. The initial load happens here, so a bad ruleset stops startup.
struct PolicyAssembly {
    /// Holds the current policy; proxies and the DNS filter read it per request.
    let reloader: PolicyReloader
    /// In start order.
    let services: [any Service]

    init(configuration: MeshgateConfiguration, audit: JSONLinesAuditSink, health: HealthRegistry, logger: Logger) throws {
        let reloader = PolicyReloader(configuration: configuration, holder: PolicyHolder(), audit: audit, logger: logger)
        try reloader.loadInitial()
        health.register("policy", reloader.health)
        var services: [any Service] = [
            reloader,
            ServerSignalService(reloader: reloader, audit: audit, stateDirectory: configuration.stateDirectory, logger: logger),
        ]
        if let updates = configuration.rulesetUpdates, let interval = updates.interval {
            let periodic = PeriodicRulesetUpdater(configuration: configuration, interval: interval, reloader: reloader, logger: logger)
            health.register("ruleset_updates", periodic.health)
            services.append(periodic)
        }
        self.reloader = reloader
        self.services = services
    }
}
