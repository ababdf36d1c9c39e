import NIOCore

/// An IPv4 or IPv6 network such as `10.0.0.0/8` or `::1/128`, used by `access.allow_clients`
/// and `identities[].cidrs`.
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    /// Network address bytes (4 for IPv4, 16 for IPv6), already masked.
    public let network: [UInt8]
    /// Prefix length in bits.
    public let prefixLength: Int

    /// Parses `a.b.c.d/n`, `x:y::z/n`, or a bare address (a host route).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let bytes = IPAddress.parse(String(parts[0])) else { return nil }
        let maxBits = bytes.count * 8
        var prefix = maxBits
        if parts.count == 2 {
            guard let p = Int(parts[1]), (0...maxBits).contains(p) else { return nil }
            prefix = p
        }
        self.prefixLength = prefix
        self.network = CIDR.mask(bytes, prefix)
    }

    /// Whether `address` (4 or 16 raw bytes) lies inside this network. An IPv4-mapped IPv6
    /// address (`::ffff:a.b.c.d`) is compared as IPv4.
    public func contains(_ address: [UInt8]) -> Bool {
        // Compared in place: this runs once per DNS query and per connection.
        let offset = address.count == 16 && network.count == 4 && IPAddress.isV4Mapped(address) ? 12 : 0
        guard address.count - offset == network.count else { return false }
        var remaining = prefixLength
        for i in network.indices where remaining > 0 {
            let bits = min(8, remaining)
            remaining -= bits
            let m = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if address[offset + i] & m != network[i] { return false }
        }
        return true
    }

    /// Whether a socket address lies inside this network (Unix sockets never do).
    public func contains(_ address: SocketAddress) -> Bool {
        guard let bytes = IPAddress.bytes(of: address) else { return false }
        return contains(bytes)
    }

    /// The canonical `address/prefix` form.
    public var description: String {
        "\(IPAddress.format(network))/\(prefixLength)"
    }

    private static func mask(_ bytes: [UInt8], _ prefix: Int) -> [UInt8] {
        var out = bytes
        for i in 0..<out.count {
            let bitsHere = max(0, min(8, prefix - i * 8))
            let m: UInt8 = bitsHere == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bitsHere))
            out[i] &= m
        }
        return out
    }
}
