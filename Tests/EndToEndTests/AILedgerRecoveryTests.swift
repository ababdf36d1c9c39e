import Foundation
import Testing

/// The AI gateway after its ledger comes back, and the usage of anonymous proxy clients (issue 18,
/// findings 5 and 9), against `meshgate serve` with the official SDKs and curl.
@Suite(.serialized) struct AILedgerRecoveryTests {
    typealias E2E = AIGatewayEndToEndTests

    /// A relay to `target` on `port` (0: any); its port.
    static func relay(to target: String, port: Int = 0) async throws -> (StreamingClient, Int) {
        let relay = try StreamingClient(["python3", "-c", E2E.relayScript, target, String(port)])
        guard try await relay.waitForOutput(containing: "\n", timeout: 10),
              let bound = Int(relay.text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            relay.terminate()
            throw E2E.SetupError(description: "the relay did not start: \(relay.text)")
        }
        return (relay, bound)
    }

    @Test(.enabled(if: E2E.postgresURL != nil, "set MESHGATE_TEST_POSTGRES_URL (./scripts/postgres-test-db.sh)"))
    func callsAreServedAgainWithinSecondsOfThePostgresLedgerComingBack() async throws {
        let started = Date()
        let url = try #require(E2E.postgresURL)
        let target = E2E.postgresHostPort(url)
        var (relay, port) = try await Self.relay(to: target)
        let team = "recover-\(UUID().uuidString.prefix(8))"
        let world = try await E2E.makeWorld(ledger: E2E.replacingHostPort(url, with: "127.0.0.1:\(port)"),
                                            budgets: "    - { team: \(team), tokens: 100000, window: 1d }")
        world.team = team
        defer { Task { await world.stop() }; relay.terminate() }
        let server = try await E2E.startServer(world)
        let key = E2E.tokens["agent-1"] ?? ""
        let health = "http://127.0.0.1:\(server.adminPort)/healthz"
        var ok = try await E2E.sdk("openai", baseURL: server.ai + "/v1", apiKey: key)
        for _ in 0..<50 where ok["ok"] as? Bool != true {  // the node connects to the ledger after it starts
            try await Task.sleep(for: .milliseconds(100))
            ok = try await E2E.sdk("openai", baseURL: server.ai + "/v1", apiKey: key)
        }
        #expect(ok["ok"] as? Bool == true, "\(ok)")

        relay.terminate()
        _ = try? await relay.waitForExit(timeout: 5)
        let refused = try await E2E.sdk("anthropic", baseURL: server.ai, apiKey: key)
        #expect(E2E.int(refused["status"]) == 503, "\(refused)")
        let down = try await Curl.fetch(health, proxy: nil)
        #expect(down.status == 503 && down.bodyText.contains("last_error"), "\(down.bodyText)")

        // The database is reachable again on the same address.
        (relay, port) = try await Self.relay(to: target, port: port)
        let back = ContinuousClock.now
        var served: [String: Any] = [:]
        while ContinuousClock.now - back < .seconds(30) {
            served = try await E2E.sdk("anthropic", baseURL: server.ai, apiKey: key)
            if served["ok"] as? Bool == true { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        let recovery = ContinuousClock.now - back
        print("served again \(recovery) after the PostgreSQL ledger came back")
        #expect(served["ok"] as? Bool == true, "served within 30 s of the ledger's return: \(served)")
        let up = try await Curl.fetch(health, proxy: nil)
        #expect(up.status == 200, "\(up.bodyText)")
        #expect(!up.bodyText.contains("\"last_error\""), "no stale last_error once the ledger works: \(up.bodyText)")
        #expect(up.bodyText.contains("previous_error") && up.bodyText.contains("recovered_at"), "\(up.bodyText)")
        // Both served calls are in the ledger: 12 input + 10 output each.
        try await Task.sleep(for: .milliseconds(300))
        if E2E.sameUTCDay(since: started) { #expect(try await E2E.usedByTeam(team, config: server.config) == 2 * 22) }
    }

    @Test(.enabled(if: E2E.postgresURL != nil, "set MESHGATE_TEST_POSTGRES_URL (./scripts/postgres-test-db.sh)"),
          arguments: [false, true])
    func aLedgerThatStopsAnsweringCostsOneDeadlineThenNothing(failOpen: Bool) async throws {
        let url = try #require(E2E.postgresURL)
        let (relay, port) = try await Self.relay(to: E2E.postgresHostPort(url))
        let team = "silent-\(UUID().uuidString.prefix(8))"
        let world = try await E2E.makeWorld(ledger: E2E.replacingHostPort(url, with: "127.0.0.1:\(port)"),
                                            budgets: "    - { team: \(team), tokens: 100000, window: 1d }", failOpen: failOpen)
        world.team = team
        defer { Task { await world.stop() }; relay.terminate() }
        let server = try await E2E.startServer(world)
        var ok = try await E2E.sdk("openai", baseURL: server.ai + "/v1", apiKey: E2E.tokens["agent-1"] ?? "")
        for _ in 0..<50 where ok["ok"] as? Bool != true {
            try await Task.sleep(for: .milliseconds(100))
            ok = try await E2E.sdk("openai", baseURL: server.ai + "/v1", apiKey: E2E.tokens["agent-1"] ?? "")
        }
        #expect(ok["ok"] as? Bool == true, "\(ok)")
        // The database stops answering; its connections stay open.
        relay.signal(SIGUSR1)
        // One ai.ledger_timeout (1 s) opens the breaker; then nothing waits on the ledger.
        try await AILedgerOutageTests.expectDecidedWithoutTheLedger(server: server, failOpen: failOpen, label: "a ledger that stopped answering")
    }

    @Test func anonymousCallsThroughTheExplicitProxyAreInTheUsageReport() async throws {
        let world = try await E2E.makeWorld(budgets: "    - { team: platform, tokens: 100000, window: 1d }")
        defer { Task { await world.stop() } }
        let server = try await E2E.startServer(world)
        // No identity: a laptop's SDK pointed at the proxy without credentials, using its own key.
        let call = try await E2E.sdk("openai", baseURL: "https://localhost:\(world.providerPort)/v1", apiKey: E2E.providerKey,
                                     proxy: server.proxy, ca: server.caPath)
        #expect(call["ok"] as? Bool == true, "\(call) \(server.auditLines)")
        try await Task.sleep(for: .milliseconds(300))
        let json = try await ProcessRunner.run(E2E.binary, ["usage", "--json", "--config", server.config])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdoutText.utf8)) as? [String: Any])
        let identities = report["identities"] as? [[String: Any]] ?? []
        let anonymous = identities.first { $0["identity"] is NSNull }
        #expect(anonymous.flatMap { E2E.int($0["used"]) } == 22, "\(json.stdoutText)")
        let table = try await ProcessRunner.run(E2E.binary, ["usage", "--config", server.config])
        #expect(table.stdoutText.contains("(anonymous)"), "\(table.stdoutText)")
    }
}
