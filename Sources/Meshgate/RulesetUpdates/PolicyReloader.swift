import Foundation
import Logging
import MeshgateAdmin
import MeshgateAudit
import MeshgateCore
import MeshgatePolicy
import MeshgateProxy
import Metrics
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Loads the configured rulesets into the proxy's ``PolicyHolder`` and reloads them on SIGHUP
/// (through ``ServerSignalService``) or `POST /admin/reload`. A reload that fails (bad YAML, invalid
/// regex, failing embedded test) keeps the policy in force; the error is logged and `/healthz`
/// reports it until a reload succeeds.
public final class PolicyReloader: Service, Sendable {
    /// Where the running policy lives.
    public let holder: PolicyHolder
    private let configuration: NIOLockedValueBox<MeshgateConfiguration>
    private let lastError = NIOLockedValueBox<String?>(nil)
    private let logger: Logger
    private let audit: (any AuditSink)?
    // One reload at a time, so two audit lines never claim the same old version.
    private let reloading = NIOLock()

    /// Creates a reloader for `configuration`; call ``loadInitial()`` before serving. Policy
    /// changes are written to `audit` as `event: ruleset` lines.
    public init(configuration: MeshgateConfiguration, holder: PolicyHolder, audit: (any AuditSink)? = nil, logger: Logger) {
        self.configuration = NIOLockedValueBox(configuration)
        self.holder = holder
        self.audit = audit
        self.logger = logger
    }

    /// Compiles the rulesets in force for a configuration — the configured files, with any
    /// ruleset `rules update` installed in `state_dir/rulesets` in place of the file of the same
    /// name — and runs their embedded tests.
    public static func compile(_ configuration: MeshgateConfiguration) throws -> PolicyEngine {
        let store = RulesetStore(stateDirectory: configuration.stateDirectory)
        return try compile(rulesets: store.effectiveRulesets(configured: configuration.rulesets),
                           portal: configuration.portal?.absoluteString,
                           onMatchError: configuration.inspection.onMatchError.mode)
    }

    /// Compiles `rulesets` and runs their embedded tests.
    public static func compile(rulesets: [Ruleset], portal: String?, onMatchError: MatchErrorMode = .block) throws -> PolicyEngine {
        let policy = try PolicyEngine(rulesets: rulesets, regexCompiler: PCRE2RegexCompiler(), portal: portal, onMatchError: onMatchError)
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
        Self.publishVersions(from: nil, to: policy)
        logger.info("\(Self.summary(of: policy))", metadata: Self.details(of: policy))
    }

    /// One line that says what policy is in force, for the start of `serve` and for `rules test`.
    public static func summary(of policy: PolicyEngine) -> String {
        guard !policy.rulesets.isEmpty else {
            return "policy: no rulesets (rulesets: []), every request is allowed"
        }
        let rulesets = policy.rulesets.map { "\($0.name)@\($0.version) (\($0.file))" }.joined(separator: ", ")
        var line = "policy: \(policy.ruleCount) rules from \(rulesets)"
        if let portal = policy.portal {
            line += "; portal \(portal)"
        } else if !policy.blockingForUnsetPortal.isEmpty || !policy.dormantRules.isEmpty {
            line += "; portal: unset, so reroute/redirect to the portal block (\(policy.blockingForUnsetPortal.count) rules)"
        }
        return line
    }

    /// The same as structured fields.
    static func details(of policy: PolicyEngine) -> Logger.Metadata {
        var details: Logger.Metadata = [
            "rules": "\(policy.ruleCount)",
            "rulesets": "\(policy.rulesets.map { "\($0.name)@\($0.version)" }.joined(separator: ","))",
            "portal": "\(policy.portal ?? "unset")",
        ]
        if policy.portal == nil, !policy.blockingForUnsetPortal.isEmpty {
            details["fix"] = "set portal: in meshgate.yaml to send Shadow MCP traffic to the approved MCP portal instead of blocking it"
        }
        return details
    }

    /// Re-reads the configuration file (for `rulesets` and `portal`) and the rulesets, and swaps the
    /// policy in one step; requests already started finish on the old one. Every ruleset whose
    /// version changed gets an audit line naming `requestedBy`. Returns a message for the caller.
    public func reload(requestedBy: String = "SIGHUP") -> Result<String, any Error> {
        reloading.withLock { reloadLocked(requestedBy: requestedBy) }
    }

    private func reloadLocked(requestedBy: String) -> Result<String, any Error> {
        do {
            var current = configuration.withLockedValue { $0 }
            if let path = current.sourcePath {
                current = try MeshgateConfiguration.load(path: path)
            }
            let policy = try Self.compile(current)
            configuration.withLockedValue { $0 = current }
            let previous = holder.current
            holder.replace(with: policy)
            lastError.withLockedValue { $0 = nil }
            recordChanges(from: previous, to: policy, requestedBy: requestedBy)
            Self.publishVersions(from: previous, to: policy)
            let summary = "reloaded \(policy.ruleCount) rules from \(policy.rulesets.map { "\($0.name)@\($0.version)" }.joined(separator: ", "))"
            logger.notice("policy reloaded", metadata: ["rules": "\(policy.ruleCount)", "requested_by": "\(requestedBy)"])
            return .success(summary)
        } catch {
            let message = "\(error)"
            lastError.withLockedValue { $0 = message }
            logger.error("policy reload failed; the previous policy stays in force", metadata: ["error": "\(message)"])
            return .failure(error)
        }
    }

    /// `meshgate_ruleset_loaded{ruleset,version}`: 1 for each version in force, 0 for versions
    /// that were, so a dashboard shows what each node enforces.
    private static func publishVersions(from old: PolicyEngine?, to new: PolicyEngine) {
        let current = Set(new.rulesets.map { "\($0.name)\u{0}\($0.version)" })
        for ruleset in old?.rulesets ?? [] where !current.contains("\(ruleset.name)\u{0}\(ruleset.version)") {
            Gauge(label: "meshgate_ruleset_loaded", dimensions: [("ruleset", ruleset.name), ("version", ruleset.version)]).record(0)
        }
        for ruleset in new.rulesets {
            Gauge(label: "meshgate_ruleset_loaded", dimensions: [("ruleset", ruleset.name), ("version", ruleset.version)]).record(1)
        }
    }

    private func recordChanges(from old: PolicyEngine, to new: PolicyEngine, requestedBy: String) {
        guard let audit else { return }
        let before = Dictionary(old.rulesets.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let after = Dictionary(new.rulesets.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for name in Set(before.keys).union(after.keys).sorted() {
            let oldVersion = before[name]?.version, newVersion = after[name]?.version
            guard oldVersion != newVersion else { continue }
            let change: String
            switch (oldVersion, newVersion) {
            case (nil, _): change = "add"
            case (_, nil): change = "remove"
            case (let o?, let n?): change = RulesetVersion.isOlder(n, than: o) ? "downgrade" : "update"
            }
            audit.record(.rulesetChange(timestampMillis: now, change: change, ruleset: name, oldVersion: oldVersion,
                                        newVersion: newVersion, requestedBy: requestedBy, file: after[name]?.file))
        }
    }

    /// `/healthz`: failing while the last reload failed; lists the rulesets in force and which of
    /// them `rules update` installed.
    public func health() -> HealthStatus {
        let policy = holder.current
        let installedDirectory = RulesetStore(stateDirectory: configuration.withLockedValue { $0.stateDirectory }).directory + "/"
        let installed = policy.rulesets.filter { $0.file.hasPrefix(installedDirectory) }
        var details = ["rulesets": policy.rulesets.map { "\($0.name)@\($0.version)" }.joined(separator: ",")]
        if !installed.isEmpty {
            details["installed"] = installed.map { "\($0.name)@\($0.version)" }.joined(separator: ",")
        }
        if let error = lastError.withLockedValue({ $0 }) {
            return .failing("last reload failed, previous policy in force: \(error)", details: details)
        }
        return HealthStatus(ok: true, details: details)
    }

    /// Waits for shutdown. SIGHUP is trapped by ``ServerSignalService``, which also reopens the
    /// audit log and calls ``reload(requestedBy:)``: a signal can have only one handler.
    public func run() async throws {
        try? await gracefulShutdown()
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

extension MeshgateConfiguration.Inspection.OnMatchError {
    /// The policy engine's reading of `inspection.on_match_error`.
    public var mode: MatchErrorMode {
        switch self {
        case .block: return .block
        case .allow: return .allow
        }
    }
}
