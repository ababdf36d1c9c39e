import MeshgateCore

/// Where audit events go. `record(_:)` never blocks the caller: it is called on NIO event loops
/// once per decided request or query.
public protocol AuditSink: Sendable {
    /// Hands one event to the sink; returns at once.
    func record(_ event: AuditEvent)
}
