import NIOCore

extension SocketAddress {
    /// `ip:port` (IPv6 in brackets) for logs and audit lines.
    public var auditDescription: String {
        guard let ip = ipAddress else { return description }
        if case .v6 = self { return "[\(ip)]:\(port ?? 0)" }
        return "\(ip):\(port ?? 0)"
    }
}
