/// A content coding meshgate can undo (RFC 9110 §8.4.1).
public enum BodyContentCoding: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// No transformation.
    case identity
    /// gzip (RFC 1952), also sent as `x-gzip`; concatenated members are all decoded.
    case gzip
    /// `deflate`: zlib-wrapped (RFC 1950) as the spec says, or raw deflate (RFC 1951) as many
    /// implementations send it; which one is decided from the first two bytes.
    case deflate
    /// Brotli (RFC 7932), with windows up to 4 MiB (lgwin 22, what brotli's encoders use unless told
    /// otherwise); a stream declaring a larger one is refused (`windowTooLarge`).
    case br
    /// Zstandard (RFC 8878, RFC 9659); concatenated frames are all decoded, and a frame whose window
    /// is over the 8 MiB RFC 9659 lets a recipient refuse is refused (`windowTooLarge`).
    case zstd

    /// The coding's name as it appears in Content-Encoding.
    public var description: String { rawValue }

    /// Parses one Content-Encoding token (case-insensitive, surrounding whitespace ignored); nil when unsupported.
    public init?(token: some StringProtocol) {
        switch token.trimmingHTTPWhitespace().lowercased() {
        case "identity": self = .identity
        case "gzip", "x-gzip": self = .gzip
        case "deflate": self = .deflate
        case "br": self = .br
        case "zstd": self = .zstd
        default: return nil
        }
    }

    /// Parses a Content-Encoding header value such as "gzip, identity" into the codings in the order
    /// the sender applied them (undo them in reverse). Empty list elements are skipped; join several
    /// header lines with ", " before calling. Throws `unsupportedEncoding` for `compress`, `x-foo`, ….
    public static func parse(_ headerValue: String) throws(BodyDecodingError) -> [BodyContentCoding] {
        var codings: [BodyContentCoding] = []
        for token in headerValue.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = token.trimmingHTTPWhitespace()
            if trimmed.isEmpty { continue }
            guard let coding = BodyContentCoding(token: trimmed) else {
                throw .unsupportedEncoding(String(trimmed))
            }
            codings.append(coding)
        }
        return codings
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs (HTTP's OWS).
    func trimmingHTTPWhitespace() -> SubSequence {
        let isOWS: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isOWS($0) }), let last = lastIndex(where: { !isOWS($0) }) else {
            return self[endIndex...]
        }
        return self[first...last]
    }
}
