import MeshgateCore

/// The most recent audit events, oldest dropped first, each numbered in arrival order so a reader
/// can ask for what came after the last one it saw. Pure: the feed holds it behind a lock.
///
/// It keeps the audit writer's batches as they come (slices of the writer's own arrays) instead of
/// copying events one by one: an event then costs the ring nothing but its share of one array
/// reference, and it is freed with its batch, as it would have been after the write. Only the
/// latest ``capacity`` events are visible; up to one batch more may be held until the next one
/// arrives.
public struct DecisionRing: Sendable {
    private struct Chunk: Sendable {
        /// The number of `events.first`.
        var first: UInt64
        var events: ArraySlice<AuditEvent>
    }

    /// How many events are visible.
    public let capacity: Int
    /// Oldest first.
    private var chunks: [Chunk] = []
    private var held = 0
    /// The number the next event gets (the first is 1).
    public private(set) var nextSequence: UInt64 = 1

    /// An empty ring showing at most `capacity` events.
    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The number of events visible.
    public var count: Int { Int(nextSequence - oldestSequence) }

    /// The sequence number of the oldest visible event (nextSequence when empty).
    public var oldestSequence: UInt64 {
        let windowStart = nextSequence > UInt64(capacity) ? nextSequence - UInt64(capacity) : 1
        return max(chunks.first?.first ?? nextSequence, windowStart)
    }

    /// Adds one event.
    public mutating func append(_ event: AuditEvent) {
        append(contentsOf: [event][...])
    }

    /// Adds a batch in order. A batch as large as the ring is cut to its tail (copied, so that the
    /// rest of the batch is not kept alive); the numbers of the events cut still count.
    public mutating func append(contentsOf events: ArraySlice<AuditEvent>) {
        guard !events.isEmpty else { return }
        if events.count >= capacity {
            chunks.removeAll(keepingCapacity: true)
            nextSequence += UInt64(events.count - capacity)
            chunks.append(Chunk(first: nextSequence, events: Array(events.suffix(capacity))[...]))
            held = capacity
            nextSequence += UInt64(capacity)
            return
        }
        chunks.append(Chunk(first: nextSequence, events: events))
        held += events.count
        nextSequence += UInt64(events.count)
        // Drop whole batches while the rest still fills the window.
        while let oldest = chunks.first, held - oldest.events.count >= capacity {
            held -= oldest.events.count
            chunks.removeFirst()
        }
    }

    /// Events numbered after `sequence` that `filter` accepts, oldest first, at most `limit` of
    /// them (the newest `limit` when more match). Events already dropped are gone; a reader that
    /// fell that far behind gets what is left.
    public func events(after sequence: UInt64, limit: Int, where filter: (AuditEvent) -> Bool = { _ in true }) -> [(sequence: UInt64, event: AuditEvent)] {
        let first = max(oldestSequence, sequence + 1)
        guard limit > 0, first < nextSequence else { return [] }
        var out: [(sequence: UInt64, event: AuditEvent)] = []
        // Newest first so `limit` keeps the most recent, then reversed.
        walk: for chunk in chunks.reversed() {
            var index = chunk.events.endIndex
            var seq = chunk.first + UInt64(chunk.events.count)
            while index > chunk.events.startIndex {
                index -= 1
                seq -= 1
                if seq < first || out.count == limit { break walk }
                let event = chunk.events[index]
                if filter(event) { out.append((seq, event)) }
            }
        }
        return out.reversed()
    }

    /// The event numbered `sequence`, if still visible.
    public func event(_ sequence: UInt64) -> AuditEvent? {
        guard sequence >= oldestSequence, sequence < nextSequence else { return nil }
        for chunk in chunks.reversed() where sequence >= chunk.first {
            return chunk.events[chunk.events.startIndex + Int(sequence - chunk.first)]
        }
        return nil
    }
}
