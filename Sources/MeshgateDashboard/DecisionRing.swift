import MeshgateCore

/// The most recent audit events, oldest overwritten first, each numbered in arrival order so a
/// reader can ask for what came after the last one it saw. Pure: the feed holds it behind a lock.
public struct DecisionRing: Sendable {
    /// How many events are kept.
    public let capacity: Int
    private var slots: [AuditEvent] = []
    /// Where the next event goes once the ring is full.
    private var head = 0
    /// The number the next event gets (the first is 1).
    public private(set) var nextSequence: UInt64 = 1

    /// An empty ring holding at most `capacity` events.
    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        slots.reserveCapacity(min(self.capacity, 4096))
    }

    /// The number of events held.
    public var count: Int { slots.count }

    /// The sequence number of the oldest event held (nextSequence when empty).
    public var oldestSequence: UInt64 { nextSequence - UInt64(slots.count) }

    /// Adds `event`, dropping the oldest when full.
    public mutating func append(_ event: AuditEvent) {
        if slots.count < capacity {
            slots.append(event)
        } else {
            slots[head] = event
            head = (head + 1) % capacity
        }
        nextSequence += 1
    }

    /// Events numbered after `sequence` that `filter` accepts, oldest first, at most `limit` of
    /// them (the newest `limit` when more match). Events already overwritten are gone; a reader
    /// that fell that far behind gets what is left.
    public func events(after sequence: UInt64, limit: Int, where filter: (AuditEvent) -> Bool = { _ in true }) -> [(sequence: UInt64, event: AuditEvent)] {
        guard limit > 0, sequence + 1 < nextSequence else { return [] }
        var out: [(sequence: UInt64, event: AuditEvent)] = []
        // Newest first so `limit` keeps the most recent, then reversed.
        var seq = nextSequence - 1
        let first = max(oldestSequence, sequence + 1)
        while seq >= first, out.count < limit {
            let event = slot(seq)
            if filter(event) { out.append((seq, event)) }
            if seq == 0 { break }
            seq -= 1
        }
        return out.reversed()
    }

    /// The event numbered `sequence`, if still held.
    public func event(_ sequence: UInt64) -> AuditEvent? {
        guard sequence >= oldestSequence, sequence < nextSequence else { return nil }
        return slot(sequence)
    }

    private func slot(_ sequence: UInt64) -> AuditEvent {
        let age = Int(nextSequence - 1 - sequence)  // 0 = newest
        let newestIndex = slots.count < capacity ? slots.count - 1 : (head + capacity - 1) % capacity
        return slots[(newestIndex - age + capacity) % capacity]
    }
}
