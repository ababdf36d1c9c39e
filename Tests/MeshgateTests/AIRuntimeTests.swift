import Foundation
import Logging
import MeshgateAI
import MeshgateLedger
import MetricsTestKit
import Testing
@testable import Meshgate

/// `AIRuntime`: what `serve` builds from `ai:` — budgets, ledger, spool, health — and the monitor
/// that keeps the ledger's health and budget gauges current.
@Suite struct AIRuntimeTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    static let tokenHash = String(repeating: "ab", count: 32)

    static func directory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("meshgate-ai-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func configuration(_ dir: String, listeners: String = "explicit: 127.0.0.1:0", ai: String) throws -> MeshgateConfiguration {
        try MeshgateConfiguration.parse(yaml: """
            state_dir: ./state
            listeners:
              \(listeners)
            identities:
              - { name: agent-build-7, team: platform, token_sha256: "\(tokenHash)" }
              - { name: agent-ops-1, team: ops, token_sha256: "\(String(repeating: "cd", count: 32))" }
            \(ai)
            """, path: dir + "/meshgate.yaml")
    }

    @Test func budgetsKeepTheirSubjectCapWindowAndEnforcement() async throws {
        let dir = try Self.directory()
        let configuration = try Self.configuration(dir, ai: """
            ai:
              budgets:
                - { team: platform, tokens: 2000000, window: 1d, enforce: hard }
                - { identity: agent-build-7, tokens: 5000, window: 1h }
                - { team: ops, tokens: 300, window: month }
                - { team: ops, tokens: 100000, window: 7d, enforce: soft }
            """)
        let ai = try #require(try await AIRuntime.make(configuration: configuration, logger: Self.logger))
        #expect(ai.budgets == [
            TokenBudget(subject: .team("platform"), tokens: 2_000_000, window: .fixed(seconds: 86_400), hardEnforcement: true),
            TokenBudget(subject: .identity("agent-build-7"), tokens: 5000, window: .fixed(seconds: 3600), hardEnforcement: false),
            TokenBudget(subject: .team("ops"), tokens: 300, window: .month, hardEnforcement: false),
            TokenBudget(subject: .team("ops"), tokens: 100_000, window: .fixed(seconds: 7 * 86_400), hardEnforcement: false),
        ])
        #expect(ai.budgets.map(\.window.label) == ["1d", "1h", "month", "7d"])
        #expect(!ai.failOpen)
        #expect(ai.spool != nil, "calls admitted before the ledger went away are spooled even when failing closed")
    }

    @Test func theDefaultLedgerIsSQLiteInTheStateDirectoryAndHealthy() async throws {
        let dir = try Self.directory()
        let configuration = try Self.configuration(dir, ai: "")
        let ai = try #require(try await AIRuntime.make(configuration: configuration, logger: Self.logger))
        #expect(ai.ledger is SQLiteTokenLedger)
        #expect(FileManager.default.fileExists(atPath: dir + "/state/ledger.db"), "the ledger and its directory are created")
        #expect(ai.budgets.isEmpty)
        let status = ai.healthStatus()
        #expect(status.ok)
        #expect(status.details["backend"] == "sqlite")
        #expect(status.details["ledger"] == dir + "/state/ledger.db")
        #expect(ai.services.count == 1, "only the monitor: SQLite has no pool to run")
    }

    @Test func noRuntimeWithoutAListenerThatCarriesLLMTraffic() async throws {
        let dir = try Self.directory()
        // Only the admin listener: nothing carries HTTP to a provider.
        let configuration = try Self.configuration(dir, listeners: "explicit: off", ai: "")
        #expect(try await AIRuntime.make(configuration: configuration, logger: Self.logger) == nil)
        #expect(!FileManager.default.fileExists(atPath: dir + "/state/ledger.db"))
        let withAI = try Self.configuration(dir, listeners: "explicit: off\n  ai: 127.0.0.1:0", ai: "")
        #expect(try await AIRuntime.make(configuration: withAI, logger: Self.logger) != nil)
    }

    @Test(arguments: ["fail_closed", "fail_open"])
    func aLedgerThatCannotBeOpenedStillStarts(mode: String) async throws {
        let dir = try Self.directory()
        // A regular file where the ledger's directory should be: SQLite cannot create the database.
        try Data("not a directory".utf8).write(to: URL(fileURLWithPath: dir + "/blocker"))
        let configuration = try Self.configuration(dir, ai: """
            ai:
              ledger: sqlite:blocker/ledger.db
              ledger_unavailable: \(mode)
            """)
        let ai = try #require(try await AIRuntime.make(configuration: configuration, logger: Self.logger))
        #expect(ai.ledger is DeferredTokenLedger)
        await #expect(throws: LedgerUnavailable.self) { try await ai.ledger.ping() }
        let status = ai.healthStatus()
        #expect(status.details["ledger"] == dir + "/blocker/ledger.db")
        if mode == "fail_closed" {
            #expect(!status.ok)
            #expect(status.reason?.contains("token ledger (sqlite) unavailable") == true, "\(status)")
            #expect(status.reason?.contains("check ai.ledger") == true, "the fix is named: \(status)")
        } else {
            #expect(status.ok, "fail_open keeps serving, so the node stays in rotation")
            #expect(status.details["degraded"]?.contains("spooling") == true, "\(status)")
            let spoolPath = await ai.spool?.path
            #expect(spoolPath == dir + "/state/ai-usage-spool.jsonl")
        }
        await #expect(throws: LedgerUnavailable.self) { try await ai.usageReport() }
    }

    @Test func aPostgresLedgerStartsUnconnectedAndRunsItsPool() async throws {
        let dir = try Self.directory()
        let configuration = try Self.configuration(dir, ai: "ai:\n  ledger: postgres://meshgate:secret@127.0.0.1:1/meshgate\n")
        let ai = try #require(try await AIRuntime.make(configuration: configuration, logger: Self.logger))
        let status = ai.healthStatus()
        #expect(!status.ok)
        #expect(status.reason?.contains("token ledger (postgres) unavailable: not connected yet") == true, "\(status)")
        #expect(status.details["ledger"] == "postgres://meshgate:***@127.0.0.1:1/meshgate", "the password is masked")
        #expect(ai.services.count == 2, "the pool and the monitor")
    }

    @Test func aPostgresURLWithoutAUserIsRefusedAtStart() async throws {
        let dir = try Self.directory()
        let configuration = try Self.configuration(dir, ai: "ai:\n  ledger: postgres://127.0.0.1:5432/meshgate\n")
        await #expect(throws: PostgresTokenLedger.InvalidURL.self) {
            _ = try await AIRuntime.make(configuration: configuration, logger: Self.logger)
        }
    }

    @Test func theMonitorRefreshesGaugesReplaysTheSpoolAndTracksHealth() async throws {
        let ledger = InMemoryTokenLedger()
        let dir = try Self.directory()
        let spool = UsageSpool(path: dir + "/spool.jsonl")
        let now: Int64 = 1_772_366_400  // 2026-03-01T12:00:00Z
        let budgets = [TokenBudget(subject: .team("platform"), tokens: 1000, window: .fixed(seconds: 86_400)),
                       TokenBudget(subject: .identity("agent-build-7"), tokens: 100, window: .month)]
        let charges = TokenBudget.charges(budgets, identity: "agent-build-7", team: "platform", at: now)
        try await spool.append(UsageRecord(id: "spooled-1", timestampMilliseconds: now * 1000, identity: "agent-build-7", team: "platform",
                                           provider: "openai", model: "gpt-4o", usage: TokenUsage(input: 12, output: 30), charges: charges))
        let factory = TestMetrics()
        let health = LedgerHealth(backend: "sqlite", location: "memory", initialProblem: "down a moment ago")
        health.setSpooled(1)
        let monitor = LedgerMonitor(ledger: ledger, spool: spool, budgets: budgets, metrics: AIMetrics(factory: factory),
                                    health: health, logger: Self.logger, now: { now })
        await monitor.chores()
        #expect(try await spool.pending().isEmpty, "the spool was replayed into the ledger")
        #expect(health.details["spooled"] == nil)
        let team = [("subject_kind", "team"), ("subject", "platform"), ("window", "1d")]
        let identity = [("subject_kind", "identity"), ("subject", "agent-build-7"), ("window", "month")]
        #expect(try factory.expectGauge(AIMetrics.remainingMetric, team).lastValue == 958)
        #expect(try factory.expectGauge(AIMetrics.remainingMetric, identity).lastValue == 58)

        // The loop marks the ledger available after a successful ping.
        let task = Task { await monitor.loop() }
        while !health.isAvailable { try await Task.sleep(for: .milliseconds(10)) }
        task.cancel()
        await task.value
        #expect(health.problem == nil)
    }

    @Test func theUsageReportCanBeNarrowedToATeam() async throws {
        let dir = try Self.directory()
        let configuration = try Self.configuration(dir, ai: """
            ai:
              budgets:
                - { team: platform, tokens: 1000, window: 1d }
                - { team: ops, tokens: 500, window: 1d }
            """)
        let ai = try #require(try await AIRuntime.make(configuration: configuration, logger: Self.logger))
        let now: Int64 = 1_772_366_400
        for (identity, team, tokens) in [("agent-build-7", "platform", 40), ("agent-ops-1", "ops", 7)] {
            let charges = TokenBudget.charges(ai.budgets, identity: identity, team: team, at: now)
            try await ai.ledger.record(UsageRecord(id: identity, timestampMilliseconds: now * 1000, identity: identity, team: team,
                                                   provider: "openai", model: "gpt-4o", usage: TokenUsage(input: tokens), charges: charges))
        }
        let all = try await ai.usageReport(now: now)
        #expect(all.teams.map(\.team) == ["platform", "ops"])
        let ops = try await ai.usageReport(team: "ops", now: now)
        #expect(ops.teams.map(\.team) == ["ops"])
        #expect(ops.teams.first?.used == 7)
        #expect(ops.identities.map(\.identity) == ["agent-ops-1"])
        #expect(ops.json == #"{"teams":[{"team":"ops","used":7,"limit":500,"remaining":493,"window":"1d","resets_at":"2026-03-02T00:00:00Z"}],"identities":[{"identity":"agent-ops-1","team":"ops","used":7}]}"#)
    }
}
