import CPCRE2

extension PCRERegex {
    /// Compile options. UTF-8 mode and tolerance of invalid UTF-8 in subjects are always on;
    /// Unicode properties for `\w`, `\d`, `\b` and POSIX classes (PCRE2_UCP) are off unless asked for,
    /// so those classes stay ASCII-only and fast.
    public struct Options: OptionSet, Sendable, Hashable {
        /// The option bits (meshgate's own numbering, not PCRE2's).
        public let rawValue: UInt32

        /// Creates options from raw bits.
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// `(?i)`: letters match either case.
        public static let caseInsensitive = Options(rawValue: 1 << 0)
        /// `(?m)`: `^` and `$` match at line starts and ends too.
        public static let multiline = Options(rawValue: 1 << 1)
        /// `(?s)`: `.` also matches newlines.
        public static let dotMatchesNewlines = Options(rawValue: 1 << 2)
        /// `(?x)`: whitespace and `#` comments in the pattern are ignored.
        public static let extended = Options(rawValue: 1 << 3)
        /// PCRE2_UCP: `\w`, `\d`, `\s`, `\b` and POSIX classes use Unicode properties.
        public static let unicodeProperties = Options(rawValue: 1 << 4)

        /// The PCRE2 compile flags these options stand for, plus the ones meshgate always sets.
        var pcre2CompileFlags: UInt32 {
            // MATCH_INVALID_UTF (implies UTF) lets untrusted bytes be scanned without a UTF check that
            // would reject the whole subject: invalid sequences simply never match.
            // NEVER_BACKSLASH_C: \C can split a UTF-8 character, which PCRE2 documents as unsafe.
            var flags = UInt32(PCRE2_UTF) | UInt32(PCRE2_MATCH_INVALID_UTF) | UInt32(PCRE2_NEVER_BACKSLASH_C)
            if contains(.caseInsensitive) { flags |= UInt32(PCRE2_CASELESS) }
            if contains(.multiline) { flags |= UInt32(PCRE2_MULTILINE) }
            if contains(.dotMatchesNewlines) { flags |= UInt32(PCRE2_DOTALL) }
            if contains(.extended) { flags |= UInt32(PCRE2_EXTENDED) }
            if contains(.unicodeProperties) { flags |= UInt32(PCRE2_UCP) }
            return flags
        }
    }
}
