import MeshgateJSON

// Kept beside the byte search it runs on (memchr), which is an inspection tool rather than part of
// the JSON engine: these two answer whether the proxy may skip canonicalising a body.
extension JSONCanonicalizer {
    /// Whether the canonical form of `bytes` can contain a plain literal (see `isPlainLiteral`)
    /// only where `bytes` itself does, so a body lacking every literal the rules look for needs no
    /// canonical form. True for UTF-8 text whose only escapes are `\n`, `\t`, `\r`, `\"` and
    /// `\\`: canonicalisation then only drops whitespace between tokens (which a plain literal
    /// cannot straddle, as tokens are separated by `:` `,` and brackets), turns those escapes into
    /// line breaks and tabs or leaves them, and repairs invalid UTF-8 (which an ASCII literal cannot include).
    /// `\u0074ools/call` or `\/` could spell a literal the raw bytes lack, so they make it false.
    public static func addsNoPlainLiteral(to bytes: [UInt8]) -> Bool {
        let encoding = JSONTextEncoding.detect(bytes)
        guard encoding == .utf8 || encoding == .utf8WithBOM else { return false }
        return bytes.withUnsafeBytes { raw in
            var from = 0
            while let at = ByteSearch.firstIndex(of: UInt8(ascii: "\\"), in: raw, from: from) {
                guard at + 1 < raw.count else { return false }
                switch raw[at + 1] {
                case UInt8(ascii: "n"), UInt8(ascii: "t"), UInt8(ascii: "r"), UInt8(ascii: "\""), UInt8(ascii: "\\"): from = at + 2
                default: return false
                }
            }
            return true
        }
    }

    /// Whether `literal` is printable ASCII (spaces allowed; tabs, line breaks and other controls
    /// not) without backslashes or JSON's structural characters `{ } [ ] , :` — the literals
    /// `addsNoPlainLiteral` reasons about. A space is safe: canonicalisation removes whitespace but
    /// never creates a space, and outside strings none is left to sit next to.
    public static func isPlainLiteral(_ literal: [UInt8]) -> Bool {
        !literal.isEmpty && literal.allSatisfy { byte in
            byte >= 0x20 && byte < 0x7F && !Self.structural.contains(byte)
        }
    }

    private static let structural: Set<UInt8> = Set("{}[],:\\".utf8)
}
