import NIOCore
import NIOPosix

/// Resolves like the system resolver (getaddrinfo, order shuffled) and drops every address the
/// ``DestinationGuard`` refuses before Happy Eyeballs sees it, so the socket meshgate connects is
/// the address that was checked: no second lookup a rebinding DNS server could answer differently.
/// When everything a name resolved to is refused, both queries fail with ``DestinationRefused``.
final class GuardedResolver: Resolver, Sendable {
    private let underlying: NIORandomizedDNSResolver
    private let destinationGuard: DestinationGuard
    private let host: String

    init(loop: any EventLoop, host: String, guard destinationGuard: DestinationGuard) {
        self.underlying = NIORandomizedDNSResolver(loop: loop)
        self.destinationGuard = destinationGuard
        self.host = host
    }

    func initiateAQuery(host: String, port: Int) -> EventLoopFuture<[SocketAddress]> {
        underlying.initiateAQuery(host: host, port: port).flatMapThrowing { try self.filter($0) }
    }

    func initiateAAAAQuery(host: String, port: Int) -> EventLoopFuture<[SocketAddress]> {
        underlying.initiateAAAAQuery(host: host, port: port).flatMapThrowing { try self.filter($0) }
    }

    func cancelQueries() { underlying.cancelQueries() }

    private func filter(_ addresses: [SocketAddress]) throws -> [SocketAddress] {
        var kept: [SocketAddress] = []
        var firstRefusal: DestinationRefused?
        for address in addresses {
            if let reason = destinationGuard.refusal(for: address) {
                if firstRefusal == nil {
                    firstRefusal = DestinationRefused(host: host, address: address.ipAddress ?? "?", reason: reason)
                }
            } else {
                kept.append(address)
            }
        }
        if kept.isEmpty, let firstRefusal { throw firstRefusal }
        return kept
    }
}
