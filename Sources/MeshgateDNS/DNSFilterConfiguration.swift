import MeshgateCore
import NIOCore

/// What the DNS filter needs from `dns:`, `access:` and built-in limits.
public struct DNSFilterConfiguration: Sendable {
    /// The answer to a blocked query.
    public enum BlockAnswer: Sendable, Hashable {
        /// `0.0.0.0` / `::` for A / AAAA, empty NOERROR for other types.
        case zero
        /// NXDOMAIN for every type.
        case nxdomain
    }

    /// `dns.upstreams`, tried in order (the last one that answered first).
    public var upstreams: [SocketAddress]
    /// `dns.block_answer`.
    public var blockAnswer: BlockAnswer
    /// `dns.redirect_ipv4` (4 bytes): the A answer for redirect / reroute.
    public var redirectIPv4: [UInt8]?
    /// `dns.redirect_ipv6` (16 bytes): the AAAA answer for redirect / reroute.
    public var redirectIPv6: [UInt8]?
    /// `access.allow_clients`: other clients get REFUSED.
    public var allowClients: [CIDR]
    /// How long one upstream gets to answer before the next is tried.
    public var upstreamTimeout: TimeAmount
    /// Cached answers at most.
    public var cacheCapacity: Int
    /// Shortest cache lifetime, seconds.
    public var minTTL: UInt32
    /// Longest cache lifetime, seconds.
    public var maxTTL: UInt32
    /// Longest lifetime of a cached NXDOMAIN / no-data answer, seconds.
    public var maxNegativeTTL: UInt32
    /// TTL of answers meshgate makes up (block, redirect): short, so a reload reaches clients soon.
    public var syntheticTTL: UInt32
    /// A TCP connection without a query for this long is closed.
    public var tcpIdleTimeout: TimeAmount
    /// `SO_MARK` on the sockets queries are forwarded from, so a node's redirect rules (which send
    /// port 53 here) let meshgate's own queries out (nil: no mark).
    public var socketMark: Int32?

    /// Creates a configuration; only the upstreams have no default.
    public init(
        upstreams: [SocketAddress],
        blockAnswer: BlockAnswer = .zero,
        redirectIPv4: [UInt8]? = nil,
        redirectIPv6: [UInt8]? = nil,
        allowClients: [CIDR] = [CIDR("127.0.0.0/8"), CIDR("::1/128")].compactMap { $0 },
        upstreamTimeout: TimeAmount = .seconds(2),
        cacheCapacity: Int = 10_000,
        minTTL: UInt32 = 0,
        maxTTL: UInt32 = 86_400,
        maxNegativeTTL: UInt32 = 3_600,
        syntheticTTL: UInt32 = 10,
        tcpIdleTimeout: TimeAmount = .seconds(10)
    ) {
        self.upstreams = upstreams
        self.blockAnswer = blockAnswer
        self.redirectIPv4 = redirectIPv4
        self.redirectIPv6 = redirectIPv6
        self.allowClients = allowClients
        self.upstreamTimeout = upstreamTimeout
        self.cacheCapacity = cacheCapacity
        self.minTTL = minTTL
        self.maxTTL = maxTTL
        self.maxNegativeTTL = maxNegativeTTL
        self.syntheticTTL = syntheticTTL
        self.tcpIdleTimeout = tcpIdleTimeout
    }
}
