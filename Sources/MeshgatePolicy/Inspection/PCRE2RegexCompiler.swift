import MeshgateInspection

/// Compiles ruleset regexes with PCRE2 (JIT, match limits); errors carry PCRE2's message and offset.
public struct PCRE2RegexCompiler: RegexCompiler {
    /// Limits applied to every match, so no pattern can stall a request.
    public var limits: PCRERegex.Limits

    /// Creates a compiler with the given match limits.
    public init(limits: PCRERegex.Limits = .default) { self.limits = limits }

    /// Compiles `pattern` (UTF-8, JIT when available).
    public func compile(_ pattern: String) throws -> any CompiledRegex {
        try PCRERegex(pattern, limits: limits)
    }
}

extension PCRERegex: CompiledRegex {
    /// Whether the pattern matches anywhere in `bytes`; a limit hit throws.
    public func matches(_ bytes: [UInt8]) throws -> Bool { try matches(in: bytes) }

    /// Whether the pattern matches at least one byte of `bytes` (PCRE2_NOTEMPTY); a limit hit throws.
    public func matchesNonEmpty(_ bytes: [UInt8]) throws -> Bool { try matchesNonEmpty(in: bytes) }
}
