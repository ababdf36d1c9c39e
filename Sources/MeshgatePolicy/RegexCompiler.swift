/// Turns a ruleset regex (PCRE2 syntax) into something that can match bytes.
///
/// The policy module does not link PCRE2 itself: `MeshgateInspection` provides the production
/// compiler (JIT, match limits) and tests use a stand-in, so the engine stays pure and testable.
public protocol RegexCompiler: Sendable {
    /// Compiles `pattern`; the thrown error's `description` carries the compiler's message and
    /// the offset into the pattern, and is shown to the user verbatim.
    func compile(_ pattern: String) throws -> any CompiledRegex
}

/// A compiled regex, safe to share between threads.
public protocol CompiledRegex: Sendable {
    /// Whether the pattern matches anywhere in `bytes`. Throws when matching gives up (a match or
    /// depth limit was hit); the engine then records a ``PatternMatchError`` and treats the
    /// pattern as not matching, leaving the fail mode to the caller.
    func matches(_ bytes: [UInt8]) throws -> Bool

    /// Whether the pattern matches at least one byte somewhere in `bytes`; a zero-length match
    /// (`x*` before any `x`, a lookahead alone) does not count, and an empty subject never matches.
    /// Body patterns are matched this way, so that one that can match the empty string is not a
    /// detection on every body (or on a request with none). Throws as ``matches(_:)`` does.
    func matchesNonEmpty(_ bytes: [UInt8]) throws -> Bool

    /// Literal byte strings, one per top-level alternative, of which every match contains at
    /// least one; nil when the compiler cannot say. Lets the proxy skip work no match could need.
    var requiredLiterals: [[UInt8]]? { get }
}

extension CompiledRegex {
    /// No literals known.
    public var requiredLiterals: [[UInt8]]? { nil }

    /// For regexes that cannot ask for a non-empty match: `matches(_:)` on a non-empty subject
    /// (still never an empty body, but a zero-length match inside one counts).
    public func matchesNonEmpty(_ bytes: [UInt8]) throws -> Bool {
        bytes.isEmpty ? false : try matches(bytes)
    }
}
