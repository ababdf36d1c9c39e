/// A host and port as written in a `CONNECT` authority, a `Host` header or an absolute URL.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    /// The host, lowercased, without brackets or a trailing dot.
    public var host: String
    /// The TCP port.
    public var port: Int

    /// Creates a host and port; the host is normalised (lowercase, no brackets, no trailing dot).
    public init(host: String, port: Int) {
        self.host = HostPort.normalise(host)
        self.port = port
    }

    /// Parses `host:port`, `[v6]:port`, or `host` with `defaultPort`. Nil when malformed
    /// (empty host, bad port, stray characters).
    public init?(authority: String, defaultPort: Int?) {
        var hostPart: Substring
        var portPart: Substring?
        let s = Substring(authority)
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else { return nil }
            hostPart = s[s.index(after: s.startIndex)..<close]
            let rest = s[s.index(after: close)...]
            if rest.hasPrefix(":") { portPart = rest.dropFirst() } else if !rest.isEmpty { return nil }
            guard IPAddress.parse(String(hostPart)) != nil else { return nil }
        } else {
            if let colon = s.lastIndex(of: ":") {
                hostPart = s[..<colon]
                portPart = s[s.index(after: colon)...]
                if hostPart.contains(":") { return nil }
            } else {
                hostPart = s
            }
        }
        let port: Int
        if let portPart {
            guard !portPart.isEmpty, portPart.count <= 5, portPart.allSatisfy(\.isASCIIDigit),
                  let p = Int(portPart), (1...65535).contains(p) else { return nil }
            port = p
        } else {
            guard let defaultPort else { return nil }
            port = defaultPort
        }
        guard HostPort.isValidHost(hostPart) else { return nil }
        self.init(host: String(hostPart), port: port)
    }

    /// Whether the host is an IP literal.
    public var isIPLiteral: Bool { IPAddress.isLiteral(host) }

    /// `host:port`, with brackets around IPv6 literals.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The host as it goes in a `Host` header, omitting the scheme's default port.
    public func hostHeader(defaultPort: Int) -> String {
        let h = host.contains(":") ? "[\(host)]" : host
        return port == defaultPort ? h : "\(h):\(port)"
    }

    static func normalise(_ host: String) -> String {
        var h = host.lowercased()
        if h.hasPrefix("["), h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        while h.hasSuffix("."), h.count > 1 { h.removeLast() }
        return h
    }

    static func isValidHost(_ h: Substring) -> Bool {
        guard !h.isEmpty, h.utf8.count <= 255 else { return false }
        // Names (and dotted IPv4) pass the character check; only what fails it (IPv6, zones) can
        // still be an IP literal, so the costlier parse runs just for those.
        let nameCharacters = h.utf8.allSatisfy { c in
            (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39)
                || c == 0x2D || c == 0x2E || c == 0x5F
        }
        return nameCharacters || IPAddress.parse(String(h)) != nil
    }
}
