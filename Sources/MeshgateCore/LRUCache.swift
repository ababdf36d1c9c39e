/// A fixed-capacity least-recently-used map with O(1) `get`, `set` and eviction.
///
/// Entries live in an array and are chained into a doubly-linked recency list by index, so no node is
/// allocated per entry and an evicted slot is reused in place. Not thread-safe: wrap it in a lock.
public struct LRUCache<Key: Hashable, Value> {
    fileprivate struct Node {
        var key: Key
        var value: Value
        var newer: Int
        var older: Int
    }

    private static var none: Int { -1 }

    private var nodes: [Node] = []
    private var index: [Key: Int] = [:]
    /// The most recently used slot.
    private var newest = LRUCache.none
    /// The least recently used slot: the next to go.
    private var oldest = LRUCache.none

    /// The most entries kept; at least 1.
    public let capacity: Int

    /// Creates an empty cache holding at most `capacity` entries (values below 1 are taken as 1).
    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        nodes.reserveCapacity(min(self.capacity, 1024))
        index.reserveCapacity(min(self.capacity, 1024))
    }

    /// The number of entries.
    public var count: Int { index.count }

    /// The value for `key`, marking it most recently used.
    public mutating func get(_ key: Key) -> Value? {
        guard let slot = index[key] else { return nil }
        moveToNewest(slot)
        return nodes[slot].value
    }

    /// The value for `key` without changing recency.
    public func peek(_ key: Key) -> Value? {
        index[key].map { nodes[$0].value }
    }

    /// Whether `key` is present (recency unchanged).
    public func contains(_ key: Key) -> Bool { index[key] != nil }

    /// Inserts or replaces the value for `key`, making it most recently used. When a new key does not
    /// fit, the least recently used entry is evicted and returned.
    @discardableResult
    public mutating func set(_ key: Key, _ value: Value) -> (key: Key, value: Value)? {
        if let slot = index[key] {
            nodes[slot].value = value
            moveToNewest(slot)
            return nil
        }
        if nodes.count < capacity {
            nodes.append(Node(key: key, value: value, newer: LRUCache.none, older: LRUCache.none))
            let slot = nodes.count - 1
            index[key] = slot
            linkAsNewest(slot)
            return nil
        }
        // Full: reuse the oldest slot for the new entry.
        let slot = oldest
        let evicted = (key: nodes[slot].key, value: nodes[slot].value)
        unlink(slot)
        index[evicted.key] = nil
        nodes[slot].key = key
        nodes[slot].value = value
        index[key] = slot
        linkAsNewest(slot)
        return evicted
    }

    /// Keys from most to least recently used (O(n); for tests and diagnostics).
    public var keysByRecency: [Key] {
        var keys: [Key] = []
        keys.reserveCapacity(count)
        var slot = newest
        while slot != LRUCache.none {
            keys.append(nodes[slot].key)
            slot = nodes[slot].older
        }
        return keys
    }

    private mutating func moveToNewest(_ slot: Int) {
        guard slot != newest else { return }
        unlink(slot)
        linkAsNewest(slot)
    }

    private mutating func unlink(_ slot: Int) {
        let newer = nodes[slot].newer
        let older = nodes[slot].older
        if newer != LRUCache.none { nodes[newer].older = older } else { newest = older }
        if older != LRUCache.none { nodes[older].newer = newer } else { oldest = newer }
        nodes[slot].newer = LRUCache.none
        nodes[slot].older = LRUCache.none
    }

    private mutating func linkAsNewest(_ slot: Int) {
        nodes[slot].older = newest
        nodes[slot].newer = LRUCache.none
        if newest != LRUCache.none { nodes[newest].newer = slot }
        newest = slot
        if oldest == LRUCache.none { oldest = slot }
    }
}

extension LRUCache: Sendable where Key: Sendable, Value: Sendable {}
extension LRUCache.Node: Sendable where Key: Sendable, Value: Sendable {}
