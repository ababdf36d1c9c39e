import Foundation
import Logging
import MeshgateAudit
import MeshgateCore
import NIOConcurrencyHelpers
import ServiceLifecycle

/// What the dashboard knows, fed by the audit pipeline (the JSON-lines sink's writer hands it each
/// batch; nothing parses the log file): the recent decisions, counters since start, the MCP
/// inventory and the token history. Bounded in memory. As a `Service` it writes the inventory and
/// history to the store every ``flushInterval`` and once more at shutdown.
public final class DashboardFeed: AuditObserver, Service, Sendable {
    /// Recent decisions kept for the Live page.
    public static let defaultRingCapacity = 2000
    public static let flushInterval: Duration = .seconds(2)

    struct State: Sendable {
        var ring: DecisionRing
        var rollup = DecisionRollup()
        var inventory: MCPInventory
        var spend: SpendHistory
    }

    private let state: NIOLockedValueBox<State>
    private let store: DashboardStore?
    private let logger: Logger
    /// When the feed started (the counters count from here).
    public let startedAtMillis: Int64

    /// A feed that starts from what `store` saved (an empty one without a store, or when the saved
    /// file cannot be read: that is logged, and the file is written anew).
    public init(ringCapacity: Int = defaultRingCapacity, store: DashboardStore?, logger: Logger, nowMillis: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) {
        var servers: [MCPInventory.Server] = []
        var spend: [SpendHistory.Key: SpendHistory.Tokens] = [:]
        if let store {
            do {
                (servers, spend) = try store.load()
            } catch {
                logger.warning("the dashboard starts with an empty inventory", metadata: ["error": "\(error)"])
            }
        }
        state = NIOLockedValueBox(State(ring: DecisionRing(capacity: ringCapacity), inventory: MCPInventory(servers: servers),
                                        spend: SpendHistory(entries: spend)))
        self.store = store
        self.logger = logger
        startedAtMillis = nowMillis
    }

    public func observe(_ events: ArraySlice<AuditEvent>) {
        state.withLockedValue { s in
            s.ring.append(contentsOf: events)
            for event in events {
                s.rollup.add(event)
                if MCPInventory.concerns(event) { s.inventory.add(event) }
                if event.kind == .ai { s.spend.add(event) }
            }
        }
    }

    /// Decisions after `sequence` that `filter` accepts (at most `limit`, the newest), and the
    /// sequence to ask after next time.
    public func decisions(after sequence: UInt64, limit: Int, filter: DecisionFilter) -> (events: [(sequence: UInt64, event: AuditEvent)], next: UInt64) {
        state.withLockedValue { s in
            let events = filter.isEmpty ? s.ring.events(after: sequence, limit: limit)
                : s.ring.events(after: sequence, limit: limit, where: filter.accepts)
            return (events, s.ring.nextSequence - 1)
        }
    }

    /// The decision numbered `sequence`, while it is still held.
    public func decision(_ sequence: UInt64) -> AuditEvent? {
        state.withLockedValue { $0.ring.event(sequence) }
    }

    /// The sequence number of the newest decision (0 before the first).
    public var latestSequence: UInt64 { state.withLockedValue { $0.ring.nextSequence - 1 } }

    public var rollup: DecisionRollup { state.withLockedValue { $0.rollup } }
    public var servers: [MCPInventory.Server] { state.withLockedValue { Array($0.inventory.servers.values) } }
    public var spend: [SpendHistory.Key: SpendHistory.Tokens] { state.withLockedValue { $0.spend.entries } }

    /// Writes what changed since the last flush to the store.
    public func flush() {
        guard let store else { return }
        let (servers, spend) = state.withLockedValue { s in (s.inventory.takeDirty(), s.spend.takeDirty()) }
        do {
            try store.save(servers: servers, spend: spend)
        } catch {
            logger.warning("the dashboard inventory was not saved; it is kept in memory and written again", metadata: ["error": "\(error)"])
            // Deletions cannot be told apart afterwards, so everything is written again next time.
            state.withLockedValue { s in s.inventory.markAllDirty(); s.spend.markAllDirty() }
        }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.flushInterval)
                self.flush()
            }
        }
        // The audit sink stops before the feed (it is started after it), so this sees its last batch.
        flush()
    }
}
