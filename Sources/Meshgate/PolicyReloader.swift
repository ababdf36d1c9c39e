import Foundation
import Logging
import MeshgateAdmin
import MeshgatePolicy
import MeshgateProxy
import NIOConcurrencyHelpers
import ServiceLifecycle
import UnixSignals

/// Loads the configured rulesets into the proxy's ``PolicyHolder`` and reloads them on SIGHUP or
/// `POST /admin/reload`. A reload that fails (bad YAML, invalid regex, failing embedded test) keeps
/// the policy in force; the error is logged and `/healthz` reports it until a reload succeeds.
public final class PolicyReloader: Service, Sendable {
    /// Where the running policy lives.
    public let holder: PolicyHolder
    private let configuration: NIOLockedValueBox<MeshgateConfiguration>
    private let lastError = NIOLockedValueBox<String?>(nil)
    private let logger: Logger

    /// Creates a reloader for `configuration`; call ``loadInitial()`` before serving.
    public init(configuration: MeshgateConfiguration, holder: PolicyHolder, logger: Logger) {
        self.configuration = NIOLockedValueBox(configuration)
        self.holder = holder
        self.logger = logger
    }

    /// Compiles the rulesets a configuration names and runs their embedded tests.
    public static func compile(_ configuration: MeshgateConfiguration) throws -> PolicyEngine {
        let policy = try PolicyEngine.load(
            files: configuration.rulesets,
            regexCompiler: PCRE2RegexCompiler(),
            portal: configuration.portal?.absoluteString
        )
        let failures = RulesetTestRunner.run(policy, inspector: InspectionRequestInspector())
        if let first = failures.first {
            throw RulesetTestsFailed(failures: failures.map(\.description), first: first.description)
        }
        return policy
    }

    /// Loads the policy at start; an error here stops `serve` with the file and line.
    public func loadInitial() throws {
        let policy = try Self.compile(configuration.withLockedValue { $0 })
        holder.replace(with: policy)
        logger.info("policy loaded", metadata: ["rules": "\(policy.ruleCount)", "rulesets": "\(policy.rulesets.map { "\($0.name)@\($0.version)" }.joined(separator: ","))"])
    }

    /// Re-reads the configuration file (for `rulesets` and `portal`) and the rulesets, and swaps the
    /// policy in one step. Returns a message for the caller.
    public func reload() -> Result<String, any Error> {
        do {
            var current = configuration.withLockedValue { $0 }
            if let path = current.sourcePath {
                current = try MeshgateConfiguration.load(path: path)
            }
            let policy = try Self.compile(current)
            configuration.withLockedValue { $0 = current }
            holder.replace(with: policy)
            lastError.withLockedValue { $0 = nil }
            let summary = "reloaded \(policy.ruleCount) rules from \(policy.rulesets.map { "\($0.name)@\($0.version)" }.joined(separator: ", "))"
            logger.notice("policy reloaded", metadata: ["rules": "\(policy.ruleCount)"])
            return .success(summary)
        } catch {
            let message = "\(error)"
            lastError.withLockedValue { $0 = message }
            logger.error("policy reload failed; the previous policy stays in force", metadata: ["error": "\(message)"])
            return .failure(error)
        }
    }

    /// `/healthz`: failing while the last reload failed.
    public func health() -> HealthStatus {
        if let error = lastError.withLockedValue({ $0 }) {
            return .failing("last reload failed, previous policy in force: \(error)")
        }
        let policy = holder.current
        return HealthStatus(ok: true, details: ["rulesets": policy.rulesets.map { "\($0.name)@\($0.version)" }.joined(separator: ",")])
    }

    /// Reloads on every SIGHUP until shutdown.
    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            _ = reload()
        }
    }
}

/// A ruleset's embedded tests failed.
public struct RulesetTestsFailed: Error, CustomStringConvertible {
    /// Every failure, one line each.
    public var failures: [String]
    /// The first failure.
    public var first: String

    /// The first failure and how many more there are.
    public var description: String {
        failures.count == 1 ? "ruleset test failed: \(first)" : "ruleset test failed: \(first) (and \(failures.count - 1) more)"
    }
}
