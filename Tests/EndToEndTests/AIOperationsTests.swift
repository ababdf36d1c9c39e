import Foundation
import MeshgateAI
import MeshgateLedger
import Testing

/// The AI gateway's operational side as a user meets it through the `meshgate` binary:
/// `meshgate usage` on a SQLite ledger, `GET /admin/usage`, and `serve` with a ledger it cannot reach.
@Suite(.serialized) struct AIOperationsTests {
    static let binary = ServeCommandTests.binary

    static let identities = """
        identities:
          - { name: agent-build-7, team: platform, token_sha256: "\(String(repeating: "ab", count: 32))" }
          - { name: agent-build-8, team: platform, token_sha256: "\(String(repeating: "ef", count: 32))" }
          - { name: agent-ops-1, team: ops, token_sha256: "\(String(repeating: "cd", count: 32))" }
        """

    /// A config with budgets whose ledger at state/ledger.db holds settled usage of three identities.
    static func ledgerWithUsage(_ dir: URL) async throws -> String {
        let config = try ServeCommandTests.writeConfig(dir, extra: identities + """

            ai:
              budgets:
                - { team: platform, tokens: 100000, window: 1d }
                - { identity: agent-ops-1, tokens: 500, window: month }
            """)
        let budgets = [TokenBudget(subject: .team("platform"), tokens: 100_000, window: .fixed(seconds: 86_400)),
                       TokenBudget(subject: .identity("agent-ops-1"), tokens: 500, window: .month)]
        let ledger = try SQLiteTokenLedger(path: dir.appendingPathComponent("state/ledger.db").path)
        let now = Int64(Date().timeIntervalSince1970)
        for (id, identity, team, usage) in [("1", "agent-build-7", "platform", TokenUsage(input: 1000, output: 234)),
                                             ("2", "agent-build-8", "platform", TokenUsage(input: 12, output: 10, cacheRead: 100)),
                                             ("3", "agent-ops-1", "ops", TokenUsage(input: 20, output: 22))] {
            let charges = TokenBudget.charges(budgets, identity: identity, team: team, at: now)
            guard case .reserved(let reservation) = try await ledger.reserve(usage.total, charges: charges, now: now) else {
                throw FakeLLM.SetupError(description: "reservation refused")
            }
            try await ledger.settle(reservation, usage: UsageRecord(id: id, timestampMilliseconds: now * 1000, identity: identity, team: team,
                                                                    provider: "openai", model: "gpt-4o", usage: usage, charges: charges))
        }
        try ledger.close()
        return config
    }

    static func resetsAt(_ window: BudgetWindow) -> String {
        window.period(containing: Int64(Date().timeIntervalSince1970)).resetsAtText
    }

    @Test func usagePrintsATableAndTheContractJSON() async throws {
        let pki = try TestPKI.make()
        let config = try await Self.ledgerWithUsage(pki.directory)

        let table = try await ProcessRunner.run(Self.binary, ["usage", "--config", config])
        #expect(table.exitCode == 0, "\(table.stderr)")
        let day = Self.resetsAt(.fixed(seconds: 86_400))
        let month = Self.resetsAt(.month)
        #expect(table.stdoutText == """
            TEAM      USED  LIMIT   REMAINING  WINDOW  RESETS AT
            platform  1356  100000  98644      1d      \(day)
            ops       42    -       -          month   \(month)

            IDENTITY       TEAM      USED  LIMIT  REMAINING  WINDOW  RESETS AT
            agent-build-7  platform  1234  -      -          1d      \(day)
            agent-build-8  platform  122   -      -          1d      \(day)
            agent-ops-1    ops       42    500    458        month   \(month)

            """, "\(table.stdoutText)")

        let json = try await ProcessRunner.run(Self.binary, ["usage", "--json", "--config", config])
        #expect(json.exitCode == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
        let teams = try #require(object["teams"] as? [[String: Any]])
        #expect(teams.count == 2)
        #expect(teams.first?["team"] as? String == "platform")
        #expect(teams.first?["used"] as? Int == 1356, "input + cache + output tokens")
        #expect(teams.first?["limit"] as? Int == 100_000)
        #expect(teams.first?["remaining"] as? Int == 98644)
        #expect(teams.first?["window"] as? String == "1d")
        #expect(teams.first?["resets_at"] as? String == day)
        #expect(teams.last?["limit"] is NSNull, "a team without a budget has a null limit")
        let identities = try #require(object["identities"] as? [[String: Any]])
        #expect(identities.map { $0["identity"] as? String } == ["agent-build-7", "agent-build-8", "agent-ops-1"])
        #expect(identities.last?["limit"] as? Int == 500, "an identity with its own budget carries it")

        let ops = try await ProcessRunner.run(Self.binary, ["usage", "--team", "ops", "--json", "--config", config])
        #expect(ops.exitCode == 0, "\(ops.stderr)")
        #expect(ops.stdoutText.hasPrefix(#"{"teams":[{"team":"ops","used":42,"limit":null,"remaining":null,"window":"month""#), "\(ops.stdoutText)")
        #expect(ops.stdoutText.contains(#""identities":[{"identity":"agent-ops-1","team":"ops","used":42,"limit":500,"remaining":458"#))
        #expect(!ops.stdoutText.contains("agent-build"))
    }

    @Test func usageWithAnUnreachableLedgerExitsOneWithTheCauseAndFix() async throws {
        let pki = try TestPKI.make()
        let config = try ServeCommandTests.writeConfig(pki.directory, extra: "ai:\n  ledger: postgres://meshgate:hunter2@127.0.0.1:1/meshgate\n")
        let result = try await ProcessRunner.run(Self.binary, ["usage", "--config", config])
        #expect(result.exitCode == 1)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "one line: \(result.stderr)")
        #expect(result.stderr.hasPrefix("meshgate: cannot read token usage from the postgres ledger postgres://meshgate:***@127.0.0.1:1/meshgate: "), "\(result.stderr)")
        #expect(result.stderr.contains("running and reachable"), "the fix: \(result.stderr)")
        #expect(!result.stderr.contains("hunter2"), "the password is never printed")
        #expect(result.stdoutText.isEmpty)
    }

    @Test func adminUsageServesTheSameReportBehindTheToken() async throws {
        let pki = try TestPKI.make()
        let config = try await Self.ledgerWithUsage(pki.directory)
        let server = try StreamingClient([Self.binary, "serve", "--config", config], environment: Curl.environment, captureStderr: true)
        defer { server.terminate() }
        #expect(try await server.waitForOutput(containing: "admin listener started", timeout: 30), "\(server.text)")
        let admin = "http://127.0.0.1:\(try #require(ServeCommandTests.port(of: "admin listener started", in: server.text)))"

        #expect(try await Curl.fetch("\(admin)/admin/usage", proxy: nil).status == 401)
        let token = try String(contentsOfFile: pki.directory.appendingPathComponent("state/admin.token").path, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let authorized = ["-H", "Authorization: Bearer \(token)"]
        let usage = try await Curl.fetch("\(admin)/admin/usage", proxy: nil, extra: authorized)
        #expect(usage.status == 200, "\(usage.bodyText)")
        let cli = try await ProcessRunner.run(Self.binary, ["usage", "--json", "--config", config])
        #expect(usage.bodyText == cli.stdoutText.trimmingCharacters(in: .newlines), "the endpoint and the command agree")
        let platform = try await Curl.fetch("\(admin)/admin/usage?team=platform", proxy: nil, extra: authorized)
        #expect(platform.bodyText.contains(#""team":"platform","used":1356"#), "\(platform.bodyText)")
        #expect(!platform.bodyText.contains("agent-ops-1"))

        let health = try await Curl.fetch("\(admin)/healthz", proxy: nil)
        #expect(health.status == 200, "\(health.bodyText)")
        #expect(health.bodyText.contains(#""ai_ledger":{"ok":true"#), "\(health.bodyText)")
        server.signal(SIGTERM)
        #expect(try await server.waitForExit(timeout: 15) == 0)
    }

    static let postgresURL = ProcessInfo.processInfo.environment["MESHGATE_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

    @Test(.enabled(if: postgresURL != nil, "MESHGATE_TEST_POSTGRES_URL is not set (run scripts/postgres-test-db.sh)"))
    func serveConnectsToAPostgresLedgerAndUsageReadsIt() async throws {
        let pki = try TestPKI.make()
        // A team of its own: the test database is shared with the ledger tests.
        let team = "e2e-\(UUID().uuidString.prefix(8).lowercased())"
        let config = try ServeCommandTests.writeConfig(pki.directory, extra: """
            identities:
              - { name: \(team)-agent, team: \(team), token_sha256: "\(String(repeating: "ab", count: 32))" }
            ai:
              ledger: \(Self.postgresURL ?? "")
              budgets:
                - { team: \(team), tokens: 777, window: 1h }
            """)
        let server = try StreamingClient([Self.binary, "serve", "--config", config], environment: Curl.environment, captureStderr: true)
        defer { server.terminate() }
        #expect(try await server.waitForOutput(containing: "admin listener started", timeout: 30), "\(server.text)")
        let admin = "http://127.0.0.1:\(try #require(ServeCommandTests.port(of: "admin listener started", in: server.text)))"
        var health = try await Curl.fetch("\(admin)/healthz", proxy: nil)
        for _ in 0..<100 where health.status != 200 {
            try await Task.sleep(for: .milliseconds(100))
            health = try await Curl.fetch("\(admin)/healthz", proxy: nil)
        }
        #expect(health.status == 200, "the monitor connects and migrates: \(health.bodyText)")
        #expect(health.bodyText.contains(#""backend":"postgres""#), "\(health.bodyText)")

        let token = try String(contentsOfFile: pki.directory.appendingPathComponent("state/admin.token").path, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let usage = try await Curl.fetch("\(admin)/admin/usage?team=\(team)", proxy: nil, extra: ["-H", "Authorization: Bearer \(token)"])
        #expect(usage.status == 200, "\(usage.bodyText)")
        #expect(usage.bodyText.hasPrefix(#"{"teams":[{"team":"\#(team)","used":0,"limit":777,"remaining":777,"window":"1h""#), "\(usage.bodyText)")
        let cli = try await ProcessRunner.run(Self.binary, ["usage", "--team", team, "--json", "--config", config])
        #expect(cli.exitCode == 0, "\(cli.stderr)")
        #expect(cli.stdoutText.trimmingCharacters(in: .newlines) == usage.bodyText)
        server.signal(SIGTERM)
        #expect(try await server.waitForExit(timeout: 15) == 0)
    }

    @Test func serveStartsWithAnUnreachablePostgresLedgerAndHealthzSaysWhy() async throws {
        let pki = try TestPKI.make()
        let config = try ServeCommandTests.writeConfig(pki.directory, extra: """
            ai:
              ledger: postgres://meshgate:hunter2@127.0.0.1:1/meshgate
              ledger_unavailable: fail_closed
            """)
        let server = try StreamingClient([Self.binary, "serve", "--config", config], environment: Curl.environment, captureStderr: true)
        defer { server.terminate() }
        #expect(try await server.waitForOutput(containing: "admin listener started", timeout: 30), "\(server.text)")
        #expect(try await server.waitForOutput(containing: "explicit proxy listening", timeout: 10), "the proxy serves despite the ledger")
        let admin = "http://127.0.0.1:\(try #require(ServeCommandTests.port(of: "admin listener started", in: server.text)))"

        let health = try await Curl.fetch("\(admin)/healthz", proxy: nil)
        #expect(health.status == 503, "\(health.bodyText)")
        #expect(health.bodyText.contains(#""ai_ledger":{"ok":false,"reason":"token ledger (postgres) unavailable"#), "\(health.bodyText)")
        #expect(health.bodyText.contains("check ai.ledger"), "the fix is named: \(health.bodyText)")
        #expect(health.bodyText.contains(#""ledger":"postgres://meshgate:***@127.0.0.1:1/meshgate""#), "\(health.bodyText)")
        #expect(!health.bodyText.contains("hunter2"))
        #expect(try await server.waitForOutput(containing: "token ledger unavailable", timeout: 20), "the outage is logged: \(server.text)")
        #expect(!server.text.contains("hunter2"), "nor is the password logged")

        let token = try String(contentsOfFile: pki.directory.appendingPathComponent("state/admin.token").path, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let usage = try await Curl.fetch("\(admin)/admin/usage", proxy: nil, extra: ["-H", "Authorization: Bearer \(token)"])
        #expect(usage.status == 503)
        #expect(usage.bodyText.contains("token ledger (postgres) unavailable"), "\(usage.bodyText)")
        server.signal(SIGTERM)
        #expect(try await server.waitForExit(timeout: 15) == 0, "shutdown does not hang on the dead database")
    }
}
