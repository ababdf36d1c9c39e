import Logging
import MeshgateAdmin
import MeshgateAudit
import MeshgateDNS
import MeshgateProxy
import NIOCore
import NIOPosix

/// Builds the DNS filter from `listeners.dns` and `dns:`, when configured.
enum DNSAssembly {
    /// The DNS server, registered as the `dns` health check; it also tells the proxies which name
    /// a client resolved, for redirected connections without SNI or Host.
    static func server(configuration: MeshgateConfiguration, proxy: ProxyAssembly, policy: PolicyHolder, audit: JSONLinesAuditSink,
                       health: HealthRegistry, group: MultiThreadedEventLoopGroup, logger: Logger) -> DNSServer? {
        guard let address = configuration.listeners.dns else { return nil }
        var dnsConfiguration = Self.configuration(from: configuration)
        // Marked like the proxy's upstream sockets when the node redirects traffic to meshgate.
        if configuration.listeners.transparent != nil { dnsConfiguration.socketMark = proxy.services?.configuration.socketMark }
        let server = DNSServer(
            host: address.host,
            port: address.port,
            configuration: dnsConfiguration,
            policy: { [policy] in policy.current },
            identities: ConfiguredIdentityResolver(configuration.identities),
            audit: audit,
            group: group,
            logger: logger
        )
        health.register("dns") {
            server.healthProblem.map { .failing($0, details: server.healthDetails) } ?? HealthStatus(ok: true, details: server.healthDetails)
        }
        proxy.services?.nameMemory = server.memory
        return server
    }

    /// The DNS filter's view of the configuration.
    static func configuration(from configuration: MeshgateConfiguration) -> DNSFilterConfiguration {
        DNSFilterConfiguration(
            upstreams: configuration.dns.upstreams.compactMap { try? SocketAddress(ipAddress: $0.host, port: $0.port) },
            blockAnswer: configuration.dns.blockAnswer == .nxdomain ? .nxdomain : .zero,
            redirectIPv4: configuration.dns.redirectIPv4,
            redirectIPv6: configuration.dns.redirectIPv6,
            allowClients: configuration.access.allowClients
        )
    }
}
