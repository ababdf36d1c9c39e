import Crypto
import Foundation
import Testing

/// The AI gateway as users meet it: `meshgate serve` with identities, budgets and a SQLite or
/// PostgreSQL ledger; a fake OpenAI + Anthropic provider over TLS; the official `openai` and
/// `anthropic` Python SDKs and curl as clients, both on the `ai` listener and through the
/// intercepting explicit proxy.
@Suite(.serialized) struct AIGatewayEndToEndTests {
    static let binary = ServeCommandTests.binary
    static let providerKey = "sk-provider-secret"
    static let tokens = ["agent-1": "tok-agent-1", "agent-2": "tok-agent-2", "agent-hard": "tok-agent-hard"]

    struct SetupError: Error, CustomStringConvertible { var description: String }

    /// A fake provider and one or more `meshgate serve` processes sharing a ledger.
    final class World: @unchecked Sendable {
        let pki: TestPKI
        let provider: FakeLLM
        var providerPort: Int { provider.port }
        var servers: [Server] = []
        let ledger: String
        var budgets = ""
        var failOpen = false
        /// The team of agent-1 and agent-2.
        var team = "platform"
        /// More `ai.providers` / `ai.models` lines (indented for their section).
        var extraProviders = ""
        var extraModels = ""
        /// More top-level configuration (rulesets, portal).
        var extraTopLevel = ""
        /// More `ai:` keys (indented for the section).
        var extraAI = ""
        /// More ports the explicit proxy may CONNECT to (", 8443").
        var extraConnectPorts = ""

        struct Server {
            let process: StreamingClient
            let dir: URL
            let config: String
            let proxyPort: Int
            let aiPort: Int
            let adminPort: Int
            var ai: String { "http://127.0.0.1:\(aiPort)" }
            /// The CA this node created on first start (what intercepted clients must trust).
            var caPath: String { dir.appendingPathComponent("state/ca.pem").path }
            var proxy: String { "http://127.0.0.1:\(proxyPort)" }
            var auditLines: [[String: Any]] {
                let text = (try? String(contentsOfFile: dir.appendingPathComponent("state/audit.jsonl").path, encoding: .utf8)) ?? ""
                return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            }
            var aiLines: [[String: Any]] { auditLines.filter { $0["event"] as? String == "ai" } }
        }

        init(pki: TestPKI, provider: FakeLLM, ledger: String) {
            self.pki = pki
            self.provider = provider
            self.ledger = ledger
        }

        /// What reached the provider, one object per request.
        var providerRequests: [[String: Any]] { provider.log() }

        /// Signals every node first, then waits: a test runner that exits before this task ends
        /// (a filtered run) must not leave nodes running, holding database connections.
        func stop() async {
            for server in servers { server.process.signal(SIGTERM) }
            provider.stop()
            for server in servers { _ = try? await server.process.waitForExit(timeout: 15) }
        }
    }

    static func hex(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func makeWorld(ledger: String? = nil, budgets: String, failOpen: Bool = false) async throws -> World {
        let pki = try TestPKI.make()
        let provider = try await FakeLLM(pki: pki, extra: ["--require-key", providerKey])
        let world = World(pki: pki, provider: provider, ledger: ledger ?? "sqlite:\(pki.directory.appendingPathComponent("shared/ledger.db").path)")
        world.budgets = budgets
        world.failOpen = failOpen
        return world
    }

    static func startServer(_ world: World, name: String = "a") async throws -> World.Server {
        let dir = world.pki.directory.appendingPathComponent("node-\(name)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let identities = tokens.map { name, token in
            "  - { name: \(name), team: \(name == "agent-hard" ? "hard" : world.team), token_sha256: \"\(hex(token))\" }"
        }.sorted().joined(separator: "\n")
        let config = dir.appendingPathComponent("meshgate.yaml").path
        try """
            state_dir: ./state
            audit:
              path: ./state/audit.jsonl
            \(world.extraTopLevel)
            listeners:
              explicit: 127.0.0.1:0
              ai: 127.0.0.1:0
              admin: 127.0.0.1:0
            access:
              connect_ports: [443, \(world.providerPort)\(world.extraConnectPorts)]
              allow_destinations: [127.0.0.0/8]
            tls:
              upstream_ca: \(world.pki.originCAPath)
            identities:
            \(identities)
            ai:
              ledger: \(world.ledger)
              ledger_unavailable: \(world.failOpen ? "fail_open" : "fail_closed")
            \(world.extraAI)
              providers:
                fakeopenai: { format: openai, base_url: "https://localhost:\(world.providerPort)/v1", api_key_env: FAKE_PROVIDER_KEY }
                fakeanthropic: { format: anthropic, base_url: "https://localhost:\(world.providerPort)", api_key_env: FAKE_PROVIDER_KEY }
            \(world.extraProviders)
              models:
                gpt-test: { provider: fakeopenai }
                claude-test: { provider: fakeanthropic }
            \(world.extraModels)
              budgets:
            \(world.budgets)
            """.write(toFile: config, atomically: true, encoding: .utf8)
        var environment = Curl.environment
        environment["FAKE_PROVIDER_KEY"] = providerKey
        let process = try StreamingClient([binary, "serve", "--config", config], environment: environment, captureStderr: true)
        // The listeners start concurrently, so their lines come in any order.
        guard try await process.waitForOutput(containing: "ai gateway listening", timeout: 30),
              try await process.waitForOutput(containing: "admin listener started", timeout: 10),
              try await process.waitForOutput(containing: "explicit proxy listening", timeout: 10),
              let proxyPort = ServeCommandTests.port(of: "explicit proxy listening", in: process.text),
              let aiPort = ServeCommandTests.port(of: "ai gateway listening", in: process.text),
              let adminPort = ServeCommandTests.port(of: "admin listener started", in: process.text) else {
            process.terminate()
            throw SetupError(description: "serve did not start:\n\(process.text)")
        }
        let server = World.Server(process: process, dir: dir, config: config, proxyPort: proxyPort, aiPort: aiPort, adminPort: adminPort)
        world.servers.append(server)
        return server
    }

    /// Runs the SDK driver; returns its JSON line.
    static func sdk(_ sdk: String, baseURL: String, apiKey: String, stream: Bool = false, maxTokens: Int = 10,
                    model: String? = nil, proxy: String? = nil, ca: String? = nil, headers: [String] = [],
                    extra: [String] = []) async throws -> [String: Any] {
        var arguments = ["--sdk", sdk, "--base-url", baseURL, "--api-key", apiKey,
                         "--model", model ?? (sdk == "openai" ? "gpt-test" : "claude-test"), "--max-tokens", String(maxTokens)]
        if stream { arguments.append("--stream") }
        if let proxy { arguments += ["--proxy", proxy] }
        if let ca { arguments += ["--ca", ca] }
        for header in headers { arguments += ["--extra-header", header] }
        arguments += extra
        return try await FakeLLM.client(arguments)
    }

    static func int(_ value: Any?) -> Int? { (value as? NSNumber)?.intValue }

    // MARK: tests

    @Test func sdkCallsOnTheAIListenerAreChargedExactlyWhatTheProviderReported() async throws {
        let started = Date()
        let world = try await Self.makeWorld(budgets: "    - { team: platform, tokens: 100000, window: 1d }")
        defer { Task { await world.stop() } }
        let server = try await Self.startServer(world)
        let cases: [(sdk: String, stream: Bool, headers: [String], input: Int, output: Int)] = [
            ("openai", false, [], 12, 10),
            ("openai", true, [], 12, 10),
            ("anthropic", false, ["x-fake-cached-tokens:30", "x-fake-cache-creation-tokens:5"], 12 + 30 + 5, 10),
            ("anthropic", true, ["x-fake-cached-tokens:30"], 12 + 30, 10),
        ]
        for (index, item) in cases.enumerated() {
            let base = item.sdk == "openai" ? server.ai + "/v1" : server.ai
            let result = try await Self.sdk(item.sdk, baseURL: base, apiKey: Self.tokens["agent-1"] ?? "", stream: item.stream, headers: item.headers)
            #expect(result["ok"] as? Bool == true, "\(item): \(result)")
            let headers = result["headers"] as? [String: Any]
            #expect(headers?["x-meshgate-budget-remaining"] != nil, "\(result)")
            if item.sdk == "openai", item.stream {
                // Usage was asked for on the caller's behalf, and its chunk is not passed on.
                #expect(result["usage"] is NSNull, "the caller gets the stream it asked for: \(result)")
            }
            try await Task.sleep(for: .milliseconds(200))
            let line = try #require(server.aiLines.dropFirst(index).first, "one ai line per call: \(server.auditLines)")
            #expect(Self.int(line["input_tokens"]) == item.input, "\(item.sdk) stream=\(item.stream): \(line)")
            #expect(Self.int(line["output_tokens"]) == item.output, "\(line)")
            #expect(line["identity"] as? String == "agent-1" && line["team"] as? String == "platform")
            #expect(line["model"] as? String == (item.sdk == "openai" ? "gpt-test" : "claude-test"))
            #expect(line["estimated"] == nil, "the provider's own count: \(line)")
        }
        // The provider saw its own key, never the caller's identity token, and OpenAI streams were
        // asked to report usage.
        let requests = world.providerRequests
        #expect(requests.count == 4)
        for request in requests {
            let headers = request["headers"] as? [String: String] ?? [:]
            #expect(headers["authorization"] == "Bearer \(Self.providerKey)" || headers["x-api-key"] == Self.providerKey, "\(headers)")
            #expect(!headers.values.contains { $0.contains("tok-agent-1") })
        }
        let openAIStream = try #require(requests.dropFirst().first?["body"] as? [String: Any])
        #expect((openAIStream["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true)

        // Usage recorded in the ledger: 22 + 22 + 57 + 52.
        let usage = try await ProcessRunner.run(Self.binary, ["usage", "--json", "--config", server.config])
        #expect(usage.exitCode == 0, "\(usage.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(usage.stdoutText.utf8)) as? [String: Any])
        let team = try #require((report["teams"] as? [[String: Any]])?.first { $0["team"] as? String == "platform" })
        if Self.sameUTCDay(since: started) { #expect(Self.int(team["used"]) == 22 + 22 + 57 + 52, "\(report)") }
        let metrics = try await Curl.fetch("http://127.0.0.1:\(server.adminPort)/metrics", proxy: nil)
        #expect(metrics.bodyText.contains(#"meshgate_ai_tokens_total{team="platform",provider="fakeanthropic",model="claude-test",kind="cache_read"} 60"#),
                "\(metrics.bodyText.split(separator: "\n").filter { $0.contains("meshgate_ai") })")
    }

    @Test func interceptedCallsToAProviderAreMeteredToTheProxyIdentity() async throws {
        let world = try await Self.makeWorld(budgets: "    - { team: platform, tokens: 100000, window: 1d }")
        defer { Task { await world.stop() } }
        let server = try await Self.startServer(world)
        // The agent talks to the provider itself (its own key), through the explicit proxy.
        let proxy = "http://agent-2:\(Self.tokens["agent-2"] ?? "")@127.0.0.1:\(server.proxyPort)"
        let openai = try await Self.sdk("openai", baseURL: "https://localhost:\(world.providerPort)/v1", apiKey: Self.providerKey, stream: true,
                                        proxy: proxy, ca: server.caPath)
        #expect(openai["ok"] as? Bool == true, "\(openai) \(server.auditLines)")
        let anthropic = try await Self.sdk("anthropic", baseURL: "https://localhost:\(world.providerPort)", apiKey: Self.providerKey,
                                           stream: true, proxy: proxy, ca: server.caPath, headers: ["x-fake-input-tokens:40"])
        #expect(anthropic["ok"] as? Bool == true, "\(anthropic)")
        try await Task.sleep(for: .milliseconds(200))
        let lines = server.aiLines
        #expect(lines.count == 2, "\(server.auditLines)")
        #expect(lines.allSatisfy { $0["identity"] as? String == "agent-2" && $0["intercepted"] as? Bool == true })
        #expect(lines.map { Self.int($0["input_tokens"]) } == [12, 40])
        #expect(lines.map { $0["provider"] as? String } == ["fakeopenai", "fakeanthropic"])
    }

    @Test func theCapAnswers429WithRetryAfterAndTheSDKsRaiseRateLimitError() async throws {
        // Each call reserves about 2 + 10 and uses 22; the third no longer fits 50.
        let world = try await Self.makeWorld(budgets: "    - { team: platform, tokens: 50, window: 1h }")
        defer { Task { await world.stop() } }
        let server = try await Self.startServer(world)
        for _ in 0..<2 {
            let ok = try await Self.sdk("openai", baseURL: server.ai + "/v1", apiKey: Self.tokens["agent-1"] ?? "")
            #expect(ok["ok"] as? Bool == true, "\(ok)")
        }
        for sdk in ["openai", "anthropic"] {
            let refused = try await Self.sdk(sdk, baseURL: sdk == "openai" ? server.ai + "/v1" : server.ai, apiKey: Self.tokens["agent-2"] ?? "")
            #expect(refused["ok"] as? Bool == false)
            #expect(refused["error"] as? String == "RateLimitError", "\(refused)")
            #expect(Self.int(refused["status"]) == 429)
            let headers = refused["headers"] as? [String: Any] ?? [:]
            let retryAfter = Int(headers["retry-after"] as? String ?? "") ?? 0
            #expect(retryAfter >= 1 && retryAfter <= 3600, "\(headers)")
            #expect((refused["message"] as? String)?.contains("team 'platform'") == true, "\(refused)")
        }
        #expect(world.providerRequests.count == 2, "refused calls never reach the provider")
        let limited = server.aiLines.filter { $0["action"] as? String == "limit" }
        #expect(limited.count == 2)
        #expect(limited.allSatisfy { Self.int($0["status"]) == 429 && Self.int($0["budget_remaining"]) == 6 }, "\(limited)")

        // Restarting keeps the usage: still refused.
        world.servers[0].process.signal(SIGTERM)
        #expect(try await world.servers[0].process.waitForExit(timeout: 15) == 0)
        world.servers.removeAll()
        let again = try await Self.startServer(world, name: "b")
        let still = try await Self.sdk("openai", baseURL: again.ai + "/v1", apiKey: Self.tokens["agent-1"] ?? "")
        #expect(Self.int(still["status"]) == 429, "\(still)")
    }

    @Test func unknownTokensAndUnknownModelsAreRefusedInTheProvidersShape() async throws {
        let world = try await Self.makeWorld(budgets: "    []")
        defer { Task { await world.stop() } }
        let server = try await Self.startServer(world)
        let unknown = try await Self.sdk("anthropic", baseURL: server.ai, apiKey: "not-a-token")
        #expect(unknown["error"] as? String == "AuthenticationError", "\(unknown)")
        let model = try await Self.sdk("openai", baseURL: server.ai + "/v1", apiKey: Self.tokens["agent-1"] ?? "", model: "gpt-nonexistent")
        // One OpenAI-format provider is configured, so an unlisted model goes there.
        #expect(model["ok"] as? Bool == true, "\(model)")
        // An OpenAI-format field with no Anthropic counterpart is refused by name, never dropped.
        let crossed = try await Self.sdk("openai", baseURL: server.ai + "/v1", apiKey: Self.tokens["agent-1"] ?? "", model: "claude-test",
                                         extra: ["--extra-body", #"{"logprobs": true}"#])
        #expect(crossed["error"] as? String == "BadRequestError", "\(crossed)")
        #expect((crossed["message"] as? String ?? "").contains("logprobs"), "\(crossed)")
        let models = try await Curl.fetch(server.ai + "/v1/models", proxy: nil, extra: ["-H", "Authorization: Bearer \(Self.tokens["agent-1"] ?? "")"])
        #expect(models.status == 200)
        #expect(models.bodyText.contains(#""id":"claude-test""#) && models.bodyText.contains(#""id":"gpt-test""#), "\(models.bodyText)")
    }

    @Test func aCancelledStreamIsChargedForWhatItProduced() async throws {
        let world = try await Self.makeWorld(budgets: "    - { team: platform, tokens: 100000, window: 1d }")
        defer { Task { await world.stop() } }
        let server = try await Self.startServer(world)
        let result = try await Self.sdk("openai", baseURL: server.ai + "/v1", apiKey: Self.tokens["agent-1"] ?? "", stream: true, maxTokens: 40,
                                        headers: ["x-fake-output-tokens:40", "x-fake-chunk-delay-ms:100"], extra: ["--cancel-after-chunks", "5"])
        #expect(result["cancelled"] as? Bool == true, "\(result)")
        var line: [String: Any]?
        for _ in 0..<50 where line == nil {
            try await Task.sleep(for: .milliseconds(100))
            line = server.aiLines.first
        }
        let charged = try #require(line, "\(server.auditLines)")
        #expect(charged["estimated"] as? Bool == true, "\(charged)")
        let output = Self.int(charged["output_tokens"]) ?? 0
        #expect(output >= 5 && output < 40, "charged for the chunks produced before the cancel: \(charged)")
    }

    @Test func aHardCapCutsTheStreamWithAProviderShapedError() async throws {
        let world = try await Self.makeWorld(budgets: "    - { identity: agent-hard, tokens: 60, window: 1d, enforce: hard }")
        defer { Task { await world.stop() } }
        let server = try await Self.startServer(world)
        // Reserves ~2 + 30 of 60; the provider reports 12 input and then streams 100 tokens.
        let result = try await Self.sdk("anthropic", baseURL: server.ai, apiKey: Self.tokens["agent-hard"] ?? "", stream: true, maxTokens: 30,
                                        headers: ["x-fake-output-tokens:100"])
        #expect(result["ok"] as? Bool == false, "\(result)")
        #expect((result["message"] as? String ?? "").contains("token budget reached during the stream") || "\(result)".contains("rate_limit_error"), "\(result)")
        let received = (result["text"] as? String ?? "").components(separatedBy: "tok").count - 1
        #expect(received > 10 && received < 100, "the stream ran until the cap: \(received) chunks")
        try await Task.sleep(for: .milliseconds(200))
        let line = try #require(server.aiLines.first)
        #expect(line["cut"] as? Bool == true && line["action"] as? String == "limit", "\(line)")
        let total = (Self.int(line["input_tokens"]) ?? 0) + (Self.int(line["output_tokens"]) ?? 0)
        #expect(total >= 60 && total <= 62, "charged what was sent, at the cap: \(line)")
    }

    @Test func concurrentCallsNearTheCapDoNotOvershootIt() async throws {
        // Each call reserves more than it uses (input reported as 1), so the cap can never be
        // crossed; 20 at once race for it.
        let world = try await Self.makeWorld(budgets: "    - { team: platform, tokens: 150, window: 1d }")
        defer { Task { await world.stop() } }
        let server = try await Self.startServer(world)
        let statuses = try await Self.concurrentCurls(20, targets: [server])
        #expect(statuses.contains(200) && statuses.contains(429), "\(statuses)")
        try await Task.sleep(for: .milliseconds(300))
        let used = server.aiLines.reduce(0) { $0 + (Self.int($1["input_tokens"]) ?? 0) + (Self.int($1["output_tokens"]) ?? 0) }
        #expect(used <= 150, "\(used) tokens charged against a cap of 150: \(statuses)")
    }

    /// `count` streamed chat calls at once with curl, spread over `targets`; their HTTP statuses.
    static func concurrentCurls(_ count: Int, targets: [World.Server]) async throws -> [Int] {
        let curl = try ProcessRunner.which("curl")
        return try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<count {
                let server = targets[index % targets.count]
                group.addTask {
                    let body = #"{"model":"gpt-test","stream":true,"max_tokens":10,"messages":[{"role":"user","content":"count to ten please"}]}"#
                    let result = try await ProcessRunner.run(curl, [
                        "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "30", server.ai + "/v1/chat/completions",
                        "-H", "Authorization: Bearer \(tokens["agent-1"] ?? "")", "-H", "content-type: application/json",
                        "-H", "x-fake-input-tokens: 1", "-H", "x-fake-chunk-delay-ms: 50", "--data", body,
                    ], timeout: 40)
                    return Int(result.stdoutText) ?? 0
                }
            }
            var statuses: [Int] = []
            for try await status in group { statuses.append(status) }
            return statuses
        }
    }

    @Test(arguments: [("openai", "claude-test"), ("anthropic", "gpt-test")], [false, true])
    func eachSDKCompletesAToolRoundTripWithAModelOfTheOtherProvider(sdk: (name: String, model: String), stream: Bool) async throws {
        let world = try await Self.makeWorld(budgets: "    - { team: platform, tokens: 100000, window: 1d }")
        defer { Task { await world.stop() } }
        let server = try await Self.startServer(world)
        let result = try await Self.sdk(sdk.name, baseURL: sdk.name == "openai" ? server.ai + "/v1" : server.ai, apiKey: Self.tokens["agent-1"] ?? "",
                                        stream: stream, maxTokens: 64, model: sdk.model, extra: ["--tool-round-trip"])
        #expect(result["ok"] as? Bool == true, "\(result)")
        #expect(result["tool_name"] as? String == "get_weather")
        #expect(result["tool_arguments"] as? [String: String] == ["city": "Paris", "unit": "celsius"], "\(result)")
        #expect(result["tool_finish_reason"] as? String == (sdk.name == "openai" ? "tool_calls" : "tool_use"))
        #expect(result["text"] as? String == "The tool said: 18 degrees and sunny", "the tool result reached the model: \(result)")
        #expect(result["finish_reason"] as? String == (sdk.name == "openai" ? "stop" : "end_turn"))
        if stream {
            #expect(Self.int(result["tool_fragments"]) == 4, "argument deltas pass one by one: \(result)")
        }
        // The SDK saw the provider's usage in its own format.
        let usage = result["usage"] as? [String: Any] ?? [:]
        #expect(Self.int(usage[sdk.name == "openai" ? "prompt_tokens" : "input_tokens"]) == 12, "\(result)")
        let requests = world.providerRequests
        #expect(requests.count == 2)
        let otherPath = sdk.name == "openai" ? "/v1/messages" : "/v1/chat/completions"
        #expect(requests.allSatisfy { $0["path"] as? String == otherPath }, "\(requests.map { $0["path"] ?? "" })")
        try await Task.sleep(for: .milliseconds(200))
        let lines = server.aiLines
        #expect(lines.count == 2 && lines.allSatisfy { Self.int($0["input_tokens"]) == 12 && Self.int($0["output_tokens"]) == 10 }, "\(lines)")
    }

    @Test func requestsLargerThanTheInspectionLimitAreRoutedWhole() async throws {
        let world = try await Self.makeWorld(budgets: "    []")
        defer { Task { await world.stop() } }
        let server = try await Self.startServer(world)
        // 2 MiB of prompt (an inline image is this size), over the 1 MiB inspection limit.
        let prompt = String(repeating: "x", count: 2 * 1_048_576)
        let bodyFile = world.pki.directory.appendingPathComponent("big.json").path
        for (path, model) in [("/v1/chat/completions", "gpt-test"), ("/v1/chat/completions", "claude-test")] {
            try #"{"model":"\#(model)","max_tokens":10,"messages":[{"role":"user","content":"\#(prompt)"}]}"#
                .write(toFile: bodyFile, atomically: true, encoding: .utf8)
            let response = try await Curl.fetch(server.ai + path, proxy: nil, extra: [
                "-H", "Authorization: Bearer \(Self.tokens["agent-1"] ?? "")", "-H", "content-type: application/json", "--data-binary", "@" + bodyFile,
            ])
            #expect(response.status == 200, "\(model): \(response.bodyText.prefix(300))")
            let forwarded = world.providerRequests.last?["body"] as? [String: Any]
            let content = ((forwarded?["messages"] as? [[String: Any]])?.first?["content"] as? String) ?? ""
            #expect(content.count == prompt.count, "the whole prompt reached the provider (\(model))")
        }
    }

    @Test func aFailingProviderFallsBackBeforeTheCallerSeesAByte() async throws {
        let world = try await Self.makeWorld(budgets: "    []")
        defer { Task { await world.stop() } }
        // A second provider that answers every request with 500, and one nobody listens on.
        let failFile = world.pki.directory.appendingPathComponent("fail").path
        try "500".write(toFile: failFile, atomically: true, encoding: .utf8)
        let broken = try await FakeLLM(pki: world.pki, extra: ["--fail-file", failFile])
        defer { broken.stop() }
        let closed = try RulesUpdateTests.freePort()
        world.extraProviders = """
                broken: { format: openai, base_url: "https://localhost:\(broken.port)/v1", api_key_env: FAKE_PROVIDER_KEY }
                nowhere: { format: openai, base_url: "https://localhost:\(closed)/v1" }
            """
        world.extraModels = """
                gpt-primary: { provider: broken, model: gpt-4o-2024-08-06, fallback: [gpt-unreachable, claude-test] }
                gpt-unreachable: { provider: nowhere }
            """
        let server = try await Self.startServer(world)
        for stream in [false, true] {
            let result = try await Self.sdk("openai", baseURL: server.ai + "/v1", apiKey: Self.tokens["agent-1"] ?? "", stream: stream, model: "gpt-primary")
            #expect(result["ok"] as? Bool == true, "\(result)")
            #expect((result["text"] as? String ?? "").contains("tok"), "\(result)")
        }
        try await Task.sleep(for: .milliseconds(200))
        let lines = server.aiLines
        #expect(lines.count == 2, "\(server.auditLines)")
        for line in lines {
            let attempts = line["attempts"] as? [String] ?? []
            #expect(attempts.count == 3, "\(line)")
            #expect(attempts.first == "broken/gpt-4o-2024-08-06: 500")
            #expect(attempts.dropFirst().first?.hasPrefix("nowhere/gpt-unreachable: ") == true)
            // The last fallback speaks the other format: the caller still gets an OpenAI answer.
            #expect(attempts.last == "fakeanthropic/claude-test: 200")
            #expect(line["provider"] as? String == "fakeanthropic" && Self.int(line["status"]) == 200, "\(line)")
            #expect(line["estimated"] == nil && Self.int(line["output_tokens"]) == 10, "the fallback's own usage report: \(line)")
        }
        let tried = broken.log()
        #expect(tried.count == 2 && tried.allSatisfy { ($0["body"] as? [String: Any])?["model"] as? String == "gpt-4o-2024-08-06" },
                "the alias reached the provider as its concrete model: \(tried)")
    }

    @Test func mcpServersNamedInAnLLMCallAreJudgedLikeDirectTraffic() async throws {
        let world = try await Self.makeWorld(budgets: "    []")
        defer { Task { await world.stop() } }
        let rules = world.pki.directory.appendingPathComponent("llm-mcp.yaml").path
        try """
            ruleset: llm-mcp
            version: "1"
            rules:
              - { id: allow-portal, match: { host: ["$portal"] }, action: allow }
              - { id: block-shadow, match: { host: [mcp.shadow.test], mcp: any }, action: block }
              - { id: other-to-portal, match: { mcp: any }, action: reroute, target: portal }
            """.write(toFile: rules, atomically: true, encoding: .utf8)
        world.extraTopLevel = "portal: https://portal.test/mcp\nrulesets: [\(rules)]"
        let server = try await Self.startServer(world)
        func call(_ url: String) async throws -> Curl.Response {
            let body = #"{"model":"claude-test","max_tokens":10,"messages":[{"role":"user","content":"list my issues"}],"mcp_servers":[{"type":"url","url":"\#(url)","name":"tracker"}]}"#
            return try await Curl.fetch(server.ai + "/v1/messages", proxy: nil, extra: [
                "-H", "x-api-key: \(Self.tokens["agent-1"] ?? "")", "-H", "content-type: application/json",
                "-H", "anthropic-beta: mcp-client-2025-04-04", "--data", body,
            ])
        }
        let blocked = try await call("https://mcp.shadow.test/mcp")
        #expect(blocked.status == 403, "\(blocked.bodyText)")
        #expect(blocked.bodyText.contains("block-shadow"), "\(blocked.bodyText)")
        #expect(world.providerRequests.isEmpty, "a blocked call never reaches the provider")

        let swapped = try await call("https://mcp.unknown.test/mcp")
        #expect(swapped.status == 200, "\(swapped.bodyText)")
        let forwarded = try #require(world.providerRequests.last?["body"] as? [String: Any])
        let servers = forwarded["mcp_servers"] as? [[String: Any]]
        #expect(servers?.first?["url"] as? String == "https://portal.test/mcp", "the provider is sent to the portal: \(forwarded)")

        let portal = try await call("https://portal.test/mcp")
        #expect(portal.status == 200)
        try await Task.sleep(for: .milliseconds(200))
        let lines = server.auditLines.filter { $0["path"] as? String == "/v1/messages" }
        #expect(lines.map { $0["action"] as? String } == ["block", "reroute", "allow"], "\(lines)")
        #expect(lines.allSatisfy { ($0["detections"] as? [String])?.contains("MCP in LLM request") == true }, "\(lines)")
        #expect(lines.dropFirst().first?["target"] as? String == "https://portal.test/mcp")
    }

    /// A provider-run MCP connector (OpenAI `type: mcp` with `connector_id`) names no URL to swap for
    /// the portal: by default the call is refused in the provider's error shape, naming the rule;
    /// with `inspection.mcp_connectors: strip` the tool is taken out and the call goes on. Both on the
    /// `ai` listener and intercepted through the explicit proxy.
    @Test func mcpConnectorsInAnLLMCallAreRefusedOrStripped() async throws {
        let world = try await Self.makeWorld(budgets: "    []")
        defer { Task { await world.stop() } }
        let rules = world.pki.directory.appendingPathComponent("connectors.yaml").path
        try """
            ruleset: connectors
            version: "1"
            rules:
              - { id: allow-portal, match: { host: ["$portal"] }, action: allow }
              - { id: mcp-to-portal, match: { mcp: any }, action: reroute, target: portal }
            """.write(toFile: rules, atomically: true, encoding: .utf8)
        let body = #"{"model":"gpt-test","input":"summarise my files","tools":[{"type":"function","name":"lookup","parameters":{"type":"object"}},{"type":"mcp","server_label":"Dropbox","connector_id":"connector_dropbox","authorization":"tok","require_approval":"never"}]}"#
        func call(_ server: World.Server, intercepted: Bool) async throws -> Curl.Response {
            let headers = ["-H", "content-type: application/json", "--data", body]
            if intercepted {
                return try await Curl.fetch("https://localhost:\(world.providerPort)/v1/responses", proxy: "http://127.0.0.1:\(server.proxyPort)", extra: [
                    "--cacert", server.dir.appendingPathComponent("state/ca.pem").path, "-H", "authorization: Bearer \(Self.providerKey)",
                ] + headers)
            }
            return try await Curl.fetch(server.ai + "/v1/responses", proxy: nil, extra: ["-H", "authorization: Bearer \(Self.tokens["agent-1"] ?? "")"] + headers)
        }

        world.extraTopLevel = "portal: https://portal.test/mcp\nrulesets: [\(rules)]"
        let refusing = try await Self.startServer(world, name: "refuse")
        for intercepted in [false, true] {
            let refused = try await call(refusing, intercepted: intercepted)
            #expect(refused.status == 403, "\(refused.bodyText)")
            let error = try #require((try? JSONSerialization.jsonObject(with: refused.body)) as? [String: Any])["error"] as? [String: Any]
            #expect(error?["code"] as? String == "blocked_by_policy", "the OpenAI SDK's error shape: \(refused.bodyText)")
            let message = error?["message"] as? String ?? ""
            #expect(message.contains("connector_dropbox") && message.contains("mcp-to-portal"), "\(message)")
        }
        #expect(world.providerRequests.isEmpty, "a refused call never reaches the provider")

        world.extraTopLevel += "\ninspection:\n  mcp_connectors: strip"
        let stripping = try await Self.startServer(world, name: "strip")
        for intercepted in [false, true] {
            let stripped = try await call(stripping, intercepted: intercepted)
            #expect(stripped.status == 200, "\(stripped.bodyText)")
            let forwarded = try #require(world.providerRequests.last?["body"] as? [String: Any])
            let tools = forwarded["tools"] as? [[String: Any]] ?? []
            #expect(tools.map { $0["type"] as? String } == ["function"], "only the connector was taken out: \(forwarded)")
        }
        try await Task.sleep(for: .milliseconds(200))
        let lines = stripping.auditLines.filter { ($0["path"] as? String)?.hasSuffix("/v1/responses") == true }
        #expect(lines.count == 2 && lines.allSatisfy {
            $0["action"] as? String == "log" && ($0["detections"] as? [String])?.contains("MCP connector: connector_dropbox") == true
        }, "\(lines)")
    }

    // MARK: PostgreSQL

    static var postgresURL: String? { ProcessInfo.processInfo.environment["MESHGATE_TEST_POSTGRES_URL"] }

    @Test(.enabled(if: postgresURL != nil, "set MESHGATE_TEST_POSTGRES_URL (./scripts/postgres-test-db.sh)"))
    func twoNodesOnOnePostgresShareABudgetWithoutOvershoot() async throws {
        let url = try #require(Self.postgresURL)
        let team = "pg-\(UInt32.random(in: 0...UInt32.max))"
        // A team of its own, so earlier runs against the same database do not count.
        let world = try await Self.makeWorld(ledger: url, budgets: "    - { team: \(team), tokens: 150, window: 1d }")
        world.team = team
        defer { Task { await world.stop() } }
        let a = try await Self.startServer(world, name: "a")
        let b = try await Self.startServer(world, name: "b")
        for node in [a, b] {
            let warm = try await Self.sdk("openai", baseURL: node.ai + "/v1", apiKey: Self.tokens["agent-1"] ?? "")
            #expect(warm["ok"] as? Bool == true, "each node serves from the shared ledger: \(warm)")
        }
        let statuses = try await Self.concurrentCurls(20, targets: [a, b])
        #expect(statuses.contains(429), "\(statuses)")
        try await Task.sleep(for: .milliseconds(300))
        let used = try await Self.usedByTeam(team, config: b.config)
        #expect(used > 0 && used <= 150, "two nodes charged \(used) against one cap of 150: \(statuses)")
    }

    /// Budgets here use UTC-aligned windows (`1d`, the calendar month), so a test that runs across
    /// midnight UTC finds its earlier calls in the previous window: exact totals hold only when it
    /// started and ended on the same UTC day (a CI run crossed midnight and failed three tests).
    static func sameUTCDay(since start: Date) -> Bool {
        Int(start.timeIntervalSince1970) / 86_400 == Int(Date().timeIntervalSince1970) / 86_400
    }

    static func usedByTeam(_ team: String, config: String) async throws -> Int {
        let usage = try await ProcessRunner.run(binary, ["usage", "--json", "--config", config])
        let report = try JSONSerialization.jsonObject(with: Data(usage.stdoutText.utf8)) as? [String: Any]
        let row = (report?["teams"] as? [[String: Any]])?.first { $0["team"] as? String == team }
        return int(row?["used"]) ?? 0
    }

    @Test(.enabled(if: postgresURL != nil, "set MESHGATE_TEST_POSTGRES_URL (./scripts/postgres-test-db.sh)"))
    func aLedgerThatDiesGives503WhenFailingClosed() async throws {
        let url = try #require(Self.postgresURL)
        // The ledger is reached through a TCP relay the test can kill.
        let relay = try StreamingClient(["python3", "-c", Self.relayScript, Self.postgresHostPort(url)])
        #expect(try await relay.waitForOutput(containing: "\n", timeout: 10))
        let relayPort = try #require(Int(relay.text.trimmingCharacters(in: .whitespacesAndNewlines)))
        let relayed = Self.replacingHostPort(url, with: "127.0.0.1:\(relayPort)")
        let world = try await Self.makeWorld(ledger: relayed, budgets: "    - { team: platform, tokens: 100000, window: 1d }")
        defer { Task { await world.stop() }; relay.terminate() }
        let server = try await Self.startServer(world)
        let ok = try await Self.sdk("openai", baseURL: server.ai + "/v1", apiKey: Self.tokens["agent-1"] ?? "")
        #expect(ok["ok"] as? Bool == true, "\(ok)")
        relay.terminate()
        _ = try? await relay.waitForExit(timeout: 5)
        let refused = try await Self.sdk("openai", baseURL: server.ai + "/v1", apiKey: Self.tokens["agent-1"] ?? "")
        #expect(Self.int(refused["status"]) == 503, "\(refused)")
        #expect((refused["message"] as? String ?? "").contains("fail_closed"), "\(refused)")
        let health = try await Curl.fetch("http://127.0.0.1:\(server.adminPort)/healthz", proxy: nil)
        #expect(health.status == 503 && health.bodyText.contains("ledger"), "\(health.bodyText)")
    }

    static func postgresHostPort(_ url: String) -> String {
        let components = URLComponents(string: url)
        return "\(components?.host ?? "127.0.0.1"):\(components?.port ?? 5432)"
    }

    static func replacingHostPort(_ url: String, with hostPort: String) -> String {
        guard var components = URLComponents(string: url), let colon = hostPort.lastIndex(of: ":") else { return url }
        components.host = String(hostPort[..<colon])
        components.port = Int(hostPort[hostPort.index(after: colon)...])
        return components.string ?? url
    }

    /// A TCP relay: listens on 127.0.0.1:argv[2] (default 0: any port), prints its port, forwards
    /// every connection to argv[1]. SIGUSR1 freezes it: nothing more is forwarded and new
    /// connections are accepted and left hanging (a database host that stopped answering).
    static let relayScript = """
        import socket, sys, threading, signal, time
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGUSR1])
        frozen = threading.Event()
        signal.signal(signal.SIGUSR1, lambda *_: frozen.set())
        host, port = sys.argv[1].rsplit(":", 1)
        server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", int(sys.argv[2]) if len(sys.argv) > 2 else 0)); server.listen(64)
        print(server.getsockname()[1], flush=True)
        held = []
        def pipe(a, b):
            try:
                while (data := a.recv(65536)):
                    while frozen.is_set():
                        time.sleep(1)
                    b.sendall(data)
            except OSError:
                pass
            finally:
                a.close(); b.close()
        while True:
            client, _ = server.accept()
            if frozen.is_set():
                held.append(client)
                continue
            upstream = socket.create_connection((host, int(port)))
            threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
        """
}
