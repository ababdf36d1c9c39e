import Foundation
import Testing

/// The AI gateway with its ledger down, and budgets smaller than the default reservation (issue 18,
/// findings 5 and 9), with the official SDKs and curl against `meshgate serve`.
@Suite(.serialized) struct AILedgerOutageTests {
    typealias E2E = AIGatewayEndToEndTests

    /// A port nothing listens on.
    static func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// `count` chat calls one after the other in one curl process; their statuses and bodies.
    static func sequentialCalls(_ count: Int, server: E2E.World.Server) async throws -> [(Int, String)] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("outage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var arguments = ["-s", "--max-time", "20"]
        for index in 0..<count {
            if index > 0 { arguments.append("--next") }
            arguments += ["-s", "--max-time", "20", "-o", dir.appendingPathComponent("\(index)").path, "-w", "%{http_code}\n",
                          "-H", "Authorization: Bearer \(E2E.tokens["agent-1"] ?? "")", "-H", "content-type: application/json",
                          "--data", #"{"model":"gpt-test","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"#,
                          server.ai + "/v1/chat/completions"]
        }
        let result = try await ProcessRunner.run("curl", arguments, timeout: 200, environment: Curl.environment)
        let statuses = result.stdoutText.split(separator: "\n").map { Int($0) ?? 0 }
        return statuses.enumerated().map { index, status in
            (status, (try? String(contentsOf: dir.appendingPathComponent("\(index)"), encoding: .utf8)) ?? "")
        }
    }

    /// A listener that accepts connections and never says a word: a database host that stopped
    /// answering (the connection attempt hangs instead of being refused). Prints its port.
    static let blackholeScript = """
        import socket, signal, time
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
        server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen(512)
        print(server.getsockname()[1], flush=True)
        held = []
        while True:
            client, _ = server.accept()
            held.append(client)
        """

    @Test(arguments: [false, true], ["refused", "silent"])
    func aDeadPostgresLedgerIsDecidedAtOnce(failOpen: Bool, how: String) async throws {
        var blackhole: StreamingClient?
        let port: Int
        if how == "silent" {
            let listener = try StreamingClient(["python3", "-c", Self.blackholeScript])
            blackhole = listener
            guard try await listener.waitForOutput(containing: "\n", timeout: 10),
                  let bound = Int(listener.text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                listener.terminate()
                throw E2E.SetupError(description: "the silent listener did not start: \(listener.text)")
            }
            port = bound
        } else {
            port = try Self.closedPort()
        }
        let ledger = "postgres://meshgate@127.0.0.1:\(port)/meshgate?sslmode=disable"
        let world = try await E2E.makeWorld(ledger: ledger, budgets: "    - { team: platform, tokens: 100000, window: 1d }", failOpen: failOpen)
        defer { Task { await world.stop() }; blackhole?.terminate() }
        let server = try await E2E.startServer(world)
        try await Self.expectDecidedWithoutTheLedger(server: server, failOpen: failOpen, label: "the ledger down (\(how))")
    }

    /// 20 sequential calls while the ledger is down: each answered as `ai.ledger_unavailable` says
    /// (200 under fail_open, 503 naming it and the fix under fail_closed) without waiting on the
    /// ledger, which would cost 20 × its 5 s operation limit (the bound leaves room for a loaded runner).
    static func expectDecidedWithoutTheLedger(server: E2E.World.Server, failOpen: Bool, label: String) async throws {
        let started = ContinuousClock.now
        let answers = try await sequentialCalls(20, server: server)
        let elapsed = ContinuousClock.now - started
        print("20 sequential calls with \(label) (\(failOpen ? "fail_open" : "fail_closed")): \(elapsed)")
        #expect(elapsed < .seconds(20), "an outage costs no request a wait on the ledger: \(elapsed)")
        #expect(answers.count == 20)
        for (status, body) in answers {
            if failOpen {
                #expect(status == 200, "\(body)")
            } else {
                #expect(status == 503 && body.contains("ledger_unavailable") && body.contains("fail_open"), "\(status) \(body)")
            }
        }
    }

    @Test func aSmallCapAdmitsCallsWithoutMaxTokensAndRefusesOnesThatCanNeverFitWith413() async throws {
        let world = try await E2E.makeWorld(budgets: "    - { team: platform, tokens: 1000, window: 1d }")
        defer { Task { await world.stop() } }
        let server = try await E2E.startServer(world)
        let key = E2E.tokens["agent-1"] ?? ""
        let plain = try await FakeLLM.client(["--sdk", "openai", "--base-url", server.ai + "/v1", "--api-key", key, "--model", "gpt-test"])
        #expect(plain["ok"] as? Bool == true, "a call without max_tokens fits a 1000-token cap: \(plain)")
        for sdk in ["openai", "anthropic"] {
            let huge = try await E2E.sdk(sdk, baseURL: sdk == "openai" ? server.ai + "/v1" : server.ai, apiKey: key, maxTokens: 2000)
            #expect(E2E.int(huge["status"]) == 413, "\(huge)")
            let message = huge["message"] as? String ?? ""
            #expect(message.contains("team 'platform'") && message.contains("1000") && message.contains("max_tokens 2000"), "\(huge)")
        }
        #expect(world.providerRequests.count == 1, "a call that can never fit does not reach the provider")
        try await Task.sleep(for: .milliseconds(200))
        let limited = server.aiLines.filter { $0["action"] as? String == "limit" }
        #expect(limited.count == 2 && limited.allSatisfy { E2E.int($0["status"]) == 413 }, "\(server.aiLines)")
    }
}
