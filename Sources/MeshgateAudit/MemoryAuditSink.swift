import MeshgateCore
import NIOConcurrencyHelpers

/// Collects events in memory, in the order recorded: for tests and `meshgate rules test`.
public final class MemoryAuditSink: AuditSink {
    private let box = NIOLockedValueBox<[AuditEvent]>([])

    /// Creates an empty sink.
    public init() {}

    /// Every event recorded so far.
    public var events: [AuditEvent] {
        box.withLockedValue { $0 }
    }

    /// Appends the event.
    public func record(_ event: AuditEvent) {
        box.withLockedValue { $0.append(event) }
    }

    /// Forgets every recorded event.
    public func removeAll() {
        box.withLockedValue { $0.removeAll() }
    }
}
