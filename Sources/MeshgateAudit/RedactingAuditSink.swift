import MeshgateCore

/// Passes every HTTP and AI event through an ``AuditRedactor`` on its way to another sink, so that
/// each producer of such events (the proxy's handlers, tunnels, redirected connections) gets
/// credentials removed, query values redacted and lengths bounded without doing it itself.
/// Other events (DNS, ruleset changes) pass unchanged.
public struct RedactingAuditSink: AuditSink {
    /// Where the redacted events go.
    public let base: any AuditSink
    /// What is removed and bounded.
    public let redactor: AuditRedactor

    /// Wraps `base`.
    public init(_ base: any AuditSink, redactor: AuditRedactor) {
        self.base = base
        self.redactor = redactor
    }

    /// Redacts `event` (HTTP and AI events only) and hands it on.
    public func record(_ event: AuditEvent) {
        switch event.kind {
        case .http, .ai:
            var redacted = event
            redactor.apply(to: &redacted)
            base.record(redacted)
        case .dns, .ruleset, .mcpDrift:
            base.record(event)
        }
    }
}
