import NIOCore

extension SocketAddress {
    /// `ip:port` (IPv6 in brackets) for logs and audit lines.
    public var auditDescription: String {
        if case .v4(let address) = self {
            // Written by hand: `ipAddress` goes through inet_ntop and printf, and the DNS filter
            // writes one of these per query.
            let ip = UInt32(bigEndian: address.address.sin_addr.s_addr)
            var out: [UInt8] = []
            out.reserveCapacity(21)
            for shift in [24, 16, 8, 0] as [UInt32] {
                ASCIIDecimal.append(UInt64((ip >> shift) & 0xFF), to: &out)
                out.append(shift == 0 ? UInt8(ascii: ":") : UInt8(ascii: "."))
            }
            ASCIIDecimal.append(UInt64(max(0, port ?? 0)), to: &out)
            return String(decoding: out, as: UTF8.self)
        }
        guard let ip = ipAddress else { return description }
        // Dual-stack listeners see IPv4 peers as ::ffff:a.b.c.d; people read them as IPv4.
        if ip.hasPrefix("::ffff:"), ip.dropFirst(7).contains(".") { return "\(ip.dropFirst(7)):\(port ?? 0)" }
        if case .v6 = self { return "[\(ip)]:\(port ?? 0)" }
        return "\(ip):\(port ?? 0)"
    }

    /// The address as text, with v4-mapped IPv6 (`::ffff:10.0.0.1`) written as the IPv4 it is.
    public var unmappedIPAddress: String? {
        guard let ip = ipAddress else { return nil }
        if ip.hasPrefix("::ffff:"), ip.dropFirst(7).contains(".") { return String(ip.dropFirst(7)) }
        return ip
    }
}
