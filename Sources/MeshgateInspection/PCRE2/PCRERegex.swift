import CPCRE2
import NIOCore

/// A PCRE2 regex compiled once (UTF-8, JIT when available) and matched against raw bytes from any
/// thread. Subjects are untrusted: invalid UTF-8 never crashes or errors, it just does not match, and
/// runaway backtracking stops at `limits` with `PCREMatchError.limitExceeded`.
///
/// Match ranges are byte offsets into the subject (for a `ByteBuffer`, relative to its reader index).
public final class PCRERegex: @unchecked Sendable {
    // @unchecked: `code` is immutable after compilation and PCRE2 documents concurrent pcre2_match
    // calls on one compiled pattern as safe; all per-match state comes from `pool`, which is locked.

    /// The pattern as written.
    public let pattern: String
    /// The options it was compiled with.
    public let options: Options
    /// The limits every match runs under.
    public let limits: Limits
    /// Whether matches run JIT-compiled code; false means PCRE2's (slower) interpreter.
    public let isJITCompiled: Bool
    /// Why the interpreter is used when `isJITCompiled` is false (no JIT in this libpcre2, no
    /// executable memory, or a pattern item the JIT cannot handle); nil when JIT is on.
    public let jitUnavailableReason: String?

    private let code: OpaquePointer
    private let pool: PCREScratchPool
    /// Literals a match must contain, checked before PCRE2 runs (nil: no such shortcut).
    let literalPrefilter: PCRERequiredLiterals?

    /// Compiles `pattern` and JIT-compiles it, falling back to the interpreter when JIT is unavailable.
    public init(_ pattern: String, options: Options = [], limits: Limits = .default) throws(PCRECompileError) {
        var errorCode: Int32 = 0
        var errorOffset = 0
        var text = pattern
        let compiled = text.withUTF8 { utf8 in
            cpcre2_compile(utf8.baseAddress, utf8.count, options.pcre2CompileFlags, &errorCode, &errorOffset)
        }
        guard let compiled else {
            throw PCRECompileError(
                pattern: pattern,
                offset: errorOffset,
                message: PCRERegex.message(for: errorCode),
                code: errorCode
            )
        }

        var jitReason: String?
        if cpcre2_jit_available() == 0 {
            jitReason = "this libpcre2 was built without JIT support"
        } else {
            let rc = cpcre2_jit_compile_complete(compiled)
            if rc != 0 {
                jitReason = "JIT compilation failed: \(PCRERegex.message(for: rc))"
            } else if cpcre2_jit_size(compiled) == 0 {
                jitReason = "the JIT compiler cannot handle an item in this pattern"
            }
        }

        self.pattern = pattern
        self.options = options
        self.limits = limits
        self.code = compiled
        self.isJITCompiled = jitReason == nil
        self.jitUnavailableReason = jitReason
        self.pool = PCREScratchPool(code: compiled, limits: limits, useJIT: jitReason == nil)
        self.literalPrefilter = PCRERequiredLiterals.of(pattern, options: options)
    }

    /// Same as `init(_:options:limits:)`.
    public static func compile(
        _ pattern: String,
        options: Options = [],
        limits: Limits = .default
    ) throws(PCRECompileError) -> PCRERegex {
        try PCRERegex(pattern, options: options, limits: limits)
    }

    deinit {
        pool.drain()
        cpcre2_code_free(code)
    }

    // MARK: - Matching

    /// The byte range of the first match at or after `start`, or nil. Offsets outside
    /// `0...bytes.count` find nothing.
    public func firstMatch(
        in bytes: UnsafeRawBufferPointer,
        startingAt start: Int = 0
    ) throws(PCREMatchError) -> Range<Int>? {
        try firstMatch(in: bytes, startingAt: start, nonEmpty: false, usePrefilter: true)
    }

    /// The byte range of the first match of at least one byte at or after `start`, or nil: a
    /// zero-length match (`x*` before any `x`, a lookahead alone) does not count, and PCRE2 goes on
    /// to look for a longer one (PCRE2_NOTEMPTY). An empty subject never matches.
    public func firstNonEmptyMatch(
        in bytes: UnsafeRawBufferPointer,
        startingAt start: Int = 0
    ) throws(PCREMatchError) -> Range<Int>? {
        try firstMatch(in: bytes, startingAt: start, nonEmpty: true, usePrefilter: true)
    }

    /// The first match; `usePrefilter: false` runs PCRE2 even on a subject lacking the required
    /// literals (the pattern probe's worst case: an attacker can always add the literals).
    func firstMatch(
        in bytes: UnsafeRawBufferPointer,
        startingAt start: Int,
        nonEmpty: Bool,
        usePrefilter: Bool
    ) throws(PCREMatchError) -> Range<Int>? {
        guard start >= 0, start <= bytes.count else { return nil }
        // Every match lies at or after `start`, and so does the literal it contains.
        if usePrefilter, let literalPrefilter, !literalPrefilter.mayMatch(UnsafeRawBufferPointer(rebasing: bytes[start...])) { return nil }
        let subject = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let matchOptions = nonEmpty ? UInt32(PCRE2_NOTEMPTY) : 0
        let outcome: Result<Range<Int>?, PCREMatchError>? = pool.withScratch { scratch in
            let rc = cpcre2_match(code, subject, bytes.count, start, matchOptions, scratch.matchData, scratch.context)
            if rc >= 0 {
                var lower = 0
                var upper = 0
                cpcre2_match_range(scratch.matchData, &lower, &upper)
                // \K in a lookahead can report end < start; an empty range at the end keeps Range valid.
                return (.success(lower..<max(lower, upper)), true)
            }
            if rc == PCRE2_ERROR_NOMATCH { return (.success(nil), true) }
            return (.failure(self.matchError(code: rc)), false)
        }
        guard let outcome else {
            throw .matchFailed(pattern: pattern, code: PCRE2_ERROR_NOMEMORY, message: "could not allocate match data")
        }
        return try outcome.get()
    }

    /// The byte range of the first match in `bytes` at or after `start`, or nil.
    public func firstMatch(in bytes: [UInt8], startingAt start: Int = 0) throws(PCREMatchError) -> Range<Int>? {
        try bytes.withUnsafeBytes { raw in
            Result { () throws(PCREMatchError) in try firstMatch(in: raw, startingAt: start) }
        }.get()
    }

    /// The first match in the readable bytes of `buffer`, as offsets from its reader index, or nil.
    public func firstMatch(in buffer: ByteBuffer, startingAt start: Int = 0) throws(PCREMatchError) -> Range<Int>? {
        try buffer.withUnsafeReadableBytes { raw in
            Result { () throws(PCREMatchError) in try firstMatch(in: raw, startingAt: start) }
        }.get()
    }

    /// The first match in the UTF-8 of `string`, as UTF-8 offsets, or nil.
    public func firstMatch(in string: String, startingAt start: Int = 0) throws(PCREMatchError) -> Range<Int>? {
        var string = string
        return try string.withUTF8 { utf8 in
            Result { () throws(PCREMatchError) in try firstMatch(in: UnsafeRawBufferPointer(utf8), startingAt: start) }
        }.get()
    }

    /// Whether the regex matches anywhere in `bytes`.
    public func matches(in bytes: UnsafeRawBufferPointer) throws(PCREMatchError) -> Bool {
        try firstMatch(in: bytes) != nil
    }

    /// Whether the regex matches anywhere in `bytes`.
    public func matches(in bytes: [UInt8]) throws(PCREMatchError) -> Bool {
        try firstMatch(in: bytes) != nil
    }

    /// Whether the regex matches anywhere in the readable bytes of `buffer`.
    public func matches(in buffer: ByteBuffer) throws(PCREMatchError) -> Bool {
        try firstMatch(in: buffer) != nil
    }

    /// Whether the regex matches anywhere in `string`.
    public func matches(in string: String) throws(PCREMatchError) -> Bool {
        try firstMatch(in: string) != nil
    }

    /// Whether the regex matches at least one byte somewhere in `bytes` (a zero-length match does
    /// not count; see ``firstNonEmptyMatch(in:startingAt:)``).
    public func matchesNonEmpty(in bytes: [UInt8]) throws(PCREMatchError) -> Bool {
        try bytes.withUnsafeBytes { raw in
            Result { () throws(PCREMatchError) in try firstNonEmptyMatch(in: raw) }
        }.get() != nil
    }

    /// Literal byte strings, one per top-level alternative, of which every match contains one
    /// (read off the pattern; nil when it has none that can be relied on). Subjects without any
    /// are refused before PCRE2 runs.
    public var requiredLiterals: [[UInt8]]? { literalPrefilter?.alternatives }

    /// Idle match-data sets held for reuse (for tests and diagnostics).
    var pooledScratchCount: Int { pool.idleCount }

    // MARK: - Errors

    private func matchError(code rc: Int32) -> PCREMatchError {
        switch rc {
        case PCRE2_ERROR_MATCHLIMIT: return .limitExceeded(pattern: pattern, limit: .match)
        case PCRE2_ERROR_DEPTHLIMIT: return .limitExceeded(pattern: pattern, limit: .depth)
        case PCRE2_ERROR_HEAPLIMIT: return .limitExceeded(pattern: pattern, limit: .heap)
        case PCRE2_ERROR_JIT_STACKLIMIT: return .limitExceeded(pattern: pattern, limit: .jitStack)
        default: return .matchFailed(pattern: pattern, code: rc, message: PCRERegex.message(for: rc))
        }
    }

    /// PCRE2's text for an error code.
    static func message(for code: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = buffer.withUnsafeMutableBufferPointer { cpcre2_error_message(code, $0.baseAddress, $0.count) }
        guard length > 0 else { return "PCRE2 error \(code)" }
        return String(decoding: buffer[..<Int(length)], as: UTF8.self)
    }
}
