import Foundation
import Logging
import MeshgateAI
import MeshgateAdmin
import MeshgateAudit
import MeshgateCore
import MeshgateDNS
import MeshgatePolicy
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

    /// Builds every service from the configuration without starting any.
    public static func assemble(configuration: MeshgateConfiguration, registry: PrometheusCollectorRegistry, logger: Logger) async throws -> Assembly {
        try FileManager.default.createDirectory(atPath: configuration.stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])

        let keyType: CAKeyType = configuration.tls.caKeyType == .rsa3072 ? .rsa3072 : .ecdsaP256
        let (authority, created) = try CertificateAuthority.loadOrCreate(
            certificatePath: configuration.tls.caCertPath,
            keyPath: configuration.tls.caKeyPath,
            keyType: keyType
        )
        if created {
            logger.notice("created a new local CA; clients must trust it to use interception", metadata: [
                "ca_cert": "\(configuration.tls.caCertPath)", "ca_key": "\(configuration.tls.caKeyPath)",
                "fix": "meshgate ca export > meshgate-ca.pem, then install it (see README: pointing a laptop at meshgate)",
            ])
        }

        let eventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let audit: JSONLinesAuditSink
        switch configuration.audit.destination {
        case .stdout: audit = JSONLinesAuditSink(path: "-", logger: logger)
        case .file(let path): audit = JSONLinesAuditSink(path: path, logger: logger)
        }
        var services: [any Service] = [audit]

        let health = HealthRegistry()
        health.register("audit", auditSink: audit)

        // Before the proxies in `services`, so the ledger outlives their drain (in-flight calls settle).
        let ai = try await AIRuntime.make(configuration: configuration, logger: logger)
        if let ai {
            health.register("ai_ledger") { ai.healthStatus() }
            services += ai.services
        }

        let minter = try LeafMinter(authority: authority, validity: configuration.tls.leafValidity.seconds)
        let cache = LeafCertificateCache(minter: minter, capacity: configuration.tls.leafCacheSize)
        let trust: UpstreamTrust
        switch configuration.tls.upstreamCA {
        case .system: trust = .system
        case .bundle(let path): trust = .pemBundle(path: path)
        }
        let upstreamContext = try UpstreamTLS.makeClientContext(trust: trust)

        let adminToken = try AdminToken.loadOrCreate(path: (configuration.stateDirectory as NSString).appendingPathComponent(AdminToken.fileName))

        let reloader = PolicyReloader(configuration: configuration, holder: PolicyHolder(), audit: audit, logger: logger)
        try reloader.loadInitial()
        health.register("policy", reloader.health)
        services.append(reloader)
        services.append(ServerSignalService(reloader: reloader, audit: audit, stateDirectory: configuration.stateDirectory, logger: logger))
        if let updates = configuration.rulesetUpdates, let interval = updates.interval {
            let periodic = PeriodicRulesetUpdater(configuration: configuration, interval: interval, reloader: reloader, logger: logger)
            health.register("ruleset_updates", periodic.health)
            services.append(periodic)
        }

        var explicit: ProxyServer?
        var proxyServices: ProxyServices?
        if configuration.listeners.explicit != nil || configuration.listeners.transparent != nil || configuration.listeners.ai != nil {
            var proxyConfiguration = proxyConfiguration(from: configuration)
            if configuration.listeners.transparent != nil, let mark = configuration.transparent.mark {
                // Unmarked upstream connections would be redirected back to us, one after another.
                if let problem = SocketMark.check(mark) {
                    throw StartupError(description: "listeners.transparent needs meshgate's upstream sockets marked 0x\(String(mark, radix: 16)) so the redirect rules exempt them, but \(problem); give meshgate CAP_NET_ADMIN (contrib/systemd/meshgate.service does), or set transparent.mark: none and exempt its user instead (contrib/egress.sh --user)")
                }
                proxyConfiguration.socketMark = mark
            }
            proxyServices = try ProxyServices(
                configuration: proxyConfiguration,
                leafCache: cache,
                upstreamTLSContext: upstreamContext,
                audit: audit,
                identities: ConfiguredIdentityResolver(configuration.identities),
                policy: reloader.holder,
                ai: ai.map { AIGatewayAssembly.gateway(configuration: configuration, runtime: $0, logger: logger) },
                group: eventLoopGroup,
                logger: logger
            )
        }
        let proxyListeners: [(ProxyServer.Listener, ListenAddress?)] = [
            (.explicit, configuration.listeners.explicit), (.transparent, configuration.listeners.transparent), (.ai, configuration.listeners.ai),
        ]
        for case (let listener, let address?) in proxyListeners {
            guard let proxyServices else { break }
            let server = ProxyServer(listener, host: address.host, port: address.port, services: proxyServices, group: eventLoopGroup,
                                     shutdownGrace: TimeAmount(configuration.limits.shutdownGrace))
            if listener == .explicit { explicit = server }
            services.append(server)
        }

        var dns: DNSServer?
        if let address = configuration.listeners.dns {
            var dnsConfiguration = dnsConfiguration(from: configuration)
            // Marked like the proxy's upstream sockets when the node redirects traffic to meshgate.
            if configuration.listeners.transparent != nil { dnsConfiguration.socketMark = proxyServices?.configuration.socketMark }
            let server = DNSServer(
                host: address.host,
                port: address.port,
                configuration: dnsConfiguration,
                policy: { [holder = reloader.holder] in holder.current },
                identities: ConfiguredIdentityResolver(configuration.identities),
                audit: audit,
                group: eventLoopGroup,
                logger: logger
            )
            health.register("dns") {
                server.healthProblem.map { .failing($0, details: server.healthDetails) } ?? HealthStatus(ok: true, details: server.healthDetails)
            }
            dns = server
            services.append(server)
            // Redirected connections without SNI or Host are named by what the client resolved.
            proxyServices?.nameMemory = server.memory
        }

        var admin: AdminServer?
        if let address = configuration.listeners.admin {
            let adminConfiguration = AdminConfiguration(
                bindHost: address.host,
                bindPort: address.port,
                allowClients: configuration.access.allowClients,
                explicitProxyAddress: configuration.listeners.explicit.map { pacAddress(for: $0) },
                caCertificatePEM: authority.certificatePEM,
                adminToken: adminToken
            )
            let server = AdminServer(configuration: adminConfiguration, registry: registry, health: health, group: eventLoopGroup, logger: logger)
            server.setReloadHandler { requestedBy in reloader.reload(requestedBy: requestedBy) }
            if let ai {
                server.setUsageHandler { team in
                    do { return .success(try await ai.usageReport(team: team).json) } catch { return .failure(error) }
                }
            }
            admin = server
            services.append(server)
        }

        return Assembly(services: services, explicitProxy: explicit, admin: admin, dns: dns, eventLoopGroup: eventLoopGroup, authority: authority, ai: ai)
    }

    /// The proxy's view of the configuration.
    public static func proxyConfiguration(from configuration: MeshgateConfiguration) -> ProxyConfiguration {
        var own: [HostPort] = []
        for (_, address) in configuration.listeners.enabled {
            own.append(HostPort(host: address.host.isEmpty ? "0.0.0.0" : address.host, port: address.port))
        }
        var proxy = ProxyConfiguration(
            allowClients: configuration.access.allowClients,
            requireIdentity: configuration.access.requireIdentity,
            connectPorts: Set(configuration.access.connectPorts),
            doNotInspect: HostPatternList(configuration.tls.doNotInspect.compactMap(HostPattern.init)),
            maxHeaderBytes: configuration.limits.maxHeaderBytes,
            maxURLBytes: configuration.limits.maxURLBytes,
            headerReadTimeout: TimeAmount(configuration.limits.headerReadTimeout),
            idleTimeout: TimeAmount(configuration.limits.idleTimeout),
            upstreamConnectTimeout: TimeAmount(configuration.limits.upstreamConnectTimeout),
            ownAddresses: own,
            maxInspectedBodyBytes: configuration.inspection.maxBodyBytes,
            overLimit: configuration.inspection.overLimit == .block ? .block : .inspectPrefix
        )
        proxy.undecodable = configuration.inspection.undecodable == .allow ? .allow : .block
        proxy.mcpConnectors = configuration.inspection.mcpConnectors
        proxy.allowDestinations = configuration.access.allowDestinations
        proxy.maxHeaderCount = configuration.limits.maxHeaderCount
        proxy.auditRedactor = AuditRedactor(queryKeys: configuration.audit.queryKeys)
        return proxy
    }

    /// The DNS filter's view of the configuration.
    public static func dnsConfiguration(from configuration: MeshgateConfiguration) -> DNSFilterConfiguration {
        DNSFilterConfiguration(
            upstreams: configuration.dns.upstreams.compactMap { try? SocketAddress(ipAddress: $0.host, port: $0.port) },
            blockAnswer: configuration.dns.blockAnswer == .nxdomain ? .nxdomain : .zero,
            redirectIPv4: configuration.dns.redirectIPv4,
            redirectIPv6: configuration.dns.redirectIPv6,
            allowClients: configuration.access.allowClients
        )
    }

    /// The address clients should use in a PAC file: a wildcard bind is reached via loopback.
    static func pacAddress(for address: ListenAddress) -> String {
        let host = address.isWildcard || address.host.isEmpty ? "127.0.0.1" : address.host
        return host.contains(":") ? "[\(host)]:\(address.port)" : "\(host):\(address.port)"
    }
}

/// A configuration that cannot run on this machine, with the fix.
public struct StartupError: Error, CustomStringConvertible {
    /// What is wrong and what to do.
    public var description: String
}
