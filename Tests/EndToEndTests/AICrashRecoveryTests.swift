import Foundation
import Testing

/// `kill -9` during 20 streams (issue 18, finding 3): what finished is recorded, and the budget the
/// dead process held comes back — at its restart, or from another instance sharing the ledger
/// once the dead one's lease is two heartbeats old — instead of an hour later.
@Suite(.serialized) struct AICrashRecoveryTests {
    typealias E2E = AIGatewayEndToEndTests

    /// The team's `used` and `reserved`, as `meshgate usage --json` reads them from the ledger.
    static func totals(_ server: E2E.World.Server, team: String) async throws -> (used: Int, reserved: Int) {
        let usage = try await ProcessRunner.run(E2E.binary, ["usage", "--json", "--config", server.config])
        let report = try JSONSerialization.jsonObject(with: Data(usage.stdoutText.utf8)) as? [String: Any]
        let row = (report?["teams"] as? [[String: Any]])?.first { $0["team"] as? String == team }
        // The report names no reservations; they are what the cap has that is neither used nor free.
        let used = E2E.int(row?["used"]) ?? -1
        let reserved = (E2E.int(row?["limit"]) ?? 0) - used - (E2E.int(row?["remaining"]) ?? 0)
        return (used, row == nil ? -1 : reserved)
    }

    /// Four calls that finish, then 20 slow streams holding about 1,000 tokens each; returns once the
    /// provider has all 20 (the tasks run until meshgate dies under them).
    static func finishFourThenStartTwenty(_ world: E2E.World, on server: E2E.World.Server,
                                          group: inout ThrowingTaskGroup<Void, any Error>) async throws {
        for index in 0..<4 {
            let result = try await E2E.sdk(index % 2 == 0 ? "openai" : "anthropic", baseURL: server.ai + (index % 2 == 0 ? "/v1" : ""),
                                           apiKey: E2E.tokens["agent-1"] ?? "")
            #expect(result["ok"] as? Bool == true, "\(result)")
        }
        let curl = try ProcessRunner.which("curl")
        let before = world.providerRequests.count
        for _ in 0..<20 {
            group.addTask {
                let body = #"{"model":"gpt-test","stream":true,"max_tokens":1000,"messages":[{"role":"user","content":"write a long story"}]}"#
                _ = try await ProcessRunner.run(curl, [
                    "-s", "-o", "/dev/null", "--max-time", "60", server.ai + "/v1/chat/completions",
                    "-H", "Authorization: Bearer \(E2E.tokens["agent-1"] ?? "")", "-H", "content-type: application/json",
                    "-H", "x-fake-output-tokens: 1000", "-H", "x-fake-chunk-delay-ms: 200", "--data", body,
                ], timeout: 70)
            }
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while world.providerRequests.count < before + 20, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(world.providerRequests.count == before + 20, "all 20 streams reached the provider")
    }

    /// Polls until the team holds nothing; returns how long it took, or nil after `limit`.
    static func waitUntilFreed(_ server: E2E.World.Server, team: String, limit: Duration) async throws -> Duration? {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < limit {
            if try await totals(server, team: team).reserved == 0 { return ContinuousClock.now - start }
            try await Task.sleep(for: .milliseconds(250))
        }
        return nil
    }

    @Test func aKilledInstanceGivesBackWhatItHeldWhenItStartsAgain() async throws {
        let started = Date()
        let world = try await E2E.makeWorld(budgets: "    - { team: platform, tokens: 100000, window: 1d }")
        defer { Task { await world.stop() } }
        let server = try await E2E.startServer(world)
        try await withThrowingTaskGroup(of: Void.self) { group in
            try await Self.finishFourThenStartTwenty(world, on: server, group: &group)
            let held = try await Self.totals(server, team: "platform")
            #expect(held.reserved >= 20 * 1000, "20 streams hold their reservations: \(held)")
            server.process.signal(SIGKILL)
            _ = try await server.process.waitForExit(timeout: 10)
            try await group.waitForAll()
        }
        // Dead, nothing frees them (the default heartbeat is 10 s, but no other instance runs).
        let orphaned = try await Self.totals(server, team: "platform")
        #expect(orphaned.reserved >= 20 * 1000, "\(orphaned)")
        if E2E.sameUTCDay(since: started) { #expect(orphaned.used == 4 * 22, "the four finished calls are recorded: \(orphaned)") }

        // The same node starts again (same state_dir, so the same instance-id).
        world.servers.removeAll()
        let restarted = try await E2E.startServer(world)
        let freed = try await Self.waitUntilFreed(restarted, team: "platform", limit: .seconds(30))
        print("budget back \(freed.map { "\($0)" } ?? "never") after the restart")
        #expect(freed != nil, "the restarted instance gives back its previous run's reservations")
        if E2E.sameUTCDay(since: started) { #expect(try await Self.totals(restarted, team: "platform").used == 4 * 22) }
        #expect(restarted.process.text.contains("gave back token reservations this instance held"), "\(restarted.process.text)")
        // And the budget is usable again.
        let after = try await E2E.sdk("openai", baseURL: restarted.ai + "/v1", apiKey: E2E.tokens["agent-1"] ?? "")
        #expect(after["ok"] as? Bool == true, "\(after)")
    }

    @Test(arguments: ["sqlite", "postgres"])
    func anotherInstanceReclaimsADeadOnesReservationsWithinThreeHeartbeats(ledger: String) async throws {
        let started = Date()
        let postgres = ledger == "postgres" ? ProcessInfo.processInfo.environment["MESHGATE_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 } : nil
        guard ledger == "sqlite" || postgres != nil else { return }  // PostgreSQL only where the test database is set up
        let team = "crash-\(UUID().uuidString.prefix(8))"
        let world = try await E2E.makeWorld(ledger: postgres, budgets: "    - { team: \(team), tokens: 100000, window: 1d }")
        world.team = team
        world.extraAI = "  lease_heartbeat: 1s"
        defer { Task { await world.stop() } }
        let a = try await E2E.startServer(world, name: "a")
        let b = try await E2E.startServer(world, name: "b")
        try await withThrowingTaskGroup(of: Void.self) { group in
            try await Self.finishFourThenStartTwenty(world, on: a, group: &group)
            #expect(try await Self.totals(b, team: team).reserved >= 20 * 1000)
            a.process.signal(SIGKILL)
            _ = try await a.process.waitForExit(timeout: 10)
            try await group.waitForAll()
        }
        // b renews its own lease every second and takes a for dead two seconds after a's last.
        let freed = try await Self.waitUntilFreed(b, team: team, limit: .seconds(30))
        print("\(ledger): budget back \(freed.map { "\($0)" } ?? "never") after kill -9, reclaimed by the other instance")
        #expect(freed != nil, "b reclaims a's reservations within 30 s")
        if E2E.sameUTCDay(since: started) {
            #expect(try await Self.totals(b, team: team).used == 4 * 22, "finished calls are recorded once, nothing else is charged")
        }
        #expect(b.process.text.contains("reclaimed token reservations of a meshgate instance"), "\(b.process.text)")
        // b itself kept serving.
        let after = try await E2E.sdk("anthropic", baseURL: b.ai, apiKey: E2E.tokens["agent-1"] ?? "")
        #expect(after["ok"] as? Bool == true, "\(after)")
    }
}
