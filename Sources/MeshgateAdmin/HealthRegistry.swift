import MeshgateAudit
import MeshgateCore
import MeshgateJSON
import NIOConcurrencyHelpers

/// The result of one named health check.
public struct HealthStatus: Sendable, Equatable {
    /// Whether the component works.
    public var ok: Bool
    /// Why not, when `ok` is false.
    public var reason: String?
    /// Extra facts shown in `/healthz` (e.g. the audit path, since when it fails).
    public var details: [String: String]

    /// Creates a status.
    public init(ok: Bool, reason: String? = nil, details: [String: String] = [:]) {
        self.ok = ok
        self.reason = reason
        self.details = details
    }

    /// A passing check.
    public static let healthy = HealthStatus(ok: true)

    /// A failing check with its reason.
    public static func failing(_ reason: String, details: [String: String] = [:]) -> HealthStatus {
        HealthStatus(ok: false, reason: reason, details: details)
    }
}

/// All checks evaluated at one moment, as `/healthz` shows them.
public struct HealthReport: Sendable {
    /// True when every check passes (also when there are none).
    public var ok: Bool
    /// The checks, sorted by name.
    public var checks: [(name: String, status: HealthStatus)]

    /// `{"status":"ok"|"failing","checks":{NAME:{"ok":…,"reason":…,"details":{…}}}}`; `reason`
    /// and `details` appear only when present.
    public func json() -> String {
        var out: [UInt8] = []
        out.append(contentsOf: #"{"status":"#.utf8)
        JSONText.appendString(ok ? "ok" : "failing", to: &out)
        out.append(contentsOf: #","checks":{"#.utf8)
        for (i, check) in checks.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONText.appendString(check.name, to: &out)
            out.append(contentsOf: #":{"ok":"#.utf8)
            JSONText.appendBool(check.status.ok, to: &out)
            if let reason = check.status.reason {
                out.append(contentsOf: #","reason":"#.utf8)
                JSONText.appendString(reason, to: &out)
            }
            if !check.status.details.isEmpty {
                out.append(contentsOf: #","details":{"#.utf8)
                for (j, key) in check.status.details.keys.sorted().enumerated() {
                    if j > 0 { out.append(UInt8(ascii: ",")) }
                    JSONText.appendString(key, to: &out)
                    out.append(UInt8(ascii: ":"))
                    JSONText.appendString(check.status.details[key] ?? "", to: &out)
                }
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: "}}".utf8)
        return String(decoding: out, as: UTF8.self)
    }
}

/// Named health checks behind `/healthz`. Checks run when a report is asked for, outside the
/// registry's lock, so they should be cheap and must not block.
public final class HealthRegistry: Sendable {
    private let checks = NIOLockedValueBox<[String: @Sendable () -> HealthStatus]>([:])

    /// Creates an empty registry (which reports healthy).
    public init() {}

    /// Adds the check `name`, replacing any earlier check of that name.
    public func register(_ name: String, _ check: @escaping @Sendable () -> HealthStatus) {
        checks.withLockedValue { $0[name] = check }
    }

    /// Removes the check `name`.
    public func unregister(_ name: String) {
        _ = checks.withLockedValue { $0.removeValue(forKey: name) }
    }

    /// Runs every check now.
    public func report() -> HealthReport {
        let current = checks.withLockedValue { $0 }.sorted { $0.key < $1.key }
        let results = current.map { (name: $0.key, status: $0.value()) }
        return HealthReport(ok: results.allSatisfy(\.status.ok), checks: results)
    }
}

extension HealthRegistry {
    /// Registers the audit sink's health under `name` ("audit"): failing, with the sink's
    /// reason, whenever audit events are being lost.
    public func register(_ name: String = "audit", auditSink sink: JSONLinesAuditSink) {
        let path = sink.path
        register(name) {
            switch sink.health {
            case .ok:
                return HealthStatus(ok: true, details: ["path": path])
            case .failing(let reason, let sinceMillis):
                return .failing(reason, details: ["path": path, "since": RFC3339.timestamp(millis: sinceMillis)])
            }
        }
    }
}
