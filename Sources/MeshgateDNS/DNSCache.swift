import MeshgateCore
import NIOConcurrencyHelpers

/// Upstream answers by (name, type, class), reused until their TTL runs out.
///
/// Positive answers live for their smallest TTL and negative ones (NXDOMAIN, no data) for the
/// SOA's negative TTL, both clamped to `[minTTL, maxTTL]`; answers without a SOA, SERVFAIL and
/// truncated ones are not kept. At most `capacity` entries: the least recently used goes first.
public final class DNSCache: Sendable {
    /// What an answer is filed under: the question (name, type, class); the name compares
    /// without regard to case.
    public typealias Key = DNSQuestion

    struct Entry {
        var answer: DNSCachedAnswer
        var storedAt: UInt64
        var expiresAt: UInt64
    }

    /// The most entries kept.
    public let capacity: Int
    /// The shortest lifetime given to a cacheable answer, in seconds.
    public let minTTL: UInt32
    /// The longest lifetime, in seconds.
    public let maxTTL: UInt32
    /// The longest lifetime of a negative answer, in seconds.
    public let maxNegativeTTL: UInt32
    private let clock: any DNSClock
    private let entries: NIOLockedValueBox<LRUCache<Key, Entry>>

    /// Creates an empty cache.
    public init(capacity: Int = 10_000, minTTL: UInt32 = 0, maxTTL: UInt32 = 86_400, maxNegativeTTL: UInt32 = 3_600,
                clock: any DNSClock = SystemDNSClock()) {
        self.capacity = max(1, capacity)
        self.minTTL = minTTL
        self.maxTTL = max(minTTL, maxTTL)
        self.maxNegativeTTL = maxNegativeTTL
        self.clock = clock
        entries = NIOLockedValueBox(LRUCache(capacity: self.capacity))
    }

    /// The number of entries, expired ones included until they are looked up or evicted.
    public var count: Int { entries.withLockedValue { $0.count } }

    /// A live answer for `key` and its age in whole seconds; nil when absent or expired.
    public func lookup(_ key: Key) -> (answer: DNSCachedAnswer, age: UInt32)? {
        let now = clock.nowNanoseconds()
        return entries.withLockedValue { cache -> (DNSCachedAnswer, UInt32)? in
            // An expired entry stays until it is replaced or evicted.
            guard let entry = cache.get(key), now < entry.expiresAt else { return nil }
            return (entry.answer, UInt32(clamping: (now - entry.storedAt) / 1_000_000_000))
        }
    }

    /// Prepares an upstream response for replay and keeps it when it is cacheable.
    public func insert(_ key: Key, response: DNSMessage) throws(DNSEncodeError) -> DNSCachedAnswer {
        let answer = try DNSCachedAnswer(response, minTTL: minTTL, maxTTL: maxTTL, maxNegativeTTL: maxNegativeTTL)
        if let lifetime = answer.lifetime, lifetime > 0 {
            let now = clock.nowNanoseconds()
            let entry = Entry(answer: answer, storedAt: now, expiresAt: now + UInt64(lifetime) * 1_000_000_000)
            entries.withLockedValue { _ = $0.set(key, entry) }
        }
        return answer
    }

    /// Drops every entry.
    public func removeAll() {
        let capacity = self.capacity
        entries.withLockedValue { $0 = LRUCache(capacity: capacity) }
    }
}
