import NIOCore

/// Textual and byte forms of IP addresses without touching the resolver.
public enum IPAddress {
    /// Parses a literal IPv4 or IPv6 address (brackets allowed) into 4 or 16 bytes.
    public static func parse(_ text: String) -> [UInt8]? {
        var s = Substring(text)
        if s.hasPrefix("["), s.hasSuffix("]") { s = s.dropFirst().dropLast() }
        if let zone = s.firstIndex(of: "%") {
            // A zone ID is unreserved characters or their percent-encoding (RFC 6874), and only IPv6
            // has them; anything else (controls, white space, "/", "@") would be carried on as part
            // of the host.
            let id = s.utf8[s.utf8.index(after: zone)...]
            guard !id.isEmpty, id.allSatisfy(isZoneIDByte) else { return nil }
            s = s[..<zone]
            return s.contains(":") ? parseV6(s) : nil
        }
        if s.contains(":") { return parseV6(s) }
        return parseV4(s)
    }

    /// Whether `text` is an IP literal rather than a hostname.
    public static func isLiteral(_ text: String) -> Bool { parse(text) != nil }

    /// The raw bytes of an IPv4/IPv6 socket address.
    public static func bytes(of address: SocketAddress) -> [UInt8]? {
        switch address {
        case .v4(let a):
            return withUnsafeBytes(of: a.address.sin_addr) { Array($0) }
        case .v6(let a):
            return withUnsafeBytes(of: a.address.sin6_addr) { Array($0) }
        case .unixDomainSocket:
            return nil
        }
    }

    /// Whether the address is loopback (127/8, ::1, or IPv4-mapped loopback).
    public static func isLoopback(_ bytes: [UInt8]) -> Bool {
        if bytes.count == 4 { return bytes[0] == 127 }
        if bytes.count == 16 {
            if isV4Mapped(bytes) { return bytes[12] == 127 }
            return bytes[0..<15].allSatisfy { $0 == 0 } && bytes[15] == 1
        }
        return false
    }

    /// Whether the address is the unspecified address (0.0.0.0 or ::).
    public static func isUnspecified(_ bytes: [UInt8]) -> Bool {
        bytes.allSatisfy { $0 == 0 }
    }

    private static func isZoneIDByte(_ c: UInt8) -> Bool {
        (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39)
            || c == UInt8(ascii: "-") || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "~")
            || c == UInt8(ascii: "%")
    }

    static func isV4Mapped(_ b: [UInt8]) -> Bool {
        b.count == 16 && b[0..<10].allSatisfy { $0 == 0 } && b[10] == 0xFF && b[11] == 0xFF
    }

    /// A v4-mapped IPv6 address (`::ffff:a.b.c.d`, as dual-stack sockets report IPv4 peers) as
    /// its 4 IPv4 bytes; any other address unchanged.
    public static func unmapped(_ bytes: [UInt8]) -> [UInt8] {
        isV4Mapped(bytes) ? Array(bytes[12...]) : bytes
    }

    /// Formats 4 or 16 bytes as an address (IPv6 in a simple, uncompressed-zero-run form).
    public static func format(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        var groups: [String] = []
        for i in stride(from: 0, to: bytes.count, by: 2) {
            groups.append(String(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]), radix: 16))
        }
        // Compress the longest run of zero groups, as RFC 5952 asks.
        var best = (start: -1, len: 0)
        var i = 0
        while i < groups.count {
            if groups[i] == "0" {
                var j = i
                while j < groups.count, groups[j] == "0" { j += 1 }
                if j - i > best.len, j - i > 1 { best = (i, j - i) }
                i = j
            } else {
                i += 1
            }
        }
        if best.start < 0 { return groups.joined(separator: ":") }
        let head = groups[..<best.start].joined(separator: ":")
        let tail = groups[(best.start + best.len)...].joined(separator: ":")
        return head + "::" + tail
    }

    private static func parseV4(_ s: Substring) -> [UInt8]? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy(\.isASCIIDigit), let v = UInt8(p) else { return nil }
            out.append(v)
        }
        return out
    }

    private static func parseV6(_ s: Substring) -> [UInt8]? {
        var text = s
        var tailV4: [UInt8] = []
        if let lastColon = text.lastIndex(of: ":"), text[text.index(after: lastColon)...].contains(".") {
            guard let v4 = parseV4(text[text.index(after: lastColon)...]) else { return nil }
            tailV4 = v4
            text = text[...lastColon]
            if text.hasSuffix(":") && !text.hasSuffix("::") { text = text.dropLast() }
        }
        var halves: [String] = []
        if let r = text.firstRange(of: "::") {
            halves = [String(text[..<r.lowerBound]), String(text[r.upperBound...])]
            if halves[1].contains("::") { return nil }
        } else {
            halves = [String(text)]
        }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            for g in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard !g.isEmpty, g.count <= 4, let v = UInt16(g, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        let tail = halves.count == 2 ? groups(halves[1]) : []
        guard let tailGroups = tail else { return nil }
        let wanted = tailV4.isEmpty ? 8 : 6
        var all: [UInt16]
        if halves.count == 2 {
            let missing = wanted - head.count - tailGroups.count
            guard missing >= 1 else { return nil }
            all = head + Array(repeating: 0, count: missing) + tailGroups
        } else {
            all = head
        }
        guard all.count == wanted else { return nil }
        var out: [UInt8] = []
        for g in all { out.append(UInt8(g >> 8)); out.append(UInt8(g & 0xFF)) }
        return out + tailV4
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
