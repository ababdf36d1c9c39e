/// Why a match could not give a yes/no answer. The input was not proven clean: callers that
/// enforce policy should treat this as "could not inspect" (fail closed or log), never as "no match".
public enum PCREMatchError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A resource limit from `PCRERegex.Limits` stopped the match, typically catastrophic backtracking
    /// such as `(a+)+$` against a long run of `a` that ends in something else.
    case limitExceeded(pattern: String, limit: PCRELimitKind)
    /// Any other failure reported by `pcre2_match` (for example running out of memory).
    case matchFailed(pattern: String, code: Int32, message: String)

    /// Whether this is `limitExceeded`, whatever the limit.
    public var isLimitExceeded: Bool {
        if case .limitExceeded = self { return true }
        return false
    }

    /// A one-line cause naming the pattern.
    public var description: String {
        switch self {
        case .limitExceeded(let pattern, let limit):
            return "regex '\(pattern)' exceeded the \(limit) while matching; the pattern backtracks too much for this input (simplify it, e.g. avoid nested repeats such as (a+)+)"
        case .matchFailed(let pattern, let code, let message):
            return "regex '\(pattern)' failed while matching (PCRE2 error \(code)): \(message)"
        }
    }
}

/// Which of the limits in `PCRERegex.Limits` a match ran into.
public enum PCRELimitKind: String, Sendable, Hashable, CustomStringConvertible {
    /// `matchLimit`: too many backtracking steps from one start position.
    case match
    /// `depthLimit`: backtracking nested too deeply (interpreter only).
    case depth
    /// `heapLimitKiB`: the interpreter's backtracking frames outgrew the heap allowance.
    case heap
    /// `jitStackMaxBytes`: the JIT code needed a larger stack.
    case jitStack

    /// "match limit", "depth limit", "heap limit" or "JIT stack limit".
    public var description: String {
        switch self {
        case .match: return "match limit"
        case .depth: return "depth limit"
        case .heap: return "heap limit"
        case .jitStack: return "JIT stack limit"
        }
    }
}
