/// Turns a request body into the one spelling of its JSON that body regexes are written against.
///
/// A gateway that scans raw bytes loses to `"tools\u002fcall"`, `"method"      :`, `\/`, a UTF-16
/// body or a BOM; the canonical text has all of them undone, so `"method"\s{0,5}:\s{0,5}"tools/call"`
/// matches however the sender escaped or spaced it, and regardless of where in the body it sits.
public enum JSONCanonicalizer {
    /// The canonical form and tree of `bytes`, or nil when the body is not JSON (malformed, trailing
    /// garbage, over `limits`). Callers scan the raw body in that case.
    public static func canonicalize(_ bytes: [UInt8], limits: JSONLimits = .default) -> CanonicalJSON? {
        try? canonicalizeOrThrow(bytes, limits: limits)
    }

    /// Only the canonical text of `bytes` (no tree), or nil when the body is not JSON. Several
    /// times cheaper than `canonicalize` on a large body: no string values or containers are built.
    public static func canonicalText(_ bytes: [UInt8], limits: JSONLimits = .default) -> [UInt8]? {
        guard bytes.count <= limits.maxBytes else { return nil }
        let text = JSONTextEncoding.detect(bytes).transcodedToUTF8(bytes)
        var scanner = JSONScanner(limits: limits, buildTree: false, writeCanonical: true)
        guard case .success = scanner.scan(text) else { return nil }
        return scanner.canonical
    }

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

    /// As `canonicalize`, but says why a body is not JSON (for `rules test` and debug logs).
    public static func canonicalizeOrThrow(_ bytes: [UInt8], limits: JSONLimits = .default) throws(JSONParseError) -> CanonicalJSON {
        guard bytes.count <= limits.maxBytes else {
            throw JSONParseError(.tooLarge(size: bytes.count, limit: limits.maxBytes), at: limits.maxBytes)
        }
        let encoding = JSONTextEncoding.detect(bytes)
        let text = encoding.transcodedToUTF8(bytes)
        var scanner = JSONScanner(limits: limits, buildTree: true, writeCanonical: true)
        let value = try scanner.scan(text).get()
        return CanonicalJSON(text: scanner.canonical, value: value, sourceEncoding: encoding)
    }
}
