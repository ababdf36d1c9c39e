import Foundation
import Logging
import MeshgateAI
import MeshgateAdmin
import MeshgateDashboard
import MeshgateDNS
import MeshgateProxy
import MeshgateTLS
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle

/// `meshgate serve`: turns a configuration into running listeners under one ServiceGroup.
/// SIGTERM and SIGINT drain gracefully (in-flight requests finish, the audit queue is flushed).
public enum MeshgateServer {
    /// Runs until a shutdown signal.
    public static func serve(configuration: MeshgateConfiguration, logger: Logger) async throws {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let assembled = try await assemble(configuration: configuration, registry: registry, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: assembled.services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
        try? await assembled.eventLoopGroup.shutdownGracefully()
    }

    /// The running pieces of a server (exposed for tests that start meshgate in-process).
    public struct Assembly: Sendable {
        /// In start order; ServiceGroup stops them in reverse, so the audit sink stops last.
        public var services: [any Service]
        /// The explicit proxy, when configured.
        public var explicitProxy: ProxyServer?
        /// The admin listener, when configured.
        public var admin: AdminServer?
        /// The DNS filter, when configured (its `memory` maps answered addresses back to names).
        public var dns: DNSServer?
        /// The threads everything runs on.
        public var eventLoopGroup: MultiThreadedEventLoopGroup
        /// The CA in use.
        public var authority: CertificateAuthority
        /// The AI gateway's budgets, ledger, spool, metrics and ledger health (for the proxies'
        /// metering and the `ai` listener); nil when no listener can carry LLM traffic.
        public var ai: AIRuntime?
    }

    /// Builds every service from the configuration without starting any, one builder per service
    /// in start order (ServiceGroup stops them in reverse).
    public static func assemble(configuration: MeshgateConfiguration, registry: PrometheusCollectorRegistry, logger: Logger) async throws -> Assembly {
        try FileManager.default.createDirectory(atPath: configuration.stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let tls = try TLSAssembly(configuration: configuration, logger: logger)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let health = HealthRegistry()
        let leaves = tls.leafCache
        // Not a failure mode, a gauge the Health page shows: how full the minted-leaf cache is.
        health.register("certificate_cache") {
            HealthStatus(ok: true, details: ["leaves": "\(leaves.count)", "capacity": "\(leaves.capacity)"])
        }
        let dashboard = DashboardAssembly.feed(configuration: configuration, logger: logger)
        let audit = AuditAssembly.sink(configuration: configuration, health: health, observer: dashboard, logger: logger)
        let ai = try await AIAssembly.runtime(configuration: configuration, health: health, logger: logger)
        let adminToken = try AdminAssembly.token(configuration: configuration)
        let policy = try PolicyAssembly(configuration: configuration, audit: audit, health: health, logger: logger)
        let proxy = try ProxyAssembly(configuration: configuration, tls: tls, audit: audit, policy: policy.reloader.holder, ai: ai,
                                      group: group, logger: logger)
        let dns = DNSAssembly.server(configuration: configuration, proxy: proxy, policy: policy.reloader.holder, audit: audit,
                                     health: health, group: group, logger: logger)
        let admin = AdminAssembly.server(configuration: configuration, authority: tls.authority, token: adminToken, reloader: policy.reloader,
                                         ai: ai, registry: registry, health: health, group: group, logger: logger)
        if let admin, let dashboard {
            admin.setDashboard(DashboardAssembly.hooks(feed: dashboard, configuration: configuration, policy: policy.reloader.holder))
        }

        // The feed before the audit sink, so that it stops after it and saves the sink's last batch.
        var services: [any Service] = dashboard.map { [$0] } ?? []
        services.append(audit)
        services += ai?.services ?? []
        services += policy.services
        services += proxy.servers as [any Service]
        if let dns { services.append(dns) }
        if let admin { services.append(admin) }
        return Assembly(services: services, explicitProxy: proxy.explicit, admin: admin, dns: dns, eventLoopGroup: group,
                        authority: tls.authority, ai: ai)
    }

    /// The proxy's view of the configuration.
    public static func proxyConfiguration(from configuration: MeshgateConfiguration) -> ProxyConfiguration {
        ProxyAssembly.configuration(from: configuration)
    }

    /// The DNS filter's view of the configuration.
    public static func dnsConfiguration(from configuration: MeshgateConfiguration) -> DNSFilterConfiguration {
        DNSAssembly.configuration(from: configuration)
    }
}
