import Logging
import MeshgateAdmin
import MeshgateAudit

/// Builds the audit sink from `audit:`. It is the first service, so ServiceGroup stops it last
/// and every other service's final events are written.
enum AuditAssembly {
    /// The JSON-lines sink, registered as the `audit` health check.
    /// `observer` (the dashboard's feed) sees every batch the writer takes.
    static func sink(configuration: MeshgateConfiguration, health: HealthRegistry, observer: (any AuditObserver)?, logger: Logger) -> JSONLinesAuditSink {
        let audit: JSONLinesAuditSink
        switch configuration.audit.destination {
        case .stdout: audit = JSONLinesAuditSink(path: "-", logger: logger, observer: observer)
        case .file(let path): audit = JSONLinesAuditSink(path: path, logger: logger, observer: observer)
        }
        health.register("audit", auditSink: audit)
        return audit
    }
}
