import Logging
import MeshgateAI
import MeshgateAudit
import MeshgateCore
import MeshgatePolicy
import MeshgateProxy
import NIOCore
import NIOPosix

/// Builds the proxy listeners (`explicit`, `transparent`, `ai`) over one shared set of proxy
/// services; nothing when none of them is configured.
struct ProxyAssembly {
    /// What the listeners share (identity, policy, TLS, audit, AI); nil when there is no listener.
    let services: ProxyServices?
    /// In start order.
    let servers: [ProxyServer]
    /// The explicit proxy, when configured.
    let explicit: ProxyServer?

    init(configuration: MeshgateConfiguration, tls: TLSAssembly, audit: JSONLinesAuditSink, policy: PolicyHolder, ai: AIRuntime?,
         group: MultiThreadedEventLoopGroup, logger: Logger) throws {
        let listeners = configuration.listeners
        guard listeners.explicit != nil || listeners.transparent != nil || listeners.ai != nil else {
            (services, servers, explicit) = (nil, [], nil)
            return
        }
        var proxyConfiguration = Self.configuration(from: configuration)
        if listeners.transparent != nil, let mark = configuration.transparent.mark {
            // Unmarked upstream connections would be redirected back to us, one after another.
            if let problem = SocketMark.check(mark) {
                throw StartupError(description: "listeners.transparent needs meshgate's upstream sockets marked 0x\(String(mark, radix: 16)) so the redirect rules exempt them, but \(problem); give meshgate CAP_NET_ADMIN (contrib/systemd/meshgate.service does), or set transparent.mark: none and exempt its user instead (contrib/egress.sh --user)")
            }
            proxyConfiguration.socketMark = mark
        }
        let services = try ProxyServices(
            configuration: proxyConfiguration,
            leafCache: tls.leafCache,
            upstreamTLSContext: tls.upstreamContext,
            audit: audit,
            identities: ConfiguredIdentityResolver(configuration.identities),
            policy: policy,
            ai: ai.map { AIAssembly.gateway(configuration: configuration, runtime: $0, logger: logger) },
            group: group,
            logger: logger
        )
        let addresses: [(ProxyServer.Listener, ListenAddress?)] = [
            (.explicit, listeners.explicit), (.transparent, listeners.transparent), (.ai, listeners.ai),
        ]
        var servers: [ProxyServer] = []
        var explicit: ProxyServer?
        for case (let listener, let address?) in addresses {
            let server = ProxyServer(listener, host: address.host, port: address.port, services: services, group: group,
                                     shutdownGrace: TimeAmount(configuration.limits.shutdownGrace))
            if listener == .explicit { explicit = server }
            servers.append(server)
        }
        (self.services, self.servers, self.explicit) = (services, servers, explicit)
    }

    /// The proxy's view of the configuration.
    static func configuration(from configuration: MeshgateConfiguration) -> ProxyConfiguration {
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
}
