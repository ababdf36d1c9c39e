/// The Unicode encoding a JSON text arrived in.
///
/// RFC 8259 requires UTF-8 on the wire, but Python's `json.loads(bytes)` (and so many small MCP
/// servers) also accepts a UTF-8 BOM and UTF-16/32 by sniffing the first bytes. A body the server
/// understands must not become "not JSON" to the gateway, so the same sniffing happens here and the
/// text is transcoded to UTF-8 before parsing.
public enum JSONTextEncoding: String, Sendable, Hashable {
    /// UTF-8 without a byte-order mark.
    case utf8
    /// UTF-8 with a leading EF BB BF.
    case utf8WithBOM
    /// UTF-16, big-endian.
    case utf16BE
    /// UTF-16, little-endian.
    case utf16LE
    /// UTF-32, big-endian.
    case utf32BE
    /// UTF-32, little-endian.
    case utf32LE

    /// Sniffs the encoding from a byte-order mark or, failing that, from the pattern of zero bytes
    /// in the first four (RFC 4627 §3): a JSON text starts with an ASCII character.
    public static func detect(_ bytes: [UInt8]) -> JSONTextEncoding {
        let n = bytes.count
        func b(_ i: Int) -> UInt8 { i < n ? bytes[i] : 0xAA }
        if n >= 3, b(0) == 0xEF, b(1) == 0xBB, b(2) == 0xBF { return .utf8WithBOM }
        if n >= 4, b(0) == 0, b(1) == 0, b(2) == 0xFE, b(3) == 0xFF { return .utf32BE }
        if n >= 4, b(0) == 0xFF, b(1) == 0xFE, b(2) == 0, b(3) == 0 { return .utf32LE }
        if n >= 2, b(0) == 0xFE, b(1) == 0xFF { return .utf16BE }
        if n >= 2, b(0) == 0xFF, b(1) == 0xFE { return .utf16LE }
        if n >= 4, b(0) == 0, b(1) == 0, b(2) == 0, b(3) != 0 { return .utf32BE }
        if n >= 4, b(0) != 0, b(1) == 0, b(2) == 0, b(3) == 0 { return .utf32LE }
        if n >= 2, b(0) == 0, b(1) != 0 { return .utf16BE }
        if n >= 2, b(0) != 0, b(1) == 0 { return .utf16LE }
        return .utf8
    }

    /// The text as UTF-8 without a BOM. Unpaired surrogates and out-of-range code points become
    /// U+FFFD; invalid UTF-8 is left for the parser, which repairs it inside strings.
    func transcodedToUTF8(_ bytes: [UInt8]) -> [UInt8] {
        switch self {
        case .utf8: return bytes
        case .utf8WithBOM: return Array(bytes.dropFirst(3))
        case .utf16BE, .utf16LE:
            let bigEndian = self == .utf16BE
            var units: [UInt16] = []
            units.reserveCapacity(bytes.count / 2)
            var i = 0
            while i + 1 < bytes.count {
                let hi = UInt16(bytes[bigEndian ? i : i + 1]), lo = UInt16(bytes[bigEndian ? i + 1 : i])
                units.append(hi << 8 | lo)
                i += 2
            }
            if units.first == 0xFEFF { units.removeFirst() }
            var out: [UInt8] = []
            out.reserveCapacity(units.count)
            _ = transcode(units.makeIterator(), from: UTF16.self, to: UTF8.self, stoppingOnError: false) {
                out.append($0)
            }
            if i < bytes.count { Self.appendReplacement(to: &out) }
            return out
        case .utf32BE, .utf32LE:
            let bigEndian = self == .utf32BE
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count / 4)
            var i = 0
            var first = true
            while i + 3 < bytes.count {
                let value: UInt32 = bigEndian
                    ? UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3])
                    : UInt32(bytes[i + 3]) << 24 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i])
                i += 4
                defer { first = false }
                if first && value == 0xFEFF { continue }
                if let scalar = Unicode.Scalar(value) {
                    UTF8.encode(scalar) { out.append($0) }
                } else {
                    Self.appendReplacement(to: &out)
                }
            }
            if i < bytes.count { Self.appendReplacement(to: &out) }
            return out
        }
    }

    static func appendReplacement(to out: inout [UInt8]) {
        out.append(0xEF)
        out.append(0xBF)
        out.append(0xBD)
    }
}
