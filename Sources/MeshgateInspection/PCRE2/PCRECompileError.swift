/// A regex that PCRE2 refused to compile, with PCRE2's own message and where in the pattern it stopped.
public struct PCRECompileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written.
    public var pattern: String
    /// The name of the pattern in its DLP profile, when it was compiled as part of a `PCRERegexSet`.
    public var patternName: String?
    /// Byte offset into the pattern's UTF-8 where PCRE2 detected the problem (equals the character offset for ASCII patterns).
    public var offset: Int
    /// PCRE2's message, e.g. "missing closing parenthesis".
    public var message: String
    /// PCRE2's numeric error code (positive for compile errors), for callers that branch on it.
    public var code: Int32

    /// Creates an error value; normally thrown by `PCRERegex.init`.
    public init(pattern: String, patternName: String? = nil, offset: Int, message: String, code: Int32) {
        self.pattern = pattern
        self.patternName = patternName
        self.offset = offset
        self.message = message
        self.code = code
    }

    /// "invalid regex at offset 7: missing closing parenthesis" (prefixed with the pattern's name when it has one).
    public var description: String {
        let core = "invalid regex at offset \(offset): \(message)"
        guard let patternName else { return core }
        return "pattern \"\(patternName)\": \(core)"
    }
}
