import NIOCore

/// Idle keep-alive connections to origins, one pool per event loop so that a client and its upstream
/// share a thread and nothing is locked. All methods run on `eventLoop`.
final class UpstreamPool {
    let eventLoop: any EventLoop
    private var idle: [UpstreamKey: [UpstreamConnection]] = [:]
    private let maxIdlePerKey: Int
    /// Idle connections across all origins: each idle TLS connection holds ~200 KB of buffers, so
    /// a sweep over many hosts must not keep one per host until the idle timeout.
    private let maxIdleTotal: Int
    private(set) var idleCount = 0
    private let idleTimeout: TimeAmount
    private var sweeper: RepeatedTask?

    init(eventLoop: any EventLoop, maxIdlePerKey: Int, maxIdleTotal: Int = 128, idleTimeout: TimeAmount = .seconds(60)) {
        self.eventLoop = eventLoop
        self.maxIdlePerKey = maxIdlePerKey
        self.maxIdleTotal = maxIdleTotal
        self.idleTimeout = idleTimeout
    }

    /// An idle live connection for `key`, or nil.
    func take(_ key: UpstreamKey) -> UpstreamConnection? {
        eventLoop.preconditionInEventLoop()
        // Popped in place (a copied-out list would be copied again on write); an emptied list stays
        // for the connection's return, and the sweep drops lists left empty.
        while let connection = idle[key]?.popLast() {
            idleCount -= 1
            if connection.isUsable { return connection }
            connection.close()
        }
        return nil
    }

    /// Returns a connection after a complete response; closes it if it cannot be reused.
    func release(_ connection: UpstreamConnection) {
        eventLoop.preconditionInEventLoop()
        connection.delegate = nil
        connection.setReadsHeld(false)
        guard connection.isUsable, maxIdlePerKey > 0, maxIdleTotal > 0 else {
            connection.close()
            return
        }
        if (idle[connection.key]?.count ?? 0) >= maxIdlePerKey {
            connection.close()
            return
        }
        if idleCount >= maxIdleTotal { evictOldest() }
        connection.idleSince = .now()
        idle[connection.key, default: []].append(connection)
        idleCount += 1
        startSweeperIfNeeded()
    }

    /// Closes every idle connection (shutdown).
    func closeAll() {
        eventLoop.preconditionInEventLoop()
        for list in idle.values { for c in list { c.close() } }
        idle.removeAll()
        idleCount = 0
        sweeper?.cancel()
        sweeper = nil
    }

    /// Closes the connection idle the longest (each list is oldest first).
    private func evictOldest() {
        guard let (key, list) = idle.filter({ !$0.value.isEmpty }).min(by: { $0.value[0].idleSince < $1.value[0].idleSince }) else { return }
        list[0].close()
        idle[key] = list.count == 1 ? nil : Array(list.dropFirst())
        idleCount -= 1
    }

    private func startSweeperIfNeeded() {
        guard sweeper == nil else { return }
        // The task runs on this pool's loop; the pool is reached weakly so the task does not keep it.
        let pool = NIOLoopBound(WeakPool(pool: self), eventLoop: eventLoop)
        sweeper = eventLoop.scheduleRepeatedTask(initialDelay: idleTimeout, delay: idleTimeout) { _ in
            pool.value.pool?.sweep()
        }
    }

    private func sweep() {
        let cutoff = NIODeadline.now() - idleTimeout
        for (key, list) in idle {
            let keep = list.filter { c in
                if c.isUsable && c.idleSince > cutoff { return true }
                c.close()
                return false
            }
            idle[key] = keep.isEmpty ? nil : keep
        }
        idleCount = idle.values.reduce(0) { $0 + $1.count }
    }
}

private struct WeakPool {
    weak var pool: UpstreamPool?
}

// Not Sendable: confined to its event loop (`UpstreamPools` hands it out through NIOLoopBound).
@available(*, unavailable)
extension UpstreamPool: Sendable {}

/// One `UpstreamPool` per event loop of a group, looked up without locks.
final class UpstreamPools: Sendable {
    private let pools: [ObjectIdentifier: NIOLoopBoundBox<UpstreamPool>]

    init(group: any EventLoopGroup, maxIdlePerKey: Int) {
        var pools: [ObjectIdentifier: NIOLoopBoundBox<UpstreamPool>] = [:]
        for loop in group.makeIterator() {
            // Built here, off its loop, and used only on it from then on.
            pools[ObjectIdentifier(loop)] = .makeBoxSendingValue(UpstreamPool(eventLoop: loop, maxIdlePerKey: maxIdlePerKey), eventLoop: loop)
        }
        self.pools = pools
    }

    /// The pool of `eventLoop`, or nil for a loop outside the group (e.g. an EmbeddedEventLoop in tests).
    /// Called on that loop.
    func pool(for eventLoop: any EventLoop) -> UpstreamPool? {
        pools[ObjectIdentifier(eventLoop)]?.value
    }

    func closeAll() -> EventLoopFuture<Void>? {
        let futures = pools.values.map { pool in pool.eventLoop.submit { pool.value.closeAll() } }
        guard let first = futures.first else { return nil }
        return EventLoopFuture.andAllSucceed(futures, on: first.eventLoop)
    }
}
