extension PCRERegex {
    /// Resource limits applied to every match, so a pathological pattern/input pair fails with
    /// `PCREMatchError.limitExceeded` instead of pinning a core.
    ///
    /// PCRE2 restarts the match-limit count at each start position of an unanchored pattern, so the
    /// worst case for one scan is roughly `subject length × matchLimit` steps; exponential patterns
    /// such as `(a+)+$` hit the limit at the first position and fail at once.
    public struct Limits: Sendable, Hashable {
        /// pcre2_set_match_limit: backtracking steps per start position (PCRE2's default is 10,000,000).
        public var matchLimit: UInt32
        /// pcre2_set_depth_limit: nesting depth of backtracking (interpreter only; JIT uses the JIT stack).
        public var depthLimit: UInt32
        /// pcre2_set_heap_limit: KiB of heap for the interpreter's backtracking frames, per match.
        public var heapLimitKiB: UInt32
        /// Initial size of each JIT stack (pcre2_jit_stack_create's start size).
        public var jitStackStartBytes: Int
        /// Largest size a JIT stack may grow to; beyond it a match fails with the JIT stack limit.
        public var jitStackMaxBytes: Int

        /// Creates limits; the defaults suit DLP scans of bodies up to a few MiB.
        public init(
            matchLimit: UInt32 = 1_000_000,
            depthLimit: UInt32 = 100_000,
            heapLimitKiB: UInt32 = 16 * 1024,
            jitStackStartBytes: Int = 32 * 1024,
            jitStackMaxBytes: Int = 1024 * 1024
        ) {
            self.matchLimit = matchLimit
            self.depthLimit = depthLimit
            self.heapLimitKiB = heapLimitKiB
            self.jitStackStartBytes = jitStackStartBytes
            self.jitStackMaxBytes = jitStackMaxBytes
        }

        /// The defaults: 1,000,000 steps, depth 100,000, 16 MiB heap, JIT stack 32 KiB growing to 1 MiB.
        public static let `default` = Limits()
    }
}
