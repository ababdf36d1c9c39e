/// Why a request or response body could not be decoded. Offsets count bytes of the encoded input of
/// the layer concerned (for a single coding, bytes of the body as sent).
public enum BodyDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A Content-Encoding meshgate does not decode (`br`, `zstd`, `compress`, …).
    case unsupportedEncoding(String)
    /// More stacked codings than `BodyDecoder.maxLayers` (identity not counted).
    case tooManyEncodings(count: Int, limit: Int)
    /// The compressed data is invalid; `reason` is zlib's message (e.g. "invalid block type").
    case corrupt(coding: BodyContentCoding, offset: Int, reason: String)
    /// The body ended before the compressed stream did (a cut-off upload or a lying header).
    case unexpectedEnd(coding: BodyContentCoding, offset: Int)
    /// Bytes follow the end of a zlib or raw deflate stream.
    case trailingData(coding: BodyContentCoding, offset: Int)
    /// zlib could not start or run (out of memory, a preset dictionary is required, …).
    case zlibFailure(coding: BodyContentCoding, code: Int32, reason: String)

    /// A one-line cause a person can act on.
    public var description: String {
        switch self {
        case .unsupportedEncoding(let name):
            return "unsupported Content-Encoding '\(name)' (meshgate decodes gzip, x-gzip, deflate and identity)"
        case .tooManyEncodings(let count, let limit):
            return "Content-Encoding stacks \(count) codings; at most \(limit) are decoded"
        case .corrupt(let coding, let offset, let reason):
            return "corrupt \(coding) data at byte \(offset) of the \(coding) stream: \(reason)"
        case .unexpectedEnd(let coding, let offset):
            return "\(coding) data ends early after \(offset) bytes; the body was cut off or is not \(coding)"
        case .trailingData(let coding, let offset):
            return "unexpected bytes after the end of the \(coding) stream at byte \(offset)"
        case .zlibFailure(let coding, let code, let reason):
            return "zlib failed while decoding \(coding) (error \(code)): \(reason)"
        }
    }
}
