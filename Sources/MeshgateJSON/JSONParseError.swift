/// Why a body is not (acceptable) JSON, with the byte offset where the parser gave up.
///
/// Offsets count bytes of the UTF-8 text actually parsed: for UTF-16/32 input that is the
/// transcoded text, not the bytes on the wire.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Reason: Sendable, Equatable {
        /// The input ended inside a value.
        case unexpectedEnd
        /// A byte that cannot start or continue the value at this point.
        case unexpectedByte(UInt8)
        /// A backslash escape JSON does not define, or a malformed `\u` escape.
        case invalidEscape
        /// A raw control character (below U+0020) inside a string.
        case controlCharacterInString(UInt8)
        /// A number that breaks the JSON number grammar (leading zeros, bare `-`, `1.`, ...).
        case invalidNumber
        /// Something other than whitespace after the top-level value.
        case trailingData
        /// Nesting deeper than `JSONLimits.maxDepth`.
        case tooDeep(limit: Int)
        /// Input longer than `JSONLimits.maxBytes`.
        case tooLarge(size: Int, limit: Int)
        /// More values than `JSONLimits.maxValues`.
        case tooManyValues(limit: Int)
    }

    /// What went wrong.
    public var reason: Reason
    /// Byte offset of the problem.
    public var offset: Int

    /// Creates an error.
    public init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    /// One line naming the problem and where it is.
    public var description: String {
        let what: String
        switch reason {
        case .unexpectedEnd: what = "unexpected end of input"
        case .unexpectedByte(let b):
            what = (0x21...0x7E).contains(b)
                ? "unexpected '\(Character(Unicode.Scalar(b)))'"
                : "unexpected byte 0x\(String(b, radix: 16, uppercase: true))"
        case .invalidEscape: what = "invalid escape sequence in string"
        case .controlCharacterInString(let b):
            what = "raw control character 0x\(String(b, radix: 16, uppercase: true)) in string (escape it as \\u00XX)"
        case .invalidNumber: what = "malformed number"
        case .trailingData: what = "data after the top-level value"
        case .tooDeep(let limit): what = "nesting deeper than \(limit) levels"
        case .tooLarge(let size, let limit): what = "document of \(size) bytes exceeds the \(limit)-byte limit"
        case .tooManyValues(let limit): what = "more than \(limit) values"
        }
        return "invalid JSON at byte \(offset): \(what)"
    }
}
