import Foundation
import Logging
import MeshgateAI
import MeshgateAudit
import MeshgateCore
import MeshgatePolicy
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
    /// Malformed requests are logged at most once per interval per listener (clients control how many).
    let malformedRequestLog = LogRateLimiter(interval: .seconds(10))
    let identities: any IdentityResolver
    let logger: Logger
    let metrics = ProxyMetrics()
    /// Our upstream sockets, tracked only while a transparent listener runs (see ``OwnConnections``).
    let ownConnections = OwnConnections()
    /// Paginated `tools/list` answers gathered per server and session (``MCPDriftFilter``).
    let mcpToolListPages = MCPToolListPages()
    /// The tools recent LLM answers asked for, per client (``LLMToolCallMemory``).
    let llmToolCalls = LLMToolCallMemory()
    /// The policy in force; the assembly swaps it on reload.
    public let policy: PolicyHolder
    let inspector: any RequestInspector
    /// The AI gateway's metering and budgets; nil when LLM calls are not metered.
    let ai: AIGateway?
    /// Identifies this process in `Via`, so a request that comes back to us is recognised as a loop.
    let instanceID: String
    /// The token sent in `Via`: `meshgate (1a2b3c4d)`.
    let viaToken: String
    private let listenerAddresses = NIOLockedValueBox<[HostPort]>([])
    /// The IP addresses meshgate's listeners answer on, for the ``DestinationGuard``.
    private let ownIPs = NIOLockedValueBox<[[UInt8]]>([])
    /// Refuses client-chosen destinations on loopback, link-local and our own addresses.
    let destinationGuard: DestinationGuard
    private let nameMemoryBox = NIOLockedValueBox<(any AddressNameMemory)?>(nil)

    /// The DNS filter's memory of its answers, when the DNS listener runs (set once at assembly).
    public var nameMemory: (any AddressNameMemory)? {
        get { nameMemoryBox.withLockedValue { $0 } }
        set { nameMemoryBox.withLockedValue { $0 = newValue } }
    }
    /// Server contexts for clients that send no SNI (connections to IP literals): building a context
    /// is expensive, so each host's is kept.
    private let noSNIContexts = NIOLockedValueBox(LRUCache<String, (context: NIOSSLContext, refreshAfter: Date)>(capacity: 1024))

    /// Assembles the services for listeners running on `group`.
    public init(
        configuration: ProxyConfiguration,
        leafCache: LeafCertificateCache,
        upstreamTLSContext: NIOSSLContext,
        audit: any AuditSink,
        identities: any IdentityResolver = NoIdentities(),
        policy: PolicyHolder = PolicyHolder(),
        inspector: any RequestInspector = InspectionRequestInspector(),
        ai: AIGateway? = nil,
        group: any EventLoopGroup,
        logger: Logger
    ) throws {
        self.configuration = configuration
        self.instanceID = String(UInt32.random(in: 0x1000_0000...UInt32.max), radix: 16)
        self.viaToken = "\(configuration.viaName) (\(instanceID))"
        self.leafCache = leafCache
        self.interceptContext = try InterceptContexts.makeSharedServerContext(cache: leafCache)
        let ownIPs = self.ownIPs
        ownIPs.withLockedValue { $0 = Self.addresses(of: configuration.ownAddresses) }
        self.destinationGuard = DestinationGuard(allowed: configuration.allowDestinations,
                                                 ownAddresses: { ownIPs.withLockedValue { $0 } })
        var connector = UpstreamConnector(tlsContext: upstreamTLSContext, connectTimeout: configuration.upstreamConnectTimeout,
                                          staticHosts: configuration.staticHosts, socketMark: configuration.socketMark)
        connector.destinationGuard = destinationGuard
        connector.onConnect = { [ownConnections] channel in ownConnections.track(channel) }
        self.connector = connector
        self.pools = UpstreamPools(group: group, maxIdlePerKey: configuration.maxIdleUpstreamPerOrigin)
        // Every HTTP and AI line any handler records is redacted and bounded in this one place.
        self.audit = RedactingAuditSink(audit, redactor: configuration.auditRedactor)
        self.identities = identities
        self.policy = policy
        self.inspector = inspector
        self.ai = ai
        self.logger = logger
    }

    /// Records an address a listener actually bound (port 0 becomes a real port), for loop detection.
    func registerListener(_ address: SocketAddress) {
        guard let ip = address.ipAddress, let port = address.port else { return }
        listenerAddresses.withLockedValue { $0.append(HostPort(host: ip, port: port)) }
        let added = Self.addresses(of: [HostPort(host: ip, port: port)])
        ownIPs.withLockedValue { $0.append(contentsOf: added.filter { !$0.isEmpty }) }
    }

    /// The IP addresses behind listener addresses; a wildcard bind stands for every interface address.
    private static func addresses(of listeners: [HostPort]) -> [[UInt8]] {
        var result: [[UInt8]] = []
        for listener in listeners {
            guard let bytes = IPAddress.parse(listener.host) else { continue }
            if IPAddress.isUnspecified(bytes) {
                let interfaces = (try? System.enumerateDevices()) ?? []
                result += interfaces.compactMap { $0.address.flatMap(IPAddress.bytes(of:)).map(IPAddress.unmapped) }
            } else {
                result.append(IPAddress.unmapped(bytes))
            }
        }
        return result
    }

    /// Whether a request target is one of meshgate's own listeners.
    func isOwnAddress(_ target: HostPort) -> Bool {
        if configuration.isOwnAddress(target) { return true }
        let registered = listenerAddresses.withLockedValue { $0 }
        return ProxyConfiguration.matchesOwn(target, among: registered)
    }

    /// The interception context for a client that sent no SNI, serving a leaf for `host`.
    func serverContextWithoutSNI(for host: String, on eventLoop: any EventLoop) -> EventLoopFuture<NIOSSLContext> {
        if let cached = noSNIContexts.withLockedValue({ $0.get(host) }), cached.refreshAfter > Date() {
            return eventLoop.makeSucceededFuture(cached.context)
        }
        return leafCache.leaf(for: host, on: eventLoop).flatMapThrowing { leaf in
            let context = try InterceptContexts.makeServerContext(for: leaf)
            // Rebuilt a day before the leaf expires, as the leaf cache itself does.
            let refreshAfter = leaf.certificate.notValidAfter.addingTimeInterval(-86_400)
            self.noSNIContexts.withLockedValue { _ = $0.set(host, (context, refreshAfter)) }
            return context
        }
    }

    /// Closes pooled upstream connections (shutdown).
    func closeIdleUpstreams() -> EventLoopFuture<Void>? { pools.closeAll() }
}
