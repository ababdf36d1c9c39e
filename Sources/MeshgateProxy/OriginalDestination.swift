import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Where a redirected connection was going before nftables sent it to us: `SO_ORIGINAL_DST`
/// (IPv4) or `IP6T_SO_ORIGINAL_DST` (IPv6), read from conntrack through the accepted socket.
enum OriginalDestination {
    /// `SO_ORIGINAL_DST` and `IP6T_SO_ORIGINAL_DST` share the value 80 (linux/netfilter_ipv4.h, ip6_tables.h).
    static let optionName: SocketOptionName = 80

    /// The original destination, or nil when the kernel has none (the connection was not redirected
    /// by NAT, or conntrack is missing). Must run on the channel's event loop.
    static func read(from channel: any Channel) -> EventLoopFuture<SocketAddress?> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture(nil)
        }
        let v4: EventLoopFuture<SocketAddress?> = provider.unsafeGetSocketOption(level: SocketOptionLevel(IPPROTO_IP), name: optionName)
            .map { (address: sockaddr_in) -> SocketAddress? in
                // A socket that was not NATed reports family 0.
                address.sin_family == sa_family_t(AF_INET) ? SocketAddress(address) : nil
            }
            .recover { _ in nil }
        guard case .v6? = channel.localAddress else { return v4 }
        // A dual-stack listener ("::") sees IPv4 clients as v4-mapped IPv6; their conntrack entry is IPv4.
        let v6: EventLoopFuture<SocketAddress?> = provider.unsafeGetSocketOption(level: SocketOptionLevel(IPPROTO_IPV6), name: optionName)
            .map { (address: sockaddr_in6) -> SocketAddress? in
                address.sin6_family == sa_family_t(AF_INET6) ? SocketAddress(address) : nil
            }
            .recover { _ in nil }
        return v6.flatMap { found in found.map { channel.eventLoop.makeSucceededFuture($0) } ?? v4 }
    }
}
