/// A fixed-capacity least-recently-used map with O(1) `get`, `set` and eviction.
///
/// Inlinable so that each user gets a copy specialised to its key and value types (the DNS
/// cache looks one up per query). Entries live in an array and are chained into a doubly-linked recency list by index, so no node is
/// allocated per entry and an evicted slot is reused in place. Not thread-safe: wrap it in a lock.
public struct LRUCache<Key: Hashable, Value> {
    @usableFromInline struct Node {
        @usableFromInline var key: Key
        @usableFromInline var value: Value
        @usableFromInline var newer: Int
        @usableFromInline var older: Int

        @inlinable init(key: Key, value: Value, newer: Int, older: Int) {
            self.key = key
            self.value = value
            self.newer = newer
            self.older = older
        }
    }

    @inlinable static var none: Int { -1 }

    @usableFromInline var nodes: [Node] = []
    @usableFromInline var index: [Key: Int] = [:]
    /// The most recently used slot.
    @usableFromInline var newest = LRUCache.none
    /// The least recently used slot: the next to go.
    @usableFromInline var oldest = LRUCache.none

    /// The most entries kept; at least 1.
    public let capacity: Int

    /// Creates an empty cache holding at most `capacity` entries (values below 1 are taken as 1).
    @inlinable public init(capacity: Int) {
        self.capacity = max(1, capacity)
        nodes.reserveCapacity(min(self.capacity, 1024))
        index.reserveCapacity(min(self.capacity, 1024))
    }

    /// The number of entries.
    @inlinable public var count: Int { index.count }

    /// The value for `key`, marking it most recently used.
    @inlinable public mutating func get(_ key: Key) -> Value? {
        guard let slot = index[key] else { return nil }
        moveToNewest(slot)
        return nodes[slot].value
    }

    /// The value for `key` without changing recency.
    @inlinable public func peek(_ key: Key) -> Value? {
        index[key].map { nodes[$0].value }
    }

    /// Whether `key` is present (recency unchanged).
    @inlinable public func contains(_ key: Key) -> Bool { index[key] != nil }

    /// Inserts or replaces the value for `key`, making it most recently used. When a new key does not
    /// fit, the least recently used entry is evicted and returned.
    @discardableResult
    @inlinable public mutating func set(_ key: Key, _ value: Value) -> (key: Key, value: Value)? {
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

    @inlinable mutating func moveToNewest(_ slot: Int) {
        guard slot != newest else { return }
        unlink(slot)
        linkAsNewest(slot)
    }

    @inlinable mutating func unlink(_ slot: Int) {
        let newer = nodes[slot].newer
        let older = nodes[slot].older
        if newer != LRUCache.none { nodes[newer].older = older } else { newest = older }
        if older != LRUCache.none { nodes[older].newer = newer } else { oldest = newer }
        nodes[slot].newer = LRUCache.none
        nodes[slot].older = LRUCache.none
    }

    @inlinable mutating func linkAsNewest(_ slot: Int) {
        nodes[slot].older = newest
        nodes[slot].newer = LRUCache.none
        if newest != LRUCache.none { nodes[newest].newer = slot }
        newest = slot
        if oldest == LRUCache.none { oldest = slot }
    }
}

extension LRUCache: Sendable where Key: Sendable, Value: Sendable {}
extension LRUCache.Node: Sendable where Key: Sendable, Value: Sendable {}
