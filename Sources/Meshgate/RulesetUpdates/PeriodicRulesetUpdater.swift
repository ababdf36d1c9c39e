import Foundation
import Logging
import MeshgateAdmin
import Metrics
import NIOConcurrencyHelpers
import ServiceLifecycle

/// `ruleset_updates.interval`: the server runs `rules update` itself every interval (±10% jitter,
/// so a fleet does not fetch in lockstep), reloading in-process. A failure is logged and counted
/// and the rules in force stay as they were; the next attempt comes an interval later.
public final class PeriodicRulesetUpdater: Service, Sendable {
    private let updater: RulesetUpdater
    private let reloader: PolicyReloader
    private let interval: Duration
    private let logger: Logger
    private let state = NIOLockedValueBox(State())

    private struct State {
        var lastSuccess: Date?
        var lastError: String?
    }

    private let failures = Counter(label: "meshgate_ruleset_update_failures_total")
    private let lastSuccessGauge = Gauge(label: "meshgate_ruleset_update_last_success_timestamp_seconds")

    /// Updates for `configuration` every `interval`, reloading through `reloader`.
    public init(configuration: MeshgateConfiguration, interval: Duration, reloader: PolicyReloader, logger: Logger) {
        self.updater = RulesetUpdater(configuration: configuration)
        self.interval = interval
        self.reloader = reloader
        self.logger = logger
    }

    /// Waits an interval, updates, repeats until shutdown.
    public func run() async throws {
        while !Task.isCancelled {
            let seconds = Double(interval.components.seconds) * Double.random(in: 0.9...1.1)
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(seconds)) }
            } catch {
                return
            }
            if Task.isShuttingDownGracefully { return }
            await updateOnce()
        }
    }

    /// One attempt; returns what happened (for logs and tests).
    @discardableResult
    public func updateOnce() async -> String {
        do {
            let source = try updater.configuredSource
            let lock = try updater.store.lock()
            defer { withExtendedLifetime(lock) {} }
            let outcome = try await updater.update(from: source)
            let message: String
            switch outcome {
            case .upToDate(let name, let version):
                message = "\(name) \(version) is up to date"
                logger.debug("ruleset update: nothing new", metadata: ["ruleset": "\(name)", "version": "\(version)", "source": "\(source)"])
            case .installed(let name, let oldVersion, let newVersion, let change):
                switch reloader.reload(requestedBy: "periodic update from \(source)") {
                case .success(let summary):
                    change.commit()
                    message = "installed \(name) \(newVersion); \(summary)"
                    logger.notice("ruleset updated", metadata: [
                        "ruleset": "\(name)", "old_version": "\(oldVersion ?? "none")", "new_version": "\(newVersion)", "source": "\(source)",
                    ])
                case .failure(let error):
                    try change.undo()
                    _ = reloader.reload(requestedBy: "periodic update (undo)")
                    throw StoreError("reload with \(name) \(newVersion) failed, previous files restored: \(error)")
                }
            }
            let now = Date()
            state.withLockedValue { $0.lastSuccess = now; $0.lastError = nil }
            lastSuccessGauge.record(now.timeIntervalSince1970)
            return message
        } catch {
            failures.increment()
            state.withLockedValue { $0.lastError = "\(error)" }
            logger.error("ruleset update failed; the rules in force are unchanged", metadata: ["error": "\(error)"])
            return "failed: \(error)"
        }
    }

    /// `/healthz` details: when the last update succeeded and the last error. A failed update
    /// does not make meshgate unhealthy (the previous rules are still enforced).
    public func health() -> HealthStatus {
        let snapshot = state.withLockedValue { $0 }
        var details = ["interval": "\(interval.components.seconds)s"]
        if let lastSuccess = snapshot.lastSuccess { details["last_success"] = ISO8601DateFormatter().string(from: lastSuccess) }
        if let lastError = snapshot.lastError { details["last_error"] = lastError }
        return HealthStatus(ok: true, details: details)
    }
}
