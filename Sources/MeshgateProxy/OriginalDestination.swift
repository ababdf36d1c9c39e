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
        switch channel.localAddress {
        case .v6?:
            let future: EventLoopFuture<sockaddr_in6> = provider.unsafeGetSocketOption(level: SocketOptionLevel(IPPROTO_IPV6), name: optionName)
            return future.map { SocketAddress($0) as SocketAddress? }.recover { _ in nil }
        default:
            let future: EventLoopFuture<sockaddr_in> = provider.unsafeGetSocketOption(level: SocketOptionLevel(IPPROTO_IP), name: optionName)
            return future.map { address -> SocketAddress? in
                // A v4 socket that was not NATed reports family 0.
                address.sin_family == sa_family_t(AF_INET) ? SocketAddress(address) : nil
            }.recover { _ in nil }
        }
    }
}
