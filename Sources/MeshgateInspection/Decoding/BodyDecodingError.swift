/// Why a request or response body could not be decoded. Offsets count bytes of the encoded input of
/// the layer concerned (for a single coding, bytes of the body as sent).
public enum BodyDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A Content-Encoding meshgate does not decode (`compress`, `x-foo`, …).
    case unsupportedEncoding(String)
    /// More stacked codings than `BodyDecoder.maxLayers` (identity not counted).
    case tooManyEncodings(count: Int, limit: Int)
    /// The compressed data is invalid; `reason` is the library's message (e.g. zlib's "invalid block type").
    case corrupt(coding: BodyContentCoding, offset: Int, reason: String)
    /// The body ended before the compressed stream did (a cut-off upload or a lying header).
    case unexpectedEnd(coding: BodyContentCoding, offset: Int)
    /// Bytes follow the end of a zlib, raw deflate or brotli stream.
    case trailingData(coding: BodyContentCoding, offset: Int)
    /// The stream declares a history window larger than meshgate decodes (`limit` bytes): 8 MiB for
    /// zstd (RFC 9659), 4 MiB for brotli.
    case windowTooLarge(coding: BodyContentCoding, limit: Int)
    /// The decoding library could not start or run (out of memory, a preset dictionary is required, …);
    /// `code` is the library's own error code.
    case decoderFailure(coding: BodyContentCoding, code: Int, reason: String)

    /// A one-line cause a person can act on.
    public var description: String {
        switch self {
        case .unsupportedEncoding(let name):
            // The name is the client's; a long one is cut so it cannot flood a log or audit line.
            let shown = name.count > 64 ? name.prefix(64) + "…" : Substring(name)
            return "unsupported Content-Encoding '\(shown)' (meshgate decodes gzip, x-gzip, deflate, br, zstd and identity)"
        case .tooManyEncodings(let count, let limit):
            return "Content-Encoding stacks \(count) codings; at most \(limit) are decoded"
        case .corrupt(let coding, let offset, let reason):
            return "corrupt \(coding) data at byte \(offset) of the \(coding) stream: \(reason)"
        case .unexpectedEnd(let coding, let offset):
            return "\(coding) data ends early after \(offset) bytes; the body was cut off or is not \(coding)"
        case .trailingData(let coding, let offset):
            return "unexpected bytes after the end of the \(coding) stream at byte \(offset)"
        case .windowTooLarge(let coding, let limit):
            return "the \(coding) stream needs a window over \(limit >> 20) MiB, the most meshgate decodes"
        case .decoderFailure(let coding, let code, let reason):
            return "\(coding.libraryName) failed while decoding \(coding) (error \(code)): \(reason)"
        }
    }
}

extension BodyContentCoding {
    /// The library that decodes this coding, for error messages.
    var libraryName: String {
        switch self {
        case .identity, .gzip, .deflate: return "zlib"
        case .br: return "brotli"
        case .zstd: return "zstd"
        }
    }
}
