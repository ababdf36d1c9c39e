import Foundation
import Testing

/// The AI gateway when a provider or a client misbehaves mid-call: a provider that dies in the
/// middle of a stream, one that stalls, and clients that give up. The caller must never wait for its
/// own timeout, and the provider call must never outlive the caller; both end with an audit line
/// and the reservation settled or released.
@Suite(.serialized) struct AIProviderFaultTests {
    typealias E2E = AIGatewayEndToEndTests

    static let budget = "    - { team: platform, tokens: 100000, window: 1d }"

    /// The ledger's in-flight tokens over all windows (what dead or abandoned calls would still hold).
    static func reservedTokens(_ world: E2E.World) async throws -> Int {
        let path = String(world.ledger.dropFirst("sqlite:".count))
        let sqlite = try ProcessRunner.which("sqlite3")
        let result = try await ProcessRunner.run(sqlite, [path, "SELECT COALESCE(SUM(reserved), 0) FROM budget_windows"])
        return Int(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    static func waitFor<T>(_ seconds: Double, _ probe: () async throws -> T?) async rethrows -> T? {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if let value = try await probe() { return value }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return try await probe()
    }

    @Test(arguments: [("openai", "gpt-test"), ("anthropic", "claude-test"), ("openai", "claude-test"), ("anthropic", "gpt-test")])
    func aProviderThatDiesMidStreamEndsTheCallersStreamAtOnce(sdk: String, model: String) async throws {
        let world = try await E2E.makeWorld(budgets: Self.budget)
        defer { Task { await world.stop() } }
        let server = try await E2E.startServer(world)
        let started = ContinuousClock.now
        // The SDK would wait its full read timeout (60 s here) for a stream that never ends.
        let result = try await E2E.sdk(sdk, baseURL: sdk == "openai" ? server.ai + "/v1" : server.ai, apiKey: E2E.tokens["agent-1"] ?? "",
                                       stream: true, maxTokens: 40, model: model,
                                       headers: ["x-fake-output-tokens:40", "x-fake-fail-after-chunks:3"], extra: ["--timeout", "60"])
        let elapsed = ContinuousClock.now - started
        #expect(result["ok"] as? Bool == false, "\(result)")
        #expect((result["message"] as? String ?? "").contains("provider closed the connection mid-stream"), "\(result)")
        // The message is meshgate's error event, so the SDK did not wait for its own timeout (its
        // error would name the timeout); the time is printed, not asserted, since a loaded CI runner
        // starting the SDK's interpreter took 24-43 s.
        print("\(sdk) SDK learned of the provider's failure after \(elapsed)")
        #expect((result["text"] as? String ?? "").contains("tok"), "the chunks before the failure arrived: \(result)")
        let line = try #require(await Self.waitFor(5) { server.aiLines.first }, "\(server.auditLines)")
        #expect((line["error"] as? String ?? "").contains("mid-stream"), "\(line)")
        #expect((E2E.int(line["output_tokens"]) ?? 0) >= 3 && line["estimated"] as? Bool == true, "charged an estimate of what streamed: \(line)")
        #expect(try await Self.waitFor(5) { try await Self.reservedTokens(world) == 0 ? true : nil } == true, "the reservation was settled")
    }

    @Test func aClientThatLeavesBeforeTheProviderAnswersCancelsTheCall() async throws {
        let world = try await E2E.makeWorld(budgets: Self.budget)
        defer { Task { await world.stop() } }
        let server = try await E2E.startServer(world)
        let curl = try ProcessRunner.which("curl")
        let body = #"{"model":"gpt-test","max_tokens":10,"messages":[{"role":"user","content":"hello"}]}"#
        let result = try await ProcessRunner.run(curl, [
            "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", server.ai + "/v1/chat/completions",
            "-H", "Authorization: Bearer \(E2E.tokens["agent-1"] ?? "")", "-H", "content-type: application/json",
            "-H", "x-fake-hang-before-headers-ms: 120000", "--data", body,
        ], timeout: 20)
        #expect(result.stdoutText == "000", "curl gave up: \(result.stdoutText)")
        // The provider sees meshgate hang up right after the client did, not after its own timeout.
        let gone = await Self.waitFor(5) { world.provider.log(kind: "client_gone").first }
        #expect(gone != nil, "the upstream call outlived its client: \(world.provider.log(kind: "request").count) requests")
        let line = try #require(await Self.waitFor(5) { server.aiLines.first }, "no audit line: \(server.auditLines)")
        #expect((line["error"] as? String ?? "").contains("client"), "\(line)")
        #expect(E2E.int(line["output_tokens"]) == 0, "\(line)")
        #expect(try await Self.waitFor(5) { try await Self.reservedTokens(world) == 0 ? true : nil } == true, "the reservation was released")
    }

    @Test func aClientThatLeavesAStalledStreamCancelsItAndPaysForWhatStreamed() async throws {
        let world = try await E2E.makeWorld(budgets: Self.budget)
        defer { Task { await world.stop() } }
        let server = try await E2E.startServer(world)
        let curl = try ProcessRunner.which("curl")
        let body = #"{"model":"claude-test","max_tokens":40,"stream":true,"messages":[{"role":"user","content":"hello"}]}"#
        _ = try await ProcessRunner.run(curl, [
            "-s", "-o", "/dev/null", "--max-time", "2", server.ai + "/v1/messages",
            "-H", "x-api-key: \(E2E.tokens["agent-1"] ?? "")", "-H", "content-type: application/json",
            "-H", "x-fake-output-tokens: 40", "-H", "x-fake-hang-after-chunks: 5", "--data", body,
        ], timeout: 20)
        let gone = await Self.waitFor(5) { world.provider.log(kind: "client_gone").first }
        #expect(gone != nil, "the stalled stream outlived its client")
        let line = try #require(await Self.waitFor(5) { server.aiLines.first }, "no audit line: \(server.auditLines)")
        #expect((line["error"] as? String ?? "").contains("client"), "\(line)")
        let output = E2E.int(line["output_tokens"]) ?? 0
        #expect(output >= 5 && output < 40, "charged for the five chunks that streamed: \(line)")
        #expect(try await Self.waitFor(5) { try await Self.reservedTokens(world) == 0 ? true : nil } == true, "the reservation was settled")
    }
}
