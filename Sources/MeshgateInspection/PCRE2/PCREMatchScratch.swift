import CPCRE2
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The per-match mutable state PCRE2 needs: match data (ovector and, for the interpreter, the
/// backtracking frames), a match context carrying the limits, and a JIT stack. One scratch serves
/// one match at a time.
final class PCREMatchScratch {
    let matchData: OpaquePointer
    let context: OpaquePointer
    private let jitStack: OpaquePointer?

    init?(code: OpaquePointer, limits: PCRERegex.Limits, useJIT: Bool) {
        guard let matchData = cpcre2_match_data_create(code) else { return nil }
        guard let context = cpcre2_match_context_create() else {
            cpcre2_match_data_free(matchData)
            return nil
        }
        cpcre2_match_context_set_limits(context, limits.matchLimit, limits.depthLimit, limits.heapLimitKiB)
        var jitStack: OpaquePointer?
        if useJIT {
            let start = max(4 * 1024, limits.jitStackStartBytes)
            let maximum = max(start, limits.jitStackMaxBytes)
            // Without a stack of our own the JIT code runs on 32 KiB of the machine stack; if the
            // allocation fails we keep that default rather than refusing to match.
            jitStack = cpcre2_jit_stack_create(start, maximum)
            if let jitStack { cpcre2_jit_stack_assign(context, jitStack) }
        }
        self.matchData = matchData
        self.context = context
        self.jitStack = jitStack
    }

    deinit {
        cpcre2_match_data_free(matchData)
        cpcre2_match_context_free(context)
        if let jitStack { cpcre2_jit_stack_free(jitStack) }
    }
}

/// A small pool of `PCREMatchScratch` for one compiled regex.
///
/// Why a pool and not a thread-local cache: the regexes live in rulesets that are replaced on every
/// reload, and a thread-local cache keyed by regex would keep dead entries alive on every event-loop
/// thread (or need per-thread cleanup hooks) until the thread exits. A pool belongs to its regex, is
/// freed with it, and costs one uncontended lock per match — nanoseconds against microseconds of
/// scanning. It keeps at most `maxRetained` idle scratches (twice the core count); a burst of more
/// concurrent matches allocates extra scratches that are freed when returned.
final class PCREScratchPool: @unchecked Sendable {
    // @unchecked: `idle` is only touched under `lock`; each scratch is used by one caller at a time.
    private let lock = PCREMutex()
    private var idle: [PCREMatchScratch] = []
    private let code: OpaquePointer
    private let limits: PCRERegex.Limits
    private let useJIT: Bool
    private let maxRetained: Int

    init(code: OpaquePointer, limits: PCRERegex.Limits, useJIT: Bool) {
        self.code = code
        self.limits = limits
        self.useJIT = useJIT
        self.maxRetained = max(2, System.coreCount * 2)
    }

    /// Runs `body` with a scratch of its own. A scratch whose match hit a limit is dropped instead of
    /// pooled, since its match data may still hold the interpreter's grown frame vector.
    func withScratch<R>(
        _ body: (PCREMatchScratch) -> (result: R, keep: Bool)
    ) -> R? {
        let pooled = lock.withLock { idle.popLast() }
        guard let scratch = pooled ?? PCREMatchScratch(code: code, limits: limits, useJIT: useJIT) else {
            return nil
        }
        let (result, keep) = body(scratch)
        if keep {
            lock.withLock {
                if idle.count < maxRetained { idle.append(scratch) }
            }
        }
        return result
    }

    /// Frees every idle scratch now (used before the compiled code is freed).
    func drain() {
        lock.withLock { idle.removeAll() }
    }

    /// How many idle scratches are pooled (for tests).
    var idleCount: Int { lock.withLock { idle.count } }
}

/// A pthread mutex with a stable address. NIOCore does not export a lock and
/// Synchronization.Mutex needs macOS 15, while the package supports macOS 14.
final class PCREMutex: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    func withLock<R>(_ body: () -> R) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }
}
