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
        // Byte-wise: this runs for every proxied request, and ':' '[' ']' are ASCII, so their
        // UTF-8 indices are valid String indices.
        let bytes = authority.utf8
        var hostPart: Substring
        var portPart: Substring.UTF8View?
        if bytes.first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            hostPart = authority[bytes.index(after: bytes.startIndex)..<close]
            let rest = authority[bytes.index(after: close)...].utf8
            if rest.first == UInt8(ascii: ":") { portPart = rest.dropFirst() } else if !rest.isEmpty { return nil }
            guard IPAddress.parse(String(hostPart)) != nil else { return nil }
        } else if let colon = bytes.lastIndex(of: UInt8(ascii: ":")) {
            hostPart = authority[..<colon]
            portPart = authority[bytes.index(after: colon)...].utf8
            if hostPart.utf8.contains(UInt8(ascii: ":")) { return nil }
        } else {
            hostPart = authority[...]
        }
        let port: Int
        if let portPart {
            guard !portPart.isEmpty, portPart.count <= 5 else { return nil }
            var value = 0
            for byte in portPart {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte &- UInt8(ascii: "0"))
            }
            guard (1...65535).contains(value) else { return nil }
            port = value
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
        host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The host as it goes in a `Host` header, omitting the scheme's default port.
    public func hostHeader(defaultPort: Int) -> String {
        let h = host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]" : host
        return port == defaultPort ? h : h + ":" + String(port)
    }

    static func normalise(_ host: String) -> String {
        // Most hosts arrive normalised already; only those that are not pay for a copy.
        let bytes = host.utf8
        let clean = !bytes.contains { ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z")) || $0 >= 0x80 }
            && bytes.first != UInt8(ascii: "[") && (bytes.last != UInt8(ascii: ".") || bytes.count == 1)
        if clean { return host }
        var h = host.lowercased()
        if h.hasPrefix("["), h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        // The root label's dot belongs to names; in an IPv6 literal it can only end a zone ID.
        while h.hasSuffix("."), h.count > 1, !h.utf8.contains(UInt8(ascii: ":")) { h.removeLast() }
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
