import Logging
import MeshgateAudit
import MeshgateCore
import MeshgateTLS
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL

/// What every proxy connection shares: configuration, TLS material, pools, audit, metrics.
public final class ProxyServices: Sendable {
    /// The validated configuration.
    public let configuration: ProxyConfiguration
    let leafCache: LeafCertificateCache
    let interceptContext: NIOSSLContext
    let connector: UpstreamConnector
    let pools: UpstreamPools
    let audit: any AuditSink
    let identities: any IdentityResolver
    let logger: Logger
    let metrics = ProxyMetrics()
    /// Identifies this process in `Via`, so a request that comes back to us is recognised as a loop.
    let instanceID: String
    /// The token sent in `Via`: `meshgate (1a2b3c4d)`.
    let viaToken: String
    private let listenerAddresses = NIOLockedValueBox<[HostPort]>([])

    /// Assembles the services for listeners running on `group`.
    public init(
        configuration: ProxyConfiguration,
        leafCache: LeafCertificateCache,
        upstreamTLSContext: NIOSSLContext,
        audit: any AuditSink,
        identities: any IdentityResolver = NoIdentities(),
        group: any EventLoopGroup,
        logger: Logger
    ) throws {
        self.configuration = configuration
        self.instanceID = String(UInt32.random(in: 0x1000_0000...UInt32.max), radix: 16)
        self.viaToken = "\(configuration.viaName) (\(instanceID))"
        self.leafCache = leafCache
        self.interceptContext = try InterceptContexts.makeSharedServerContext(cache: leafCache)
        self.connector = UpstreamConnector(tlsContext: upstreamTLSContext, connectTimeout: configuration.upstreamConnectTimeout)
        self.pools = UpstreamPools(group: group, maxIdlePerKey: configuration.maxIdleUpstreamPerOrigin)
        self.audit = audit
        self.identities = identities
        self.logger = logger
    }

    /// Records an address a listener actually bound (port 0 becomes a real port), for loop detection.
    func registerListener(_ address: SocketAddress) {
        guard let ip = address.ipAddress, let port = address.port else { return }
        listenerAddresses.withLockedValue { $0.append(HostPort(host: ip, port: port)) }
    }

    /// Whether a request target is one of meshgate's own listeners.
    func isOwnAddress(_ target: HostPort) -> Bool {
        if configuration.isOwnAddress(target) { return true }
        let registered = listenerAddresses.withLockedValue { $0 }
        return ProxyConfiguration.matchesOwn(target, among: registered)
    }

    /// Closes pooled upstream connections (shutdown).
    func closeIdleUpstreams() -> EventLoopFuture<Void>? { pools.closeAll() }
}
