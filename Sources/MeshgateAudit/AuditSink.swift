import MeshgateCore

/// Where audit events go. `record(_:)` never blocks the caller: it is called on NIO event loops
/// once per decided request or query.
public protocol AuditSink: Sendable {
    /// Hands one event to the sink; returns at once.
    func record(_ event: AuditEvent)
}

/// Sees every event the JSON-lines sink takes, in batches on the audit writer's thread (never on
/// an event loop): the dashboard's feed. It must return quickly; it must not block on I/O.
public protocol AuditObserver: Sendable {
    /// Called with each batch the writer takes from its queue, whether or not the write succeeds.
    func observe(_ events: ArraySlice<AuditEvent>)
}
