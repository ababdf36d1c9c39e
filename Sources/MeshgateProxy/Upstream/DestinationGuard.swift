import MeshgateCore
import NIOCore
import NIOPosix

/// Where meshgate refuses to connect on a client's behalf, decided on the address a name resolved to
/// (as Squid's `to_localhost` is), so `127.1`, `0x7f.1`, `2130706433` and names that resolve to
/// loopback are all caught: loopback, `0.0.0.0/8` and `::` (which Linux delivers to this host),
/// link-local (cloud metadata services live at 169.254.169.254) and the addresses meshgate's own
/// listeners are bound to. `access.allow_destinations` lets chosen networks through.
struct DestinationGuard: Sendable {
    /// Networks an operator allowed even though they are refused by default.
    var allowed: [CIDR]
    /// The addresses this host's listeners answer on (interface addresses for a wildcard bind).
    var ownAddresses: @Sendable () -> [[UInt8]]

    /// Why connecting to `address` is refused, or nil when it is not.
    func refusal(for address: SocketAddress) -> String? {
        guard let raw = IPAddress.bytes(of: address) else { return nil }
        let bytes = IPAddress.unmapped(raw)
        guard let reason = Self.reason(bytes, own: ownAddresses()) else { return nil }
        if allowed.contains(where: { $0.contains(bytes) }) { return nil }
        return reason
    }

    static func reason(_ bytes: [UInt8], own: [[UInt8]]) -> String? {
        if IPAddress.isLoopback(bytes) { return "a loopback address" }
        if bytes.count == 4, bytes[0] == 0 { return "a 'this host' address (0.0.0.0/8)" }
        if bytes.count == 16, IPAddress.isUnspecified(bytes) { return "the unspecified address (::), which reaches this host" }
        if bytes.count == 4, bytes[0] == 169, bytes[1] == 254 { return "a link-local address (169.254.0.0/16: metadata services)" }
        if bytes.count == 16, bytes[0] == 0xFE, bytes[1] & 0xC0 == 0x80 { return "a link-local address (fe80::/10)" }
        if own.contains(bytes) { return "an address meshgate itself listens on" }
        return nil
    }
}

/// A connection meshgate refused to make because of where the destination resolved to.
struct DestinationRefused: Error, CustomStringConvertible {
    /// The host the client asked for.
    var host: String
    /// The refused address.
    var address: String
    /// Why it is refused.
    var reason: String

    /// The refusal behind a failed connect, if that is why it failed.
    static func find(in error: any Error) -> DestinationRefused? {
        if let refused = error as? DestinationRefused { return refused }
        if let failed = error as? NIOConnectionError {
            return (failed.dnsAError as? DestinationRefused) ?? (failed.dnsAAAAError as? DestinationRefused)
        }
        return nil
    }

    var description: String {
        let named = host == address ? address : "\(host) (\(address))"
        return "destination \(named) is \(reason); refused unless access.allow_destinations lists it"
    }
}
