/// Decoding of MCP's mirrored header values (2026-07-28 Streamable HTTP, "Value Encoding"):
/// `Mcp-Name` and `Mcp-Param-*` carry values that are not plain header-safe ASCII as
/// `=?base64?<standard base64 of the UTF-8>?=`.
public enum MCPHeaderValue {
    private static let prefix = "=?base64?"
    private static let suffix = "?="

    /// The value with the Base64 sentinel undone; plain values come back as they are (trimmed of
    /// surrounding spaces and tabs, which HTTP does not count as part of a field value). A sentinel
    /// with malformed Base64 is returned undecoded.
    public static func decode(_ raw: String) -> String {
        let value = Substring(raw).trimmingSpacesAndTabs()
        guard value.count >= prefix.count + suffix.count,
              value.hasPrefix(prefix), value.hasSuffix(suffix) else { return String(value) }
        let encoded = value.dropFirst(prefix.count).dropLast(suffix.count)
        guard let bytes = base64Decode(encoded.utf8) else { return String(value) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Standard-alphabet Base64 (RFC 4648 §4); padding optional; nil on any other character.
    static func base64Decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        var sawPadding = false
        for c in text {
            let v: UInt32
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = UInt32(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = UInt32(c - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = UInt32(c - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "/"): v = 63
            case UInt8(ascii: "="):
                sawPadding = true
                continue
            default: return nil
            }
            if sawPadding { return nil }
            accumulator = accumulator << 6 | v
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return out
    }
}

extension Substring {
    func trimmingSpacesAndTabs() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
